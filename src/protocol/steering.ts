// Interventions on SAE features, steered generation and exact attribution: the data that crosses the
// worker → host → webview boundaries, and the parser for interventions arriving from untrusted sides.
import { isRecord, type Parsed } from './validate';

export type InterventionOp =
  /** v = 0: the feature is ablated where it fires. */
  | { readonly kind: 'zero' }
  /** v = value at every chosen position, also where the feature did not fire. */
  | { readonly kind: 'clamp'; readonly value: number }
  /** v = factor·f. */
  | { readonly kind: 'scale'; readonly factor: number }
  /** v = f + amount: adds amount × the decoder direction. */
  | { readonly kind: 'add'; readonly amount: number };

export type PositionScope =
  | { readonly kind: 'all' }
  /** Token positions [start, end) (e.g. the selection). */
  | { readonly kind: 'range'; readonly start: number; readonly end: number }
  /** Every position from `start` on, generated tokens included. */
  | { readonly kind: 'from'; readonly start: number };

export interface Intervention {
  readonly feature: number;
  readonly op: InterventionOp;
  readonly positions: PositionScope;
}

export interface SamplingOptions {
  /** 0 = greedy; otherwise logits are divided by it before the softmax. */
  readonly temperature: number;
  /** Keep the smallest set of most likely tokens whose probability reaches topP (1 = all). */
  readonly topP: number;
  readonly seed: number;
}

export interface GenerationStep {
  /** 0 for the first new token. */
  readonly index: number;
  /** Absent when the clean run is off. */
  readonly clean?: { readonly id: number; readonly token: string };
  /** kl: KL(clean ‖ steered) of the next-token distributions on the steered run's own context (nats). */
  readonly steered: { readonly id: number; readonly token: string; readonly kl: number };
}

export interface Continuation {
  readonly ids: readonly number[];
  readonly text: string;
  readonly tokens: readonly string[];
}

export interface GenerationResult {
  readonly prompt: string;
  readonly promptTokens: number;
  readonly clean: Continuation;
  readonly steered: Continuation & { readonly kl: readonly number[] };
  readonly interventions: readonly Intervention[];
  readonly sampling: SamplingOptions;
  /** Set when the context filled up and the window slid (or the prompt alone was longer). */
  readonly windowNote?: string;
  /** True when cancelled: the result holds the tokens made until then. */
  readonly cancelled: boolean;
  readonly elapsedMs: number;
}

export interface Effect {
  /** Drop of the target's logit. */
  readonly logit: number;
  /** Drop of the target's log-probability (nats). */
  readonly logProb: number;
}

export interface AttributionRow {
  /** A feature, or the SAE's reconstruction error (x − x̂) at the site. */
  readonly kind: 'feature' | 'error';
  readonly feature?: number;
  readonly label?: string;
  /** Feature activation at the position (0 when it fires only earlier); for the error row, ‖x − x̂‖ there. */
  readonly activation: number;
  /** Ablated at the position only; undefined for a feature that does not fire there. */
  readonly here?: Effect;
  /** Ablated at every position up to and including the position (when asked for). */
  readonly upTo?: Effect;
}

export interface JointEffect {
  /** The listed features ablated together (the error kept). */
  readonly joint: Effect;
  /** Σ of the single-feature effects. */
  readonly sumOfSingles: Effect;
}

export interface AttributionResult {
  readonly model: string;
  readonly site: string;
  readonly sae: string;
  /** Position in the text's tokens whose next-token prediction is explained. */
  readonly position: number;
  readonly token: string;
  readonly target: { readonly id: number; readonly token: string; readonly logit: number; readonly logProb: number; readonly probability: number };
  /** The clean prediction's top tokens. */
  readonly top: readonly { readonly id: number; readonly token: string; readonly probability: number }[];
  /** Ranked by |effect on the logit| (here, else up to the position), largest first. */
  readonly rows: readonly AttributionRow[];
  readonly here: JointEffect;
  readonly upTo?: JointEffect;
  /** Set when the position is beyond the context length: only the last `contextLength` tokens up to it are used. */
  readonly windowStart?: number;
  /** Ablations run in the batch (clean included). */
  readonly variants: number;
  readonly elapsedMs: number;
}

/** The token whose prediction is explained: an id, or typed text that must be one token. */
export type AttributionTarget = { readonly id: number } | { readonly text: string };

const MAX_INTERVENTIONS = 64;
const isIndex = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;
const isFinite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Shape checks only; the ranges that depend on the SAE and the text are checked where those are known. */
export function parseInterventions(value: unknown): Parsed<Intervention[]> {
  if (!Array.isArray(value)) return { ok: false, reason: 'interventions must be a list' };
  if (value.length > MAX_INTERVENTIONS) return { ok: false, reason: `at most ${MAX_INTERVENTIONS} interventions at once` };
  const out: Intervention[] = [];
  for (const [i, v] of value.entries()) {
    const bad = (why: string): Parsed<Intervention[]> => ({ ok: false, reason: `intervention ${i + 1}: ${why}` });
    if (!isRecord(v) || !isIndex(v.feature) || !isRecord(v.op) || !isRecord(v.positions)) return bad('needs a feature id, an operation and positions');
    const o = v.op;
    let op: InterventionOp;
    if (o.kind === 'zero') op = { kind: 'zero' };
    else if (o.kind === 'clamp' && isFinite(o.value)) op = { kind: 'clamp', value: o.value };
    else if (o.kind === 'scale' && isFinite(o.factor)) op = { kind: 'scale', factor: o.factor };
    else if (o.kind === 'add' && isFinite(o.amount)) op = { kind: 'add', amount: o.amount };
    else return bad(`operation ${JSON.stringify(o.kind)} needs a finite number (zero, clamp value, scale factor, add amount)`);
    const p = v.positions;
    let positions: PositionScope;
    if (p.kind === 'all') positions = { kind: 'all' };
    else if (p.kind === 'from' && isIndex(p.start)) positions = { kind: 'from', start: p.start };
    else if (p.kind === 'range' && isIndex(p.start) && isIndex(p.end)) positions = { kind: 'range', start: p.start, end: p.end };
    else return bad('positions must be all, from a token, or a range of tokens');
    out.push({ feature: v.feature, op, positions });
  }
  return { ok: true, value: out };
}

export function parseSampling(value: unknown): Parsed<SamplingOptions> {
  if (!isRecord(value) || !isFinite(value.temperature) || !isFinite(value.topP) || !isFinite(value.seed)) {
    return { ok: false, reason: 'sampling needs a temperature, a top-p and a seed' };
  }
  return { ok: true, value: { temperature: value.temperature, topP: value.topP, seed: value.seed } };
}
