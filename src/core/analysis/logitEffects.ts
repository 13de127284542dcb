// Direct logit effects of a feature: its decoder direction read out by the unembedding.
import type { SaeWeights } from '../sae/weights';
import { tensorOf } from './decompose';
import { topIndices } from './nextToken';

export interface Unembedding {
  /** One row per output token: [vocab, d_model] (GPT-2 ties this to the token embedding). */
  readonly weight: { readonly data: Float32Array; readonly rows: number; readonly cols: number };
  /** Final LayerNorm scale γ, applied as a per-dimension gain. */
  readonly lnGamma?: Float32Array;
}

export const LOGIT_EFFECT_NOTE =
  'Direct path only: the decoder direction, centred and scaled by the final LayerNorm gain γ, read out by the ' +
  'unembedding. The per-token LayerNorm normalisation and all later blocks are ignored, so values rank tokens ' +
  'but are not logit deltas.';

export interface LogitEffects {
  readonly promoted: readonly { readonly id: number; readonly value: number }[];
  readonly suppressed: readonly { readonly id: number; readonly value: number }[];
}

export function logitEffects(weights: SaeWeights, feature: number, unembed: Unembedding, k: number): LogitEffects {
  const { dIn } = weights.config;
  const { weight, lnGamma } = unembed;
  if (weight.cols !== dIn) throw new Error(`unembedding width ${weight.cols} differs from the SAE's d_in ${dIn}`);
  const wDec = tensorOf(weights, 'W_dec');
  const dir = new Float32Array(dIn);
  // Centring is the linear part of LayerNorm that we can keep: it removes the mean of the direction.
  let mean = 0;
  for (let d = 0; d < dIn; d++) mean += wDec[feature * dIn + d];
  mean /= dIn;
  for (let d = 0; d < dIn; d++) dir[d] = (wDec[feature * dIn + d] - mean) * (lnGamma ? lnGamma[d] : 1);
  const scores = new Float32Array(weight.rows);
  for (let v = 0; v < weight.rows; v++) {
    let s = 0;
    const o = v * dIn;
    for (let d = 0; d < dIn; d++) s += dir[d] * weight.data[o + d];
    scores[v] = s;
  }
  const promoted = topIndices(scores, k).map((id) => ({ id, value: scores[id] }));
  const negated = scores.map((s) => -s);
  const suppressed = topIndices(negated, k).map((id) => ({ id, value: scores[id] }));
  return { promoted, suppressed };
}
