// Every feature's direct logit effects at once (one GEMM): the tokens its decoder direction promotes and
// suppresses most through the unembedding, and a histogram of its effect over the whole vocabulary.
import { matmulTransposed } from '../tensor/gemm';
import { normedDirection, type Unembedding } from '../analysis/logitEffects';
import type { LogitTable } from './types';

/** `width`: the decoder's output width (d_in, or d_out for a transcoder). */
export function logitTables(wDec: Float32Array, dSae: number, width: number, unembed: Unembedding, k = 10, bins = 20): LogitTable[] {
  const { weight } = unembed;
  const dIn = width;
  if (weight.cols !== dIn) throw new Error(`unembedding width ${weight.cols} differs from the width ${dIn} the SAE's decoder writes`);
  // Same direction as logitEffects: through the final norm's linear part.
  const dirs = new Float32Array(dSae * dIn);
  for (let f = 0; f < dSae; f++) dirs.set(normedDirection(wDec.subarray(f * dIn, (f + 1) * dIn), unembed.finalNorm), f * dIn);
  const vocab = weight.rows;
  const scores = matmulTransposed({ data: dirs, rows: dSae, cols: dIn }, weight.data, vocab).data;
  const out: LogitTable[] = [];
  for (let f = 0; f < dSae; f++) {
    const row = scores.subarray(f * vocab, (f + 1) * vocab);
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of row) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    const counts = new Array<number>(bins).fill(0);
    for (const v of row) counts[hi > lo ? Math.min(bins - 1, Math.floor(((v - lo) / (hi - lo)) * bins)) : 0]++;
    const entry = (i: number) => ({ token: i, value: Math.round(row[i] * 1e4) / 1e4 });
    out.push({ promoted: topK(row, k, 1).map(entry), suppressed: topK(row, k, -1).map(entry), histogram: { lo, hi, counts } });
  }
  return out;
}

/** Indices of the k largest (sign 1) or smallest (sign -1) values, most extreme first: one pass, no full sort. */
function topK(values: Float32Array, k: number, sign: 1 | -1): number[] {
  const kept: number[] = [];
  for (let i = 0; i < values.length; i++) {
    const v = sign * values[i];
    if (kept.length === k && v <= sign * values[kept[k - 1]]) continue;
    let j = kept.length < k ? kept.length : k - 1;
    while (j > 0 && sign * values[kept[j - 1]] < v) {
      if (j < k) kept[j] = kept[j - 1];
      j--;
    }
    kept[j] = i;
  }
  return kept;
}
