// The worker's state: one analysis session (model + SAE + site) and the corpus index its dashboards use.
// Requests run one at a time, in arrival order: the ONNX session and the caches are not shared safely.
import { basename, join } from 'node:path';
import { analyzeText } from '../core/analysis/analyzeText';
import { CorpusIndex, featureDashboard } from '../core/analysis/dashboard';
import { attribute } from '../core/analysis/attribution';
import { generateSideBySide } from '../core/analysis/generation';
import { featureOccurrences } from '../core/analysis/occurrences';
import { AnalysisSession, type Loaders } from '../core/analysis/session';
import { steerText } from '../core/analysis/steerText';
import { compareCheckpoints } from '../core/compare/compareCheckpoints';
import { modelEvalSet } from '../core/compare/evalSets';
import { corpusEvalWindows } from '../core/store/evalWindows';
import type { FeatureBook } from '../core/features/featureBook';
import { readCorpusFiles } from '../core/features/corpusFiles';
import { indexPathFor } from '../core/features/sessionIndex';
import { openFeatureBook, type OpenedBook } from '../core/features/openBook';
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
/** The quick scan behind a dashboard while the feature index is not built yet (as dashboards were before it). */
const QUICK_SCAN_TOKENS = 4096;
const QUICK_SCAN_WINDOW = 64;

export class AnalysisEngine {
  private session?: AnalysisSession;
  /** The feature index of the loaded SAE (from beside it, or built from the corpus on first need). */
  private book?: { key: string; book: FeatureBook };
  /** The index being built in the background (its forward passes take turns with requests). */
  private building?: { key: string; promise: Promise<OpenedBook>; controller: AbortController; listeners: Set<(p: unknown) => void> };
  /** A quick scan of the corpus for dashboards while there is no index. */
  private quickScan?: { key: string; index: CorpusIndex };
  /** The index key last found missing or stale on disk. */
  private noIndex?: string;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: EngineOptions) {}

  /** `context`: the request's cancel signal and, for streamed answers, its progress channel. */
  handle<K extends WorkerRequest['kind']>(request: Extract<WorkerRequest, { kind: K }>, context: RequestContext): Promise<WorkerResults[K]> {
    const run = () =>
      this.exclusive(() => {
        throwIfAborted(context.signal);
        return dispatchRequest<WorkerRequest, WorkerResults, RequestContext, K>(this.handlers, request, context);
      });
    // Building an index runs beside the queue (its forward passes queue up one by one), so analyses and
    // dashboards keep answering meanwhile. A search needs the index: it waits for (or starts) that build first.
    if (request.kind === 'buildIndex') return this.buildInBackground((request as { corpusPath?: string }).corpusPath, context, true) as Promise<WorkerResults[K]>;
    if (request.kind === 'findFeatures') return this.buildInBackground(undefined, context, false).then(run);
    return run();
  }

  /** Runs `fn` after every request and forward pass queued before it. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** One handler per request kind: the protocol's WorkerResults fixes what each one returns. */
  private readonly handlers: RequestHandlers<WorkerRequest, WorkerResults, RequestContext> = {
    ping: async () => 'pong',
    load: async (request) => {
      // A background build must not run its next forward pass on a session about to be replaced.
      this.building?.controller.abort();
      const next = await AnalysisSession.open(request, this.options.root, this.options.loaders, this.session);
      this.session = next;
      this.closeBook();
      this.quickScan = undefined;
      // A current index beside the SAE gives labels and densities at once; none is built here.
      if (next.sae) await this.featureBook(next, undefined);
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
      const book = await this.featureBook(s, request.corpusPath);
      if (book) return book.dashboard(request.feature, { model: s.model.name, site: s.site, sae: sae.name }, sae.labels, request.examples);
      // No current index: a quick scan answers now; the host builds the index in the background (buildIndex).
      return this.quickDashboard(s, request.corpusPath, request.feature, request.examples, context.signal);
    },
    findFeatures: async (request, context) => {
      const s = await this.current();
      const sae = s.requireSae();
      const book = this.book?.book;
      if (!book) throw new Error('the feature index could not be opened');
      if (request.mode !== 'selection') return book.search(request.query, request.mode, sae.labels, request.limit);
      const analysed = await analyzeText(s.model, sae, s.site, request.query, { topK: 1, maxTokens: request.maxTokens, signal: context.signal });
      return book.featuresOn(analysed, sae.labels, request.limit);
    },
    buildIndex: async (request, context) => this.buildInBackground(request.corpusPath, context, true),
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
    this.noIndex = undefined;
    this.building?.controller.abort();
    this.building = undefined;
    this.book?.book.close();
    this.book = undefined;
  }

  private corpusOf(corpusPath: string | undefined): string {
    return corpusPath || join(this.options.root, 'models', 'sample-corpus');
  }

  private async quickDashboard(s: AnalysisSession, corpusPath: string | undefined, feature: number, examples: number, signal: AbortSignal) {
    const sae = s.requireSae();
    const corpus = this.corpusOf(corpusPath);
    const key = `${s.labelsDir}|${s.site}|${corpus}`;
    if (this.quickScan?.key !== key) {
      const docs = readCorpusFiles(corpus).documents;
      this.quickScan = { key, index: await CorpusIndex.build(s.model, sae, s.site, basename(corpus), docs, { maxTokens: QUICK_SCAN_TOKENS, windowTokens: QUICK_SCAN_WINDOW, signal }) };
    }
    const d = featureDashboard(s.model, sae, s.site, this.quickScan.index, feature, { examples, context: 8, logitTokens: 10 });
    const why = this.building?.key === key ? 'the feature index is being built' : 'there is no current feature index for this SAE and corpus yet';
    return { ...d, ...(sae.labels.has(feature) ? { labelSource: 'user' as const } : {}), indexPending: `${why}: this dashboard comes from a quick scan of ${this.quickScan.index.tokens.toLocaleString('en-US')} corpus tokens` };
  }

  /**
   * Opens the current index, or builds (and labels) it, while other requests go on: each forward pass of the
   * build waits its turn in the queue. A second caller for the same index joins the running build (and sees
   * its progress); loading another model or SAE cancels it. `rebuild` builds even when a current index exists.
   */
  private async buildInBackground(corpusPath: string | undefined, context: RequestContext, rebuild: boolean): Promise<WorkerResults['buildIndex']> {
    const s = await this.exclusive(() => this.current());
    const sae = s.requireSae();
    if (!s.labelsDir) throw new Error('the SAE has no folder to keep its feature index beside');
    const corpus = this.corpusOf(corpusPath);
    const key = `${s.labelsDir}|${s.site}|${corpus}`;
    if (!rebuild && this.book?.key === key) return { path: this.book.book.path, seconds: 0, liveFeatures: 0, labelled: this.book.book.autoLabels.size };
    // A build of the same index already running is joined, not restarted.
    if (this.building?.key !== key) {
      this.building?.controller.abort();
      const controller = new AbortController();
      const listeners = new Set<(p: unknown) => void>();
      const target = { model: s.model, sae, site: s.site, modelPath: s.modelPath, exclusive: <T>(fn: () => Promise<T>) => this.exclusive(fn) };
      const promise = openFeatureBook(target, s.labelsDir, corpus, { build: true, ...(rebuild ? { rebuild } : {}), onProgress: (p) => listeners.forEach((l) => l(p)), signal: controller.signal });
      const entry = { key, promise, controller, listeners };
      this.building = entry;
      promise.then(
        (opened) => {
          if (this.building === entry) this.building = undefined;
          if (this.noIndex === key) this.noIndex = undefined;
          if (this.session === s && opened.book) {
            if (this.book?.book !== opened.book) this.book?.book.close();
            this.book = { key, book: opened.book };
          } else opened.book?.close();
        },
        () => {
          if (this.building === entry) this.building = undefined;
        },
      );
    }
    const entry = this.building!;
    entry.listeners.add(context.progress);
    const cancel = () => entry.controller.abort();
    context.signal.addEventListener('abort', cancel);
    try {
      const opened = await entry.promise;
      return { path: opened.book?.path ?? indexPathFor(s.labelsDir), seconds: opened.built?.seconds ?? 0, liveFeatures: opened.built?.liveFeatures ?? 0, labelled: opened.built?.labelled ?? opened.book?.autoLabels.size ?? 0, ...(opened.built?.medianAuroc !== undefined ? { medianAuroc: opened.built.medianAuroc } : {}), ...(opened.built?.notSaved ? { notSaved: opened.built.notSaved } : {}) };
    } finally {
      entry.listeners.delete(context.progress);
      context.signal.removeEventListener('abort', cancel);
    }
  }

  /** The current feature book: the one open, or the index beside the SAE when it is current. Never builds. */
  private async featureBook(s: AnalysisSession, corpusPath: string | undefined): Promise<FeatureBook | undefined> {
    const corpus = this.corpusOf(corpusPath);
    const key = `${s.labelsDir}|${s.site}|${corpus}`;
    if (this.book?.key === key) return this.book.book;
    // Known missing or stale until a build finishes or something else is loaded: don't re-read it every time.
    if (this.noIndex === key || !s.labelsDir) return undefined;
    try {
      const opened = await openFeatureBook({ model: s.model, sae: s.requireSae(), site: s.site, modelPath: s.modelPath }, s.labelsDir, corpus, { build: false });
      if (opened.book) {
        this.book?.book.close();
        this.book = { key, book: opened.book };
        return opened.book;
      }
    } catch {
      // An unreadable index only means no automatic labels yet.
    }
    this.noIndex = key;
    return undefined;
  }

  /** Loads the defaults when nothing was loaded yet (e.g. the CLI, or a request racing the first load). */
  private async current(): Promise<AnalysisSession> {
    if (!this.session) {
      this.session = await AnalysisSession.open({}, this.options.root, this.options.loaders);
      if (this.session.sae) await this.featureBook(this.session, undefined);
    }
    return this.session;
  }

  async dispose(): Promise<void> {
    this.closeBook();
    await this.session?.dispose();
  }
}
