// Direct logit effects of a feature: its decoder direction through the model's final norm's linear part,
// read out by the unembedding. LayerNorm subtracts the mean before scaling, so the direction is centred
// first; RMSNorm only scales, so it is not (centring would change the ranking). Both apply the gain γ.
import type { SaeWeights } from '../sae/weights';
import { tensorOf } from './decompose';
import { topIndices } from './nextToken';

export type FinalNormKind = 'layernorm' | 'rmsnorm';

export interface Unembedding {
  /** One row per output token: [vocab, d_model] (GPT-2 ties this to the token embedding). */
  readonly weight: { readonly data: Float32Array; readonly rows: number; readonly cols: number };
  /** The norm in front of the unembedding, when the graph shows one we recognise. */
  readonly finalNorm?: { readonly kind: FinalNormKind; readonly gamma?: Float32Array };
}

/** How the numbers were computed, for the dashboard. */
export function logitEffectNote(unembed: Unembedding): string {
  const norm = unembed.finalNorm;
  const how =
    norm?.kind === 'layernorm'
      ? 'the decoder direction, centred and scaled by the final LayerNorm gain γ,'
      : norm?.kind === 'rmsnorm'
        ? 'the decoder direction scaled by the final RMSNorm gain γ (RMSNorm does not centre),'
        : 'the decoder direction (no final norm was recognised in the graph),';
  return (
    `Direct path only: ${how} read out by the unembedding. The per-token normalisation and all later blocks are ` +
    'ignored, so values rank tokens but are not logit deltas.'
  );
}

export interface LogitEffects {
  readonly promoted: readonly { readonly id: number; readonly value: number }[];
  readonly suppressed: readonly { readonly id: number; readonly value: number }[];
}

/** The direction the final norm's linear part makes of a decoder row. */
export function normedDirection(row: Float32Array, norm: Unembedding['finalNorm']): Float32Array {
  const d = row.length;
  let mean = 0;
  if (norm?.kind === 'layernorm') {
    for (let j = 0; j < d; j++) mean += row[j];
    mean /= d;
  }
  const gamma = norm?.gamma;
  const dir = new Float32Array(d);
  for (let j = 0; j < d; j++) dir[j] = (row[j] - mean) * (gamma ? gamma[j] : 1);
  return dir;
}

export function logitEffects(weights: SaeWeights, feature: number, unembed: Unembedding, k: number): LogitEffects {
  // A transcoder's decoder writes its output site, d_out wide.
  const width = weights.config.dOut ?? weights.config.dIn;
  const { weight } = unembed;
  if (weight.cols !== width) throw new Error(`unembedding width ${weight.cols} differs from the width ${width} the SAE's decoder writes`);
  const wDec = tensorOf(weights, 'W_dec');
  const dir = normedDirection(wDec.subarray(feature * width, (feature + 1) * width), unembed.finalNorm);
  const scores = new Float32Array(weight.rows);
  for (let v = 0; v < weight.rows; v++) {
    let s = 0;
    const o = v * width;
    for (let d = 0; d < width; d++) s += dir[d] * weight.data[o + d];
    scores[v] = s;
  }
  const promoted = topIndices(scores, k).map((id) => ({ id, value: scores[id] }));
  const negated = scores.map((s) => -s);
  const suppressed = topIndices(negated, k).map((id) => ({ id, value: scores[id] }));
  return { promoted, suppressed };
}
