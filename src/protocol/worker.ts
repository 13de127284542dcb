// Requests from the extension host to the analysis worker (worker_threads) and what each one answers.
// The worker serves them through one typed handler per kind (src/worker/engine.ts), so a request added
// here without a handler, or a handler answering another type, does not compile. The envelope (ids,
// progress, cancel) lives in ./rpc.
import type { AnalysisResult, FeatureDashboard, FeatureOccurrences, FeatureSearchHit, SteeringResult } from './analysis';
import type { CheckpointComparison, CheckpointMetrics, FeatureTimeline, SideBySide } from './compare';
import { parseHypothesis, type Hypothesis, type HypothesisResult } from './hypothesis';
import type { LoadResult, LoadSelection } from './session';
import { parseInterventions, parseSampling, type AttributionResult, type AttributionTarget, type GenerationResult, type Intervention, type SamplingOptions } from './steering';
import { isRecord, refuse, type Parsed } from './validate';

export type WorkerRequest =
  | { kind: 'ping' }
  | ({ kind: 'load' } & LoadSelection)
  | { kind: 'analyze'; text: string; topK: number; maxTokens: number }
  /** `saePath`: the dashboard of another SAE than the loaded one (same model), e.g. one side of a compared pair. */
  | { kind: 'showFeature'; feature: number; corpusPath?: string; examples: number; saePath?: string }
  | { kind: 'steer'; text: string; feature: number; value: number; topK: number }
  | { kind: 'highlight'; text: string; feature: number; maxTokens: number }
  | { kind: 'setLabel'; feature: number; label: string }
  /** Compare Checkpoints: the SAEs at `paths` on `tokens` tokens of the corpus through the loaded model. */
  | { kind: 'compare'; paths: string[]; tokens: number; corpusPath?: string }
  /** Evaluate: one SAE's metrics on `tokens` tokens of the corpus through the loaded model (cached beside it). */
  | { kind: 'evaluate'; path: string; tokens: number }
  /** The same text decomposed by two SAEs through the loaded model, matched features on one row. */
  | { kind: 'decompose'; paths: [string, string]; text: string; topK: number; maxTokens: number }
  /** The genealogy timeline of `feature` of the SAE at `path`, when it is a checkpoint of a run with a history. */
  | { kind: 'timeline'; path: string; feature: number }
  /** Exact attribution of the prediction at token `position` of `text`. */
  | { kind: 'attribute'; text: string; position: number; target?: AttributionTarget; upTo: boolean }
  /** Clean and steered continuations of `text`; each step is sent as progress (a GenerationStep). */
  | { kind: 'generate'; text: string; maxNewTokens: number; interventions: Intervention[]; sampling: SamplingOptions }
  | { kind: 'setLabel'; feature: number; label: string }
  | { kind: 'findFeatures'; query: string; mode: FeatureSearchMode; limit: number; maxTokens: number }
  | { kind: 'buildIndex'; corpusPath?: string }
  /** Hypothesis workbench: the features that best detect a rule (on the index's corpus, or on labelled examples). */
  | { kind: 'testHypothesis'; hypothesis: Hypothesis; top: number; probe: number; maxTokens: number };

/** text: labels, top tokens and contexts; token: features firing most on a token; selection: features firing on `query` (a text). */
export type FeatureSearchMode = 'text' | 'token' | 'selection';

/** Progress events of showFeature and buildIndex while a feature index is built or labelled. */
export interface IndexProgress {
  readonly phase: string;
  readonly done: number;
  readonly total: number;
}

export interface IndexBuilt {
  readonly path: string;
  readonly liveFeatures: number;
  readonly labelled: number;
  readonly medianAuroc?: number;
  readonly seconds: number;
  /** Set when the index could not be saved beside the SAE (it is kept for this session only). */
  readonly notSaved?: string;
}

export interface WorkerResults {
  ping: 'pong';
  load: LoadResult;
  analyze: AnalysisResult;
  showFeature: FeatureDashboard;
  steer: SteeringResult;
  highlight: FeatureOccurrences;
  attribute: AttributionResult;
  generate: GenerationResult;
  setLabel: { saved: string };
  compare: CheckpointComparison;
  decompose: SideBySide;
  evaluate: { metrics: CheckpointMetrics; cached: boolean };
  /** null: the SAE is not part of a run with two or more checkpoints. `at`: its index in the timeline. */
  timeline: (FeatureTimeline & { readonly feature: number; readonly at: number }) | null;
  findFeatures: readonly FeatureSearchHit[];
  buildIndex: IndexBuilt;
  testHypothesis: HypothesisResult;
}

/** Error codes the host reacts to specifically. */
export const WorkerErrorCodes = {
  noSae: 'noSae',
  saeMismatch: 'saeMismatch',
  tooLong: 'tooLong',
} as const;

const isNonNegInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;
const isPosInt = (v: unknown): v is number => isNonNegInt(v) && v > 0;
const isOptString = (v: unknown) => v === undefined || typeof v === 'string';
const ok = (request: WorkerRequest): Parsed<WorkerRequest> => ({ ok: true, value: request });

/** The worker checks what it is asked to do: a bad request becomes an error reply, not a crash. */
export function parseWorkerRequest(value: unknown): Parsed<WorkerRequest> {
  if (!isRecord(value)) return refuse('request is not an object');
  const r = value;
  switch (r.kind) {
    case 'ping':
      return ok({ kind: 'ping' });
    case 'load':
      if (!isOptString(r.modelPath) || !isOptString(r.saePath) || !isOptString(r.saeHook) || !isOptString(r.site) || !isOptString(r.siteOut) || !isOptString(r.modelVariant)) {
        return refuse('load: paths must be strings');
      }
      return ok({
        kind: 'load',
        modelPath: r.modelPath as string | undefined,
        saePath: r.saePath as string | undefined,
        saeHook: r.saeHook as string | undefined,
        site: r.site as string | undefined,
        ...(r.siteOut !== undefined ? { siteOut: r.siteOut as string } : {}),
        ...(r.modelVariant !== undefined ? { modelVariant: r.modelVariant as string } : {}),
      });
    case 'analyze':
      if (typeof r.text !== 'string' || !isPosInt(r.topK) || !isPosInt(r.maxTokens)) return refuse('analyze: needs text, topK, maxTokens');
      return ok({ kind: 'analyze', text: r.text, topK: r.topK, maxTokens: r.maxTokens });
    case 'showFeature':
      if (!isNonNegInt(r.feature) || !isPosInt(r.examples) || !isOptString(r.corpusPath) || !isOptString(r.saePath)) return refuse('showFeature: needs feature, examples');
      return ok({ kind: 'showFeature', feature: r.feature, examples: r.examples, corpusPath: r.corpusPath as string | undefined, ...(r.saePath !== undefined ? { saePath: r.saePath as string } : {}) });
    case 'steer':
      if (typeof r.text !== 'string' || !isNonNegInt(r.feature) || typeof r.value !== 'number' || !Number.isFinite(r.value) || !isPosInt(r.topK)) {
        return refuse('steer: needs text, feature, finite value, topK');
      }
      return ok({ kind: 'steer', text: r.text, feature: r.feature, value: r.value, topK: r.topK });
    case 'highlight':
      if (typeof r.text !== 'string' || !isNonNegInt(r.feature) || !isPosInt(r.maxTokens)) return refuse('highlight: needs text, feature, maxTokens');
      return ok({ kind: 'highlight', text: r.text, feature: r.feature, maxTokens: r.maxTokens });
    case 'attribute': {
      const t = r.target;
      const target = t === undefined ? undefined : isRecord(t) && isNonNegInt(t.id) ? { id: t.id } : isRecord(t) && typeof t.text === 'string' ? { text: t.text } : null;
      if (typeof r.text !== 'string' || !isNonNegInt(r.position) || typeof r.upTo !== 'boolean' || target === null) return refuse('attribute: needs text, position, upTo, and a target id or text if any');
      return ok({ kind: 'attribute', text: r.text, position: r.position, upTo: r.upTo, ...(target ? { target } : {}) });
    }
    case 'generate': {
      const interventions = parseInterventions(r.interventions);
      const sampling = parseSampling(r.sampling);
      if (!interventions.ok) return refuse(`generate: ${interventions.reason}`);
      if (!sampling.ok) return refuse(`generate: ${sampling.reason}`);
      if (typeof r.text !== 'string' || !isPosInt(r.maxNewTokens)) return refuse('generate: needs text and maxNewTokens');
      return ok({ kind: 'generate', text: r.text, maxNewTokens: r.maxNewTokens, interventions: interventions.value, sampling: sampling.value });
    }
    case 'setLabel':
      if (!isNonNegInt(r.feature) || typeof r.label !== 'string') return refuse('setLabel: needs feature and label');
      return ok({ kind: 'setLabel', feature: r.feature, label: r.label });
    case 'compare':
      if (!Array.isArray(r.paths) || r.paths.length < 2 || !r.paths.every((p) => typeof p === 'string') || !isPosInt(r.tokens) || !isOptString(r.corpusPath)) {
        return refuse('compare: needs two or more SAE paths and tokens');
      }
      return ok({ kind: 'compare', paths: r.paths as string[], tokens: r.tokens, corpusPath: r.corpusPath as string | undefined });
    case 'evaluate':
      if (typeof r.path !== 'string' || !isPosInt(r.tokens)) return refuse('evaluate: needs path and tokens');
      return ok({ kind: 'evaluate', path: r.path, tokens: r.tokens });
    case 'decompose':
      if (!Array.isArray(r.paths) || r.paths.length !== 2 || !r.paths.every((p) => typeof p === 'string') || typeof r.text !== 'string' || !isPosInt(r.topK) || !isPosInt(r.maxTokens)) {
        return refuse('decompose: needs two SAE paths, text, topK, maxTokens');
      }
      return ok({ kind: 'decompose', paths: [r.paths[0] as string, r.paths[1] as string], text: r.text, topK: r.topK, maxTokens: r.maxTokens });
    case 'timeline':
      if (typeof r.path !== 'string' || !isNonNegInt(r.feature)) return refuse('timeline: needs path and feature');
      return ok({ kind: 'timeline', path: r.path, feature: r.feature });
    case 'findFeatures':
      if (typeof r.query !== 'string' || !['text', 'token', 'selection'].includes(r.mode as string) || !isPosInt(r.limit) || !isPosInt(r.maxTokens)) {
        return refuse('findFeatures: needs query, mode (text | token | selection), limit, maxTokens');
      }
      return ok({ kind: 'findFeatures', query: r.query, mode: r.mode as FeatureSearchMode, limit: r.limit, maxTokens: r.maxTokens });
    case 'buildIndex':
      if (!isOptString(r.corpusPath)) return refuse('buildIndex: corpusPath must be a string');
      return ok({ kind: 'buildIndex', corpusPath: r.corpusPath as string | undefined });
    case 'testHypothesis': {
      const h = parseHypothesis(r.hypothesis);
      if (!h.ok) return refuse(`testHypothesis: ${h.reason}`);
      if (!isPosInt(r.top) || !Number.isInteger(r.probe) || (r.probe as number) < 0 || !isPosInt(r.maxTokens)) return refuse('testHypothesis: needs top, probe, maxTokens');
      return ok({ kind: 'testHypothesis', hypothesis: h.value, top: r.top, probe: r.probe as number, maxTokens: r.maxTokens });
    }
    default:
      return refuse(`unknown request kind ${JSON.stringify(r.kind)}`);
  }
}
