// The worker's state: one analysis session (model + SAE + site) and the corpus index its dashboards use.
// Requests run one at a time, in arrival order: the ONNX session and the caches are not shared safely.
import { join } from 'node:path';
import { analyzeText } from '../core/analysis/analyzeText';
import { attribute } from '../core/analysis/attribution';
import { generateSideBySide } from '../core/analysis/generation';
import { featureOccurrences } from '../core/analysis/occurrences';
import { AnalysisSession, type Loaders } from '../core/analysis/session';
import { steerText } from '../core/analysis/steerText';
import { compareCheckpoints } from '../core/compare/compareCheckpoints';
import { modelEvalSet } from '../core/compare/evalSets';
import { corpusEvalWindows } from '../core/store/evalWindows';
import type { FeatureBook } from '../core/features/featureBook';
import { openFeatureBook } from '../core/features/openBook';
import { throwIfAborted } from '../core/util/abort';
import { dispatchRequest, type RequestContext, type RequestHandlers } from '../protocol/rpc';
import type { WorkerRequest, WorkerResults } from '../protocol/worker';

export interface EngineOptions {
  readonly root: string;
  readonly loaders: Loaders;
  /** Saves a label in the SAE's folder; returns the file written. */
  readonly writeLabel: (folder: string, feature: number, label: string) => Promise<string>;
}


/** Features per token sent when the token view may re-rank them (L0 of typical SAEs is about this). */
const RERANK_TOP_K = 32;

export class AnalysisEngine {
  private session?: AnalysisSession;
  /** The feature index of the loaded SAE (from beside it, or built from the corpus on first need). */
  private book?: { key: string; book: FeatureBook };
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
      this.closeBook();
      // A current index beside the SAE gives labels and densities at once; none is built here.
      if (next.sae) await this.featureBook(next, undefined, { build: false });
      return next.info;
    },
    analyze: async (request, { signal }) => {
      const s = await this.current();
      const book = this.book?.book;
      // With densities known, send enough features per token for the token view to re-rank and filter.
      const topK = book ? Math.max(request.topK, RERANK_TOP_K) : request.topK;
      const result = await analyzeText(s.model, s.requireSae(), s.site, request.text, { topK, maxTokens: request.maxTokens, signal });
      return book ? { ...book.annotate(result, s.requireSae().labels), displayTopK: request.topK } : result;
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
    showFeature: async (request, context) => {
      const s = await this.current();
      const sae = s.requireSae();
      const book = await this.featureBook(s, request.corpusPath, { build: true, context });
      return book.dashboard(request.feature, { model: s.model.name, site: s.site, sae: sae.name }, sae.labels, request.examples);
    },
    findFeatures: async (request, context) => {
      const s = await this.current();
      const sae = s.requireSae();
      const book = await this.featureBook(s, undefined, { build: true, context });
      if (request.mode !== 'selection') return book.search(request.query, request.mode, sae.labels, request.limit);
      const analysed = await analyzeText(s.model, sae, s.site, request.query, { topK: 1, maxTokens: request.maxTokens, signal: context.signal });
      return book.featuresOn(analysed, sae.labels, request.limit);
    },
    buildIndex: async (request, context) => {
      const s = await this.current();
      s.requireSae();
      const opened = await this.openBook(s, request.corpusPath, { build: true, rebuild: true, context });
      const built = opened.built!;
      return { path: opened.book!.path, ...built };
    },
    compare: async (request, { signal }) => {
      // Measured through the loaded model on the bundled sample corpus (or the given one): ΔLM loss included.
      const s = await this.current();
      const lm = s.lm;
      const corpusDir = request.corpusPath || join(this.options.root, 'models', 'sample-corpus');
      const windows = await corpusEvalWindows(lm, s.modelPath, corpusDir, { tokens: request.tokens, seed: 0, signal });
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

  private closeBook(): void {
    this.book?.book.close();
    this.book = undefined;
  }

  private async openBook(s: AnalysisSession, corpusPath: string | undefined, options: { build: boolean; rebuild?: boolean; context?: RequestContext }) {
    const sae = s.requireSae();
    if (!s.labelsDir) throw new Error('the SAE has no folder to keep its feature index beside');
    const corpus = corpusPath || join(this.options.root, 'models', 'sample-corpus');
    const key = `${s.labelsDir}|${s.site}|${corpus}`;
    const opened = await openFeatureBook({ model: s.model, sae, site: s.site, modelPath: s.modelPath }, s.labelsDir, corpus, {
      build: options.build,
      ...(options.rebuild ? { rebuild: true } : {}),
      onProgress: (p) => options.context?.progress(p),
      ...(options.context ? { signal: options.context.signal } : {}),
    });
    if (opened.book) {
      this.book?.book.close();
      this.book = { key, book: opened.book };
    }
    return opened;
  }

  /** The current feature book, opened (or, when `build`, built) on first need. */
  private async featureBook(s: AnalysisSession, corpusPath: string | undefined, options: { build: true; context?: RequestContext }): Promise<FeatureBook>;
  private async featureBook(s: AnalysisSession, corpusPath: string | undefined, options: { build: false }): Promise<FeatureBook | undefined>;
  private async featureBook(s: AnalysisSession, corpusPath: string | undefined, options: { build: boolean; context?: RequestContext }): Promise<FeatureBook | undefined> {
    const corpus = corpusPath || join(this.options.root, 'models', 'sample-corpus');
    if (this.book?.key === `${s.labelsDir}|${s.site}|${corpus}`) return this.book.book;
    try {
      const opened = await this.openBook(s, corpusPath, options);
      return opened.book;
    } catch (err) {
      // Without building, a missing or unreadable index only means no automatic labels yet.
      if (options.build) throw err;
      return undefined;
    }
  }

  /** Loads the defaults when nothing was loaded yet (e.g. the CLI, or a request racing the first load). */
  private async current(): Promise<AnalysisSession> {
    if (!this.session) {
      this.session = await AnalysisSession.open({}, this.options.root, this.options.loaders);
      if (this.session.sae) await this.featureBook(this.session, undefined, { build: false });
    }
    return this.session;
  }

  async dispose(): Promise<void> {
    this.closeBook();
    await this.session?.dispose();
  }
}
