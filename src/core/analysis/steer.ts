// Steering edits the site activation along one decoder direction, keeping the SAE's reconstruction
// error in place: x' = x + (v − f_j)·W_dec[j], mapped into the site's space (a per-token normalisation is
// undone on the difference). Replacing x by x̂ instead would also remove whatever the SAE fails to
// explain, and the comparison would mix both effects.
import type { EncodedRows, InferenceSae } from '../inference/inferenceSae';
import { matrix, type Matrix } from '../tensor';
import type { SparseFeatures } from './decompose';

/** `encoded`: the SAE's features of x; clamps feature j to `value` at every row. */
export function clampFeature(x: Matrix, encoded: EncodedRows, sae: InferenceSae, feature: number, value: number): Matrix {
  const { dIn, dSae } = sae;
  if (feature < 0 || feature >= dSae) throw new Error(`feature ${feature} is outside 0..${dSae - 1}`);
  const direction = sae.wDec.subarray(feature * dIn, (feature + 1) * dIn);
  const out = matrix(x.rows, x.cols, Float32Array.from(x.data));
  const step = new Float32Array(dIn);
  const origin = new Float32Array(dIn);
  for (let t = 0; t < x.rows; t++) {
    const delta = value - featureValue(encoded.features, t, feature);
    if (delta === 0) continue;
    for (let d = 0; d < dIn; d++) step[d] = delta * direction[d];
    const restore = encoded.restore?.[t];
    if (restore) {
      // The restore is affine: its linear part is restore(v) − restore(0).
      restore(step);
      origin.fill(0);
      restore(origin);
      for (let d = 0; d < dIn; d++) step[d] -= origin[d];
    }
    for (let d = 0; d < dIn; d++) out.data[t * dIn + d] += step[d];
  }
  return out;
}

export function featureValue(f: SparseFeatures, row: number, feature: number): number {
  for (let e = f.rowPtr[row]; e < f.rowPtr[row + 1]; e++) if (f.colIdx[e] === feature) return f.values[e];
  return 0;
}
