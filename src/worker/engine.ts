// The worker's state: one analysis session (model + SAE + site) and the corpus index its dashboards use.
// Requests run one at a time, in arrival order: the ONNX session and the caches are not shared safely.
import { basename, join, resolve } from 'node:path';
import { analyzeText } from '../core/analysis/analyzeText';
import { CorpusIndex, featureDashboard } from '../core/analysis/dashboard';
import { attribute } from '../core/analysis/attribution';
import { generateSideBySide } from '../core/analysis/generation';
import { featureOccurrences } from '../core/analysis/occurrences';
import { AnalysisSession, type Loaders } from '../core/analysis/session';
import { steerText } from '../core/analysis/steerText';
import { compareCheckpoints, evaluateCheckpoint } from '../core/compare/compareCheckpoints';
import { modelEvalSet } from '../core/compare/evalSets';
import { featureTimeline } from '../core/compare/genealogy';
import { matchFeatures } from '../core/compare/matchFeatures';
import { genealogyOf } from '../core/compare/runGenealogy';
import { listRunCheckpoints } from '../core/compare/runHistory';
import { sideBySide } from '../core/compare/sideBySide';
import { openSideSae, type SideSae } from '../core/compare/sideSae';
import type { Genealogy } from '../protocol/compare';
import { corpusEvalWindows } from '../core/store/evalWindows';
import type { FeatureBook } from '../core/features/featureBook';
import { readCorpusFiles } from '../core/features/corpusFiles';
import { indexPathFor, sessionEncoder } from '../core/features/sessionIndex';
import { describeHypothesis, type HypothesisResult } from '../protocol/hypothesis';
import { testExamples, testHypothesis } from '../core/features/hypothesis';
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
/** SAEs kept open beside the loaded one (a compared pair). */
const SIDE_SAES = 2;
/** Side-by-side rows pair features matched at this decoder cosine or above. */
const SIDE_BY_SIDE_MIN_COS = 0.5;

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
  /** SAEs opened beside the loaded one, newest last, each with its feature index once opened. */
  private side: { key: string; side: SideSae; book?: FeatureBook; quick?: CorpusIndex }[] = [];
  private genealogy?: { key: string; genealogy: Genealogy };

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
    if (request.kind === 'testHypothesis') return this.runHypothesis(request as Extract<WorkerRequest, { kind: 'testHypothesis' }>, context) as Promise<WorkerResults[K]>;
    return run();
  }

  /**
   * The hypothesis workbench, beside the queue like a build (its forward passes take turns with requests). A
   * rule over tokens is tested on the index's corpus (built first when missing); labelled examples on their text.
   */
  private async runHypothesis(request: Extract<WorkerRequest, { kind: 'testHypothesis' }>, context: RequestContext): Promise<HypothesisResult> {
    const h = request.hypothesis;
    const options = { top: request.top, probeSize: request.probe, signal: context.signal, onProgress: context.progress };
    const s = await this.exclusive(() => this.current());
    const sae = s.requireSae();
    let result: Omit<HypothesisResult, 'description'>;
    let book: FeatureBook | undefined;
    if (h.kind === 'examples') {
      const analysed = await this.exclusive(() => analyzeText(s.model, sae, s.site, h.text, { topK: 1, maxTokens: request.maxTokens, signal: context.signal }));
      result = { source: `the examples' text (${analysed.tokens.length} tokens, every other one held out)`, ...(await testExamples(analysed, h.ranges, options)) };
      book = await this.exclusive(() => this.featureBook(s, undefined));
    } else {
      await this.buildInBackground(undefined, context, false);
      book = this.book?.book;
      if (!book) throw new Error('the feature index could not be opened');
      const encoder = sessionEncoder({ model: s.model, sae, site: s.site, exclusive: <T>(fn: () => Promise<T>) => this.exclusive(fn) });
      result = await testHypothesis(book.db, encoder, h, options);
    }
    const label = (feature: number) => {
      const l = book?.labelOf(feature, sae.labels)?.label ?? sae.labels.get(feature);
      return l ? { label: l } : {};
    };
    return {
      description: describeHypothesis(h),
      ...result,
      detectors: result.detectors.map((d) => ({ ...d, ...label(d.feature) })),
      ...(result.probe ? { probe: { ...result.probe, features: result.probe.features.map((f) => ({ ...f, ...label(f.feature) })) } } : {}),
    };
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
      if (request.saePath !== undefined && resolve(request.saePath) !== (s.saePath && resolve(s.saePath))) {
        const entry = this.sideSae(s, request.saePath);
        const corpus = this.corpusOf(request.corpusPath);
        const side = entry.side;
        const names = { model: s.model.name, site: side.site, sae: side.sae.name };
        if (!entry.book && !entry.quick) {
          const opened = await openFeatureBook(s.indexTarget(side.sae, side.site), side.folder, corpus, { build: false, signal: context.signal });
          if (opened.book) entry.book = opened.book;
          else {
            // No index beside it: a quick scan now (as the loaded SAE's first dashboard does); Build Feature
            // Index after loading that SAE makes the full one.
            const docs = readCorpusFiles(corpus).documents;
            entry.quick = await CorpusIndex.build(s.model, side.sae, side.site, basename(corpus), docs, { maxTokens: QUICK_SCAN_TOKENS, windowTokens: QUICK_SCAN_WINDOW, signal: context.signal });
          }
        }
        if (entry.book) return entry.book.dashboard(request.feature, names, side.sae.labels, request.examples);
        const d = featureDashboard(s.model, side.sae, side.site, entry.quick!, request.feature, { examples: request.examples, context: 8, logitTokens: 10 });
        return { ...d, indexPending: `there is no feature index beside ${side.sae.name}: this dashboard comes from a quick scan of ${entry.quick!.tokens.toLocaleString('en-US')} corpus tokens` };
      }
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
    testHypothesis: async (request, context) => this.runHypothesis(request, context),
    compare: async (request, { signal }) => {
      // Measured through the loaded model on the bundled sample corpus (or the given one): ΔLM loss included.
      const s = await this.current();
      const lm = s.lm;
      const corpusDir = request.corpusPath || join(this.options.root, 'models', 'sample-corpus');
      const windows = await corpusEvalWindows(lm, s.modelPath, corpusDir, { tokens: request.tokens, seed: 0, signal });
      return compareCheckpoints(request.paths, modelEvalSet({ lm, modelPath: s.modelPath, corpusDir, windows, seed: 0, signal }));
    },
    evaluate: async (request, { signal }) => {
      // The same evaluation set as Compare Checkpoints, so either one's cached metrics serve the other.
      const s = await this.current();
      const corpusDir = join(this.options.root, 'models', 'sample-corpus');
      const windows = await corpusEvalWindows(s.lm, s.modelPath, corpusDir, { tokens: request.tokens, seed: 0, signal });
      const { metrics, cached } = await evaluateCheckpoint(request.path, modelEvalSet({ lm: s.lm, modelPath: s.modelPath, corpusDir, windows, seed: 0, signal }), s.site);
      return { metrics, cached };
    },
    decompose: async (request, { signal }) => {
      const s = await this.current();
      const [a, b] = request.paths.map((p) => this.sideSae(s, p).side);
      if (a.site !== b.site) throw new Error(`${a.path} reads ${a.site} but ${b.path} reads ${b.site}: compare SAEs of one site`);
      const options = { topK: request.topK, maxTokens: request.maxTokens, signal };
      const ra = await analyzeText(s.model, a.sae, a.site, request.text, options);
      const rb = await analyzeText(s.model, b.sae, b.site, request.text, options);
      const dec = (x: SideSae) => ({ wDec: x.sae.inference.wDec, dSae: x.sae.inference.dSae, d: x.sae.inference.dOut });
      const matching = matchFeatures(dec(a), dec(b), { a: a.sae.name, b: b.sae.name });
      return sideBySide(ra, rb, matching, { a: { label: a.sae.name, path: a.path }, b: { label: b.sae.name, path: b.path } }, { minCos: SIDE_BY_SIDE_MIN_COS, topK: request.topK });
    },
    timeline: async (request) => {
      let list;
      try {
        list = listRunCheckpoints(request.path);
      } catch {
        return null;
      }
      const at = list.findIndex((c) => resolve(c.path) === resolve(request.path));
      if (list.length < 2 || at < 0) return null;
      // Cached per run while its checkpoints stay the same (a finished run's history does not change).
      const key = list.map((c) => `${c.path}@${c.step ?? ''}`).join('|');
      if (this.genealogy?.key !== key) this.genealogy = { key, genealogy: genealogyOf(list.map((c) => c.path)) };
      const g = this.genealogy.genealogy;
      const named = { ...g, checkpoints: g.checkpoints.map((c, i) => (list[i].step !== undefined ? { ...c, step: list[i].step, label: `step ${list[i].step}` } : c)) };
      return { ...featureTimeline(named, at, request.feature), feature: request.feature, at };
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

  /** The SAE at `path` opened beside the loaded one (kept for the next request; at most SIDE_SAES). */
  private sideSae(s: AnalysisSession, path: string): { key: string; side: SideSae; book?: FeatureBook; quick?: CorpusIndex } {
    const key = `${s.modelPath}|${resolve(path)}`;
    const found = this.side.find((x) => x.key === key);
    if (found) return found;
    const entry = { key, side: openSideSae(this.options.loaders, s.model, path, s.site) };
    this.side.push(entry);
    while (this.side.length > SIDE_SAES) this.side.shift()?.book?.close();
    return entry;
  }

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
      const target = { ...s.indexTarget(sae), exclusive: <T>(fn: () => Promise<T>) => this.exclusive(fn) };
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
      const opened = await openFeatureBook(s.indexTarget(), s.labelsDir, corpus, { build: false });
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
    for (const x of this.side.splice(0)) x.book?.close();
    await this.session?.dispose();
  }
}
