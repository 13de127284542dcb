// Inference-only encoder for JumpReLU and ReLU SAEs, with the loop order (token, input dim, feature) that
// streams W_enc rows contiguously: the token view encodes on every request, and this is several times
// faster than the general training backend. Other architectures use the SAE models' own encode.
import type { SaeWeights } from '../sae/weights';
import type { Matrix } from '../tensor';
import { tensorOf, type SparseFeatures } from './decompose';

export function canEncodeFast(weights: SaeWeights): boolean {
  return weights.config.architecture === 'jumprelu' || weights.config.architecture === 'relu';
}

/** weights must carry no input scale (fold it first). */
export function fastEncode(weights: SaeWeights, x: Matrix): SparseFeatures {
  const { dIn, dSae, applyBDecToInput, architecture } = weights.config;
  if (weights.config.inputScale !== undefined && weights.config.inputScale !== 1) throw new Error('fastEncode: fold the input scale first');
  if (x.cols !== dIn) throw new Error(`fastEncode: input width ${x.cols}, SAE d_in ${dIn}`);
  const wEnc = tensorOf(weights, 'W_enc');
  const bEnc = tensorOf(weights, 'b_enc');
  const bDec = tensorOf(weights, 'b_dec');
  const theta = architecture === 'jumprelu' ? tensorOf(weights, 'threshold') : undefined;
  const pre = new Float32Array(dSae);
  const rowPtr = new Int32Array(x.rows + 1);
  const cols: number[] = [];
  const vals: number[] = [];
  for (let t = 0; t < x.rows; t++) {
    pre.set(bEnc);
    const xo = t * dIn;
    for (let d = 0; d < dIn; d++) {
      const v = applyBDecToInput ? x.data[xo + d] - bDec[d] : x.data[xo + d];
      if (v === 0) continue;
      const wo = d * dSae;
      for (let j = 0; j < dSae; j++) pre[j] += v * wEnc[wo + j];
    }
    for (let j = 0; j < dSae; j++) {
      const p = pre[j];
      if (theta ? p > theta[j] : p > 0) {
        cols.push(j);
        vals.push(p);
      }
    }
    rowPtr[t + 1] = cols.length;
  }
  return { rows: x.rows, cols: dSae, rowPtr, colIdx: Int32Array.from(cols), values: Float32Array.from(vals) };
}
