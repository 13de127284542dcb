// The worker's state: one analysis session (model + SAE + site) and the corpus index its dashboards use.
// Requests run one at a time, in arrival order: the ONNX session and the caches are not shared safely.
import { join } from 'node:path';
import { analyzeText } from '../core/analysis/analyzeText';
import { attribute } from '../core/analysis/attribution';
import { generateSideBySide } from '../core/analysis/generation';
import { CorpusIndex, featureDashboard, readCorpus } from '../core/analysis/dashboard';
import { featureOccurrences } from '../core/analysis/occurrences';
import { AnalysisSession, type Loaders } from '../core/analysis/session';
import { steerText } from '../core/analysis/steerText';
import { compareCheckpoints } from '../core/compare/compareCheckpoints';
import { modelEvalSet } from '../core/compare/evalSets';
import { listCorpus } from '../core/store/corpus';
import { collectWindows } from '../core/store/harvest';
import { throwIfAborted } from '../core/util/abort';
import { dispatchRequest, type RequestContext, type RequestHandlers } from '../protocol/rpc';
import type { WorkerRequest, WorkerResults } from '../protocol/worker';

export interface EngineOptions {
  readonly root: string;
  readonly loaders: Loaders;
  /** Saves a label in the SAE's folder; returns the file written. */
  readonly writeLabel: (folder: string, feature: number, label: string) => Promise<string>;
}

const DASHBOARD_CORPUS_TOKENS = 4096;
const DASHBOARD_WINDOW_TOKENS = 64;

export class AnalysisEngine {
  private session?: AnalysisSession;
  private corpus?: { key: string; index: CorpusIndex };
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: EngineOptions) {}

  /** `context`: the request's cancel signal and, for streamed answers, its progress channel. */
  handle<K extends WorkerRequest['kind']>(request: Extract<WorkerRequest, { kind: K }>, context: RequestContext): Promise<WorkerResults[K]> {
    const run = this.queue.then(() => {
      throwIfAborted(context.signal);
      return dispatchRequest<WorkerRequest, WorkerResults, RequestContext, K>(this.handlers, request, context);
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** One handler per request kind: the protocol's WorkerResults fixes what each one returns. */
  private readonly handlers: RequestHandlers<WorkerRequest, WorkerResults, RequestContext> = {
    ping: async () => 'pong',
    load: async (request) => {
      const next = await AnalysisSession.open(request, this.options.root, this.options.loaders, this.session);
      this.session = next;
      this.corpus = undefined;
      return next.info;
    },
    analyze: async (request, { signal }) => {
      const s = await this.current();
      return analyzeText(s.model, s.requireSae(), s.site, request.text, { topK: request.topK, maxTokens: request.maxTokens, signal });
    },
    highlight: async (request, { signal }) => {
      const s = await this.current();
      return featureOccurrences(s.model, s.requireSae(), s.site, request.text, request.feature, request.maxTokens, signal);
    },
    steer: async (request, { signal }) => {
      const s = await this.current();
      return steerText(s.model, s.requireSae(), s.site, request.text, request.feature, request.value, {
        topK: request.topK,
        maxTokens: s.model.contextLength,
        signal,
      });
    },
    showFeature: async (request, { signal }) => {
      const s = await this.current();
      const sae = s.requireSae();
      const corpusPath = request.corpusPath || join(this.options.root, 'models', 'sample-corpus');
      const key = `${s.site}|${s.labelsDir}|${corpusPath}`;
      if (this.corpus?.key !== key) {
        const index = await CorpusIndex.build(s.model, sae, s.site, corpusPath, readCorpus(corpusPath), {
          maxTokens: DASHBOARD_CORPUS_TOKENS,
          windowTokens: DASHBOARD_WINDOW_TOKENS,
          signal,
        });
        this.corpus = { key, index };
      }
      return featureDashboard(s.model, sae, s.site, this.corpus.index, request.feature, { examples: request.examples, context: 8, logitTokens: 10 });
    },
    compare: async (request, { signal }) => {
      // Measured through the loaded model on the bundled sample corpus (or the given one): ΔLM loss included.
      const s = await this.current();
      const lm = s.lm;
      const tokenizer = lm.tokenizer;
      if (!tokenizer) throw new Error(`${s.modelPath} has no tokenizer.json`);
      const corpusDir = request.corpusPath || join(this.options.root, 'models', 'sample-corpus');
      const T = lm.info.contextLength;
      const windows = await collectWindows({
        corpus: listCorpus(corpusDir),
        tokenize: (text) => tokenizer.encode(text).ids,
        contextLength: T,
        separatorId: tokenizer.eosId ?? lm.info.eosId,
        maxTokens: Math.ceil(request.tokens / (T - 1)) * T,
        seed: 0,
      });
      if (windows.count === 0) throw new Error(`${corpusDir} holds fewer than ${T} tokens`);
      return compareCheckpoints(request.paths, modelEvalSet({ lm, modelPath: s.modelPath, corpusDir, windows, seed: 0, signal }));
    },
    attribute: async (request, { signal }) => {
      const s = await this.current();
      return attribute(s.model, s.requireSae(), s.site, request.text, { position: request.position, upTo: request.upTo, signal, ...(request.target ? { target: request.target } : {}) });
    },
    generate: async (request, { signal, progress }) => {
      const s = await this.current();
      return generateSideBySide(s.model, s.requireSae(), s.site, request.text, {
        maxNewTokens: request.maxNewTokens,
        interventions: request.interventions,
        sampling: request.sampling,
        signal,
        onStep: (step) => progress(step),
      });
    },
    setLabel: async (request) => {
      const s = await this.current();
      const sae = s.requireSae();
      if (!s.labelsDir) throw new Error('the SAE has no folder to save labels beside');
      const saved = await this.options.writeLabel(s.labelsDir, request.feature, request.label);
      const labels = sae.labels as Map<number, string>;
      if (request.label) labels.set(request.feature, request.label);
      else labels.delete(request.feature);
      return { saved };
    },
  };

  /** Loads the defaults when nothing was loaded yet (e.g. the CLI, or a request racing the first load). */
  private async current(): Promise<AnalysisSession> {
    this.session ??= await AnalysisSession.open({}, this.options.root, this.options.loaders);
    return this.session;
  }

  async dispose(): Promise<void> {
    await this.session?.dispose();
  }
}
