// Interventions on SAE features, applied at the site the SAE writes to with its reconstruction error kept:
//   x' = x + restore_lin(Σ_j (v_j − f_j)·W_dec[j])
// where f_j is feature j's activation on the clean input and v_j what the operation makes of it. x' − x̂'
// equals x − x̂, so an empty set of interventions (or one that sets a feature to its own value) leaves x
// exactly as it was. For a transcoder the features are read at its input site and the edit is made at its
// output site; the formula is the same.
import type { Intervention, InterventionOp, PositionScope } from '../../protocol/steering';
import type { EncodedRows, InferenceSae } from '../inference/inferenceSae';
import type { SiteCut } from '../runtime/types';
import type { Matrix } from '../tensor';
import { AnalysisError, type AnalysisModel, type AnalysisSae } from './ports';
import { featureValue } from './decompose';

export type { Intervention, InterventionOp, PositionScope };

/**
 * Values far beyond what a feature reaches are refused rather than run: a clamp or an added amount up to
 * ±LIMIT_FACTOR × the scale of the site's activations (at least ±1000), a factor up to ±LIMIT_SCALE.
 */
const LIMIT_FACTOR = 100;
const LIMIT_SCALE = 1000;

/** The range a clamp value or added amount must lie in, from the norm of the site's activations. */
export function valueLimit(acts: Matrix): number {
  let maxNorm = 0;
  for (let t = 0; t < acts.rows; t++) {
    let s = 0;
    for (let d = 0; d < acts.cols; d++) s += acts.data[t * acts.cols + d] ** 2;
    maxNorm = Math.max(maxNorm, Math.sqrt(s));
  }
  return Math.max(1000, LIMIT_FACTOR * maxNorm);
}

/** Checks a set of interventions; `limit` bounds clamp values and added amounts (see valueLimit). */
export function validateInterventions(interventions: readonly Intervention[], dSae: number, tokens: number, limit: number): void {
  const fmt = (v: number) => (Math.abs(v) >= 1e4 ? v.toExponential(2) : String(Math.round(v * 100) / 100));
  for (const iv of interventions) {
    if (!Number.isInteger(iv.feature) || iv.feature < 0 || iv.feature >= dSae) {
      throw new AnalysisError(`feature ${iv.feature} is outside 0..${dSae - 1}`, 'badIntervention');
    }
    const op = iv.op;
    const check = (name: string, v: number, bound: number) => {
      if (!Number.isFinite(v)) throw new AnalysisError(`feature ${iv.feature}: the ${name} must be a finite number, got ${v}`, 'badIntervention');
      if (Math.abs(v) > bound) {
        throw new AnalysisError(`feature ${iv.feature}: ${name} ${fmt(v)} is outside the sensible range −${fmt(bound)}..${fmt(bound)} for this site`, 'badIntervention');
      }
    };
    if (op.kind === 'clamp') check('clamp value', op.value, limit);
    else if (op.kind === 'add') check('added amount', op.amount, limit);
    else if (op.kind === 'scale') check('scale factor', op.factor, LIMIT_SCALE);
    else if (op.kind !== 'zero') throw new AnalysisError(`unknown intervention ${(op as { kind: string }).kind}`, 'badIntervention');
    const p = iv.positions;
    if (p.kind === 'range') {
      if (!Number.isInteger(p.start) || !Number.isInteger(p.end) || p.start < 0 || p.end <= p.start) {
        throw new AnalysisError(`positions ${p.start}..${p.end} are not a range of tokens`, 'badPosition');
      }
      if (p.start >= tokens) throw new AnalysisError(`position ${p.start} is beyond the text (${tokens} tokens, 0..${tokens - 1})`, 'badPosition');
    } else if (p.kind === 'from') {
      if (!Number.isInteger(p.start) || p.start < 0) throw new AnalysisError(`position ${p.start} is not a token position`, 'badPosition');
      if (p.start >= tokens) throw new AnalysisError(`position ${p.start} is beyond the text (${tokens} tokens, 0..${tokens - 1})`, 'badPosition');
    }
  }
}

export function inScope(scope: PositionScope, position: number): boolean {
  switch (scope.kind) {
    case 'all':
      return true;
    case 'range':
      return position >= scope.start && position < scope.end;
    case 'from':
      return position >= scope.start;
  }
}

/** The new value of a feature whose clean activation is f. */
export function applyOp(op: InterventionOp, f: number): number {
  switch (op.kind) {
    case 'zero':
      return 0;
    case 'clamp':
      return op.value;
    case 'scale':
      return op.factor * f;
    case 'add':
      return f + op.amount;
  }
}

/**
 * The site activations with the interventions applied. `acts`: the activations at the site edited (the
 * output site for a transcoder); `encoded`: the SAE's features of the same tokens; row t is absolute token
 * position `firstPosition + t` (a sliding window over a long generation starts later). Rows no
 * intervention touches are copied bit for bit.
 */
export function intervene(
  acts: Matrix,
  encoded: EncodedRows,
  sae: InferenceSae,
  interventions: readonly Intervention[],
  firstPosition = 0,
): Matrix {
  const dIn = sae.dOut; // the width the decoder writes (d_in for an SAE, d_out for a transcoder)
  if (acts.cols !== dIn) throw new Error(`interventions: the site has width ${acts.cols}, the SAE writes ${dIn}`);
  if (encoded.features.rows !== acts.rows) throw new Error(`interventions: ${encoded.features.rows} encoded rows for ${acts.rows} activations`);
  const out = Float32Array.from(acts.data);
  const step = new Float32Array(dIn);
  const origin = new Float32Array(dIn);
  for (let t = 0; t < acts.rows; t++) {
    step.fill(0);
    let touched = false;
    for (const iv of interventions) {
      if (!inScope(iv.positions, firstPosition + t)) continue;
      const f = featureValue(encoded.features, t, iv.feature);
      const delta = applyOp(iv.op, f) - f;
      if (delta === 0) continue;
      touched = true;
      const o = iv.feature * dIn;
      for (let d = 0; d < dIn; d++) step[d] += delta * sae.wDec[o + d];
    }
    if (!touched) continue;
    const restore = encoded.restore?.[t];
    if (restore) {
      // The restore is affine: its linear part is restore(v) − restore(0).
      restore(step);
      origin.fill(0);
      restore(origin);
      for (let d = 0; d < dIn; d++) step[d] -= origin[d];
    }
    const o = t * dIn;
    for (let d = 0; d < dIn; d++) out[o + d] += step[d];
  }
  return { data: out, rows: acts.rows, cols: acts.cols };
}

/**
 * The run to edit and the features to edit it with: the model cut at the site the SAE writes (a
 * transcoder's output site, else `site`), and the SAE's features of the activations it reads at `site`.
 * `input` is what was encoded (the reconstruction's skip term needs it).
 */
export async function cutForInterventions(
  model: AnalysisModel,
  sae: AnalysisSae,
  site: string,
  ids: Int32Array,
  signal?: AbortSignal,
): Promise<{ cut: SiteCut; input: Matrix; encoded: EncodedRows }> {
  const cut = await model.cutAtSite(ids, sae.outputSite ?? site, signal);
  const input = sae.outputSite ? await model.activations(ids, site, signal) : cut.acts;
  return { cut, input, encoded: await sae.encode(input) };
}
