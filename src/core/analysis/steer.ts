// Steering edits the site activation along one decoder direction, keeping the SAE's reconstruction
// error in place: x' = x + (v − f_j)·C·W_dec[j]. Replacing x by x̂ instead would also remove whatever
// the SAE fails to explain, and the comparison would mix both effects.
import { matrix, type Matrix } from '../tensor';
import type { SaeWeights } from '../sae/weights';
import { tensorOf, type SparseFeatures } from './decompose';

/** f: encoded features of x (see decompose); clamps feature j to `value` at every row. */
export function clampFeature(x: Matrix, f: SparseFeatures, weights: SaeWeights, feature: number, value: number): Matrix {
  const { dIn, dSae } = weights.config;
  if (feature < 0 || feature >= dSae) throw new Error(`feature ${feature} is outside 0..${dSae - 1}`);
  const wDec = tensorOf(weights, 'W_dec');
  const scale = weights.config.inputScale ?? 1;
  const out = matrix(x.rows, x.cols, Float32Array.from(x.data));
  for (let t = 0; t < x.rows; t++) {
    const delta = (value - featureValue(f, t, feature)) * scale;
    if (delta === 0) continue;
    for (let d = 0; d < dIn; d++) out.data[t * dIn + d] += delta * wDec[feature * dIn + d];
  }
  return out;
}

export function featureValue(f: SparseFeatures, row: number, feature: number): number {
  for (let e = f.rowPtr[row]; e < f.rowPtr[row + 1]; e++) if (f.colIdx[e] === feature) return f.values[e];
  return 0;
}
