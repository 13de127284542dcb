// The token view's state: pure data and a reducer over host messages and local UI actions, so it is
// unit-testable in Node. Rendering reads it; nothing here touches the DOM.
import type { AnalysisResult, FeatureDashboard, FeatureHit, SteeringResult, TokenAnalysis } from '../../../src/protocol/analysis';
import type { ModelInfo, SaeInfo } from '../../../src/protocol/session';
import type { AttributionResult, GenerationResult, GenerationStep } from '../../../src/protocol/steering';
import type { HostToWebview } from '../../../src/protocol/webview';

export interface TokenViewState {
  readonly status?: { readonly model?: ModelInfo; readonly sae?: SaeInfo; readonly site?: string };
  readonly analysis?: AnalysisResult;
  /** Text being analysed right now (shown as a busy line). */
  readonly analyzing?: string;
  readonly focused: number;
  readonly selectedFeature: number | null;
  readonly error?: string;
  readonly steering?: SteeringResult;
  readonly dashboard?: FeatureDashboard;
  /** "Why this prediction?": the result, or the token being attributed. */
  readonly attribution?: AttributionResult;
  readonly attributing?: number;
  /** The steering form, open from a token (with a feature filled in when opened from a dashboard). */
  readonly steerForm?: { readonly position: number; readonly feature?: number };
  /** Streamed steps of the current (or last) generation. */
  readonly generation?: { readonly steps: readonly GenerationStep[]; readonly running: boolean; readonly result?: GenerationResult };
  /** Labels saved during this session (override those in the analysis). */
  readonly labels: Readonly<Record<number, string>>;
  /** How the focused token's features are ordered. */
  readonly rankBy: RankBy;
  /** Leave out features that fire on at least DENSE_DENSITY of the indexed corpus. */
  readonly hideDense: boolean;
}

export type RankBy = 'activation' | 'share' | 'surprise';
export const DENSE_DENSITY = 0.1;

export type UiAction =
  | { type: 'focus'; index: number }
  | { type: 'move'; to: 'next' | 'prev' | 'home' | 'end' }
  | { type: 'dismissError' }
  | { type: 'generationStarted' }
  | { type: 'closeSteerForm' }
  | { type: 'rankBy'; rankBy: RankBy }
  | { type: 'hideDense'; hide: boolean };

export const initialState: TokenViewState = { focused: 0, selectedFeature: null, labels: {}, rankBy: 'activation', hideDense: false };

export function reduce(state: TokenViewState, action: HostToWebview | UiAction): TokenViewState {
  const count = state.analysis?.tokens.length ?? 0;
  const clamp = (i: number) => (count === 0 ? 0 : Math.max(0, Math.min(count - 1, i)));
  switch (action.type) {
    case 'status':
      return { ...state, status: { model: action.model, sae: action.sae, site: action.site } };
    case 'analyzing':
      return { ...state, analyzing: action.text, error: undefined, dashboard: undefined };
    case 'analysis':
      return {
        ...state,
        analysis: action.result,
        analyzing: undefined,
        error: undefined,
        focused: 0,
        selectedFeature: null,
        steering: undefined,
        attribution: undefined,
        attributing: undefined,
        steerForm: undefined,
        generation: undefined,
      };
    case 'error':
      return {
        ...state,
        error: action.message,
        analyzing: undefined,
        attributing: undefined,
        ...(state.generation ? { generation: { ...state.generation, running: false } } : {}),
      };
    case 'attributing':
      return { ...state, attributing: action.position, error: undefined };
    case 'attribution':
      return { ...state, attribution: action.result, attributing: undefined };
    case 'steerFrom':
      return { ...state, steerForm: { position: clamp(action.position), ...(action.feature !== undefined ? { feature: action.feature } : {}) } };
    case 'closeSteerForm':
      return { ...state, steerForm: undefined };
    case 'generationStarted':
      return { ...state, generation: { steps: [], running: true }, error: undefined };
    case 'generationStep':
      return { ...state, generation: { steps: [...(state.generation?.steps ?? []), action.step], running: true } };
    case 'generationDone':
      return { ...state, generation: { steps: state.generation?.steps ?? [], running: false, ...(action.result ? { result: action.result } : {}) } };
    case 'featureSelected':
      return { ...state, selectedFeature: action.feature };
    case 'steering':
      return { ...state, steering: action.result };
    case 'dashboard':
      return { ...state, dashboard: action.dashboard, analyzing: undefined, error: undefined };
    case 'labelSaved':
      return { ...state, labels: { ...state.labels, [action.feature]: action.label } };
    case 'focus':
      return { ...state, focused: clamp(action.index) };
    case 'move': {
      const target = { next: state.focused + 1, prev: state.focused - 1, home: 0, end: count - 1 }[action.to];
      return { ...state, focused: clamp(target) };
    }
    case 'dismissError':
      return { ...state, error: undefined };
    case 'rankBy':
      return { ...state, rankBy: action.rankBy };
    case 'hideDense':
      return { ...state, hideDense: action.hide };
    case 'init':
    case 'comparing':
    case 'comparison':
    case 'trainingRun':
    case 'trainingUpdate':
    case 'decomposing':
    case 'sideBySide':
    case 'timeline':
    case 'hypothesisRunning':
    case 'hypothesisResult':
      return state;
  }
}

export function labelOf(state: TokenViewState, feature: number, fallback?: string): string | undefined {
  return state.labels[feature] ?? fallback;
}

/** Activation of `feature` at every token (0 where it is silent), from the sparse list of the analysis. */
export function featureTrack(analysis: AnalysisResult, feature: number): Float32Array {
  const { rowStart, featureIds, values } = analysis.active;
  const out = new Float32Array(analysis.tokens.length);
  for (let t = 0; t < out.length; t++) {
    for (let e = rowStart[t]; e < rowStart[t + 1]; e++) if (featureIds[e] === feature) out[t] = values[e];
  }
  return out;
}

/**
 * Colour strength per token in [0, 1]: with a selected feature, its activation over its own max;
 * otherwise the token's strongest activation over the text's max.
 */
export function intensities(state: TokenViewState): Float32Array {
  const a = state.analysis;
  if (!a) return new Float32Array(0);
  const raw = state.selectedFeature === null ? Float32Array.from(a.tokens, (t) => t.maxActivation) : featureTrack(a, state.selectedFeature);
  let max = 0;
  for (const v of raw) max = Math.max(max, v);
  return raw.map((v) => (max > 0 ? v / max : 0));
}

/** Short, visible form of a token (whitespace made visible). */
export function displayToken(text: string): string {
  if (text === '') return '∅';
  return text.replace(/\n/g, '↵').replace(/\t/g, '⇥').replace(/^ /, '·');
}

/** Activation weighted by rarity (−log firing density): what is distinctive about this token comes first. */
export function surpriseOf(hit: FeatureHit): number {
  return hit.activation * (hit.density !== undefined ? -Math.log(Math.max(hit.density, 1e-6)) : 1);
}

/** The focused token's feature rows: dense ones dropped when asked, ordered by the chosen measure, cut to the rows the user asked for. */
export function rankedFeatures(state: Pick<TokenViewState, 'rankBy' | 'hideDense'>, token: TokenAnalysis, displayTopK?: number): FeatureHit[] {
  const key: (h: FeatureHit) => number = state.rankBy === 'share' ? (h) => h.share : state.rankBy === 'surprise' ? surpriseOf : (h) => h.activation;
  return token.features
    .filter((h) => !state.hideDense || h.density === undefined || h.density < DENSE_DENSITY)
    .sort((a, b) => key(b) - key(a) || a.id - b.id)
    .slice(0, displayTopK ?? token.features.length);
}
