// Messages between the extension host and the analysis/training worker (worker_threads).
// Requests carry an id; the worker answers each with exactly one result or error, and may send
// progress events for the same id in between. The envelope and its bookkeeping live in ./rpc.
import type { AnalysisResult, FeatureDashboard, FeatureOccurrences, SteeringResult } from './analysis';
import type { ModelInfo, SaeInfo } from './webview';

export type HostToWorker = { type: 'request'; id: number; request: WorkerRequest } | { type: 'cancel'; id: number };

export interface LoadSelection {
  /** Model folder; undefined = bundled model. */
  readonly modelPath?: string;
  /** SAE folder or file in any supported format; undefined = bundled SAE (if present). */
  readonly saePath?: string;
  /** Which SAE of a folder holding several (e.g. sparsify's one sub-folder per hook point). */
  readonly saeHook?: string;
  /** Hook site; undefined = the SAE's own site. */
  readonly site?: string;
}

export type WorkerRequest =
  | { kind: 'ping' }
  | ({ kind: 'load' } & LoadSelection)
  | { kind: 'analyze'; text: string; topK: number; maxTokens: number }
  | { kind: 'showFeature'; feature: number; corpusPath?: string; examples: number }
  | { kind: 'steer'; text: string; feature: number; value: number; topK: number }
  | { kind: 'highlight'; text: string; feature: number; maxTokens: number }
  | { kind: 'setLabel'; feature: number; label: string };

export interface SiteInfo {
  readonly name: string;
  readonly dim: number;
}

/** What the user must choose before a loaded SAE can be used. */
export type SaeChoice =
  /** The path holds several SAEs: pick one (then load again with saeHook). */
  | { readonly kind: 'hook'; readonly path: string; readonly hooks: readonly string[] }
  /** The SAE names no hook, or one the model lacks (or of another width): pick the site (then load again with site). */
  | { readonly kind: 'site'; readonly path: string; readonly name: string; readonly hookName?: string; readonly dIn: number; readonly dSae: number };

export interface LoadResult {
  readonly model: ModelInfo;
  readonly sites: readonly SiteInfo[];
  readonly site: string;
  readonly sae?: SaeInfo;
  /** Why no SAE is active (missing bundled SAE, …); shown to the user with an offer to load one. */
  readonly saeProblem?: string;
  readonly saeChoice?: SaeChoice;
  /** Things the user should know about what was loaded (format approximations, site overrides). */
  readonly warnings?: readonly string[];
}

export interface WorkerResults {
  ping: 'pong';
  load: LoadResult;
  analyze: AnalysisResult;
  showFeature: FeatureDashboard;
  steer: SteeringResult;
  highlight: FeatureOccurrences;
  setLabel: { saved: string };
}

export type WorkerToHost =
  | { type: 'result'; id: number; result: unknown }
  | { type: 'error'; id: number; message: string; code?: string }
  | { type: 'progress'; id: number; progress: unknown };

/** Error codes the host reacts to specifically. */
export const WorkerErrorCodes = {
  noSae: 'noSae',
  saeMismatch: 'saeMismatch',
  tooLong: 'tooLong',
} as const;

const isNonNegInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;
const isPosInt = (v: unknown): v is number => isNonNegInt(v) && v > 0;
const isOptString = (v: unknown) => v === undefined || typeof v === 'string';

/** The worker checks what it is asked to do: a bad request becomes an error reply, not a crash. */
export function parseWorkerRequest(value: unknown): WorkerRequest | string {
  if (typeof value !== 'object' || value === null) return 'request is not an object';
  const r = value as Record<string, unknown>;
  switch (r.kind) {
    case 'ping':
      return { kind: 'ping' };
    case 'load':
      if (!isOptString(r.modelPath) || !isOptString(r.saePath) || !isOptString(r.saeHook) || !isOptString(r.site)) return 'load: paths must be strings';
      return {
        kind: 'load',
        modelPath: r.modelPath as string | undefined,
        saePath: r.saePath as string | undefined,
        saeHook: r.saeHook as string | undefined,
        site: r.site as string | undefined,
      };
    case 'analyze':
      if (typeof r.text !== 'string' || !isPosInt(r.topK) || !isPosInt(r.maxTokens)) return 'analyze: needs text, topK, maxTokens';
      return { kind: 'analyze', text: r.text, topK: r.topK, maxTokens: r.maxTokens };
    case 'showFeature':
      if (!isNonNegInt(r.feature) || !isPosInt(r.examples) || !isOptString(r.corpusPath)) return 'showFeature: needs feature, examples';
      return { kind: 'showFeature', feature: r.feature, examples: r.examples, corpusPath: r.corpusPath as string | undefined };
    case 'steer':
      if (typeof r.text !== 'string' || !isNonNegInt(r.feature) || typeof r.value !== 'number' || !Number.isFinite(r.value) || !isPosInt(r.topK)) {
        return 'steer: needs text, feature, finite value, topK';
      }
      return { kind: 'steer', text: r.text, feature: r.feature, value: r.value, topK: r.topK };
    case 'highlight':
      if (typeof r.text !== 'string' || !isNonNegInt(r.feature) || !isPosInt(r.maxTokens)) return 'highlight: needs text, feature, maxTokens';
      return { kind: 'highlight', text: r.text, feature: r.feature, maxTokens: r.maxTokens };
    case 'setLabel':
      if (!isNonNegInt(r.feature) || typeof r.label !== 'string') return 'setLabel: needs feature and label';
      return { kind: 'setLabel', feature: r.feature, label: r.label };
    default:
      return `unknown request kind ${JSON.stringify(r.kind)}`;
  }
}
