// Per-token decomposition of activations into SAE features: which fire, how strongly, and how much of
// the reconstruction each explains. Pure math on Matrix; the encoder is whatever the SAE architecture is.
import type { Matrix } from '../tensor';
import type { SaeWeights } from '../sae/weights';

/** Encoded features in CSR form (the SAE models' SparseRows): row t owns entries rowPtr[t]..rowPtr[t+1]. */
export interface SparseFeatures {
  readonly rows: number;
  readonly cols: number;
  readonly rowPtr: Int32Array;
  readonly colIdx: Int32Array;
  readonly values: Float32Array;
}

export interface FeatureShare {
  readonly id: number;
  readonly activation: number;
  /**
   * (c_i · r) / ‖r‖², with c_i = feature i's decoder contribution and r = Σ c_i (the reconstruction
   * without b_dec). Shares sum to 1 per token; a negative share means the feature pulls against the rest.
   */
  readonly share: number;
}

export interface TokenDecomposition {
  readonly top: readonly FeatureShare[];
  readonly l0: number;
  readonly maxActivation: number;
  /** ‖x − x̂‖² / ‖x‖² (0 for a zero input). */
  readonly reconError: number;
}

export interface Decomposition {
  readonly tokens: readonly TokenDecomposition[];
  /** Active features per token, strongest first, at most `maxActivePerToken` each (CSR layout). */
  readonly rowStart: Int32Array;
  readonly featureIds: Int32Array;
  readonly values: Float32Array;
}

export interface DecomposeOptions {
  readonly topK: number;
  /** Bounds the message size when an SAE is dense (e.g. untrained): the weakest extra features are dropped. */
  readonly maxActivePerToken?: number;
}

export function tensorOf(weights: SaeWeights, name: string): Float32Array {
  const t = weights.tensors.get(name);
  if (!t) throw new Error(`SAE has no ${name} tensor`);
  return t.data;
}

/**
 * x: [n, d_in] site activations as the model produced them; f: features of the same rows, encoded from
 * x / inputScale (the SAE's normalised space), so x̂ = inputScale·(f·W_dec + b_dec).
 */
export function decompose(x: Matrix, f: SparseFeatures, weights: SaeWeights, options: DecomposeOptions): Decomposition {
  const { dIn, dSae } = weights.config;
  if (x.cols !== dIn) throw new Error(`decompose: activations have width ${x.cols}, SAE expects ${dIn}`);
  if (f.cols !== dSae || f.rows !== x.rows) throw new Error(`decompose: features are ${f.rows}×${f.cols}, expected ${x.rows}×${dSae}`);
  const wDec = tensorOf(weights, 'W_dec');
  const bDec = tensorOf(weights, 'b_dec');
  const scale = weights.config.inputScale ?? 1;
  const maxActive = options.maxActivePerToken ?? 64;

  const tokens: TokenDecomposition[] = [];
  const rowStart = new Int32Array(x.rows + 1);
  const ids: number[] = [];
  const vals: number[] = [];
  const r = new Float64Array(dIn);
  for (let t = 0; t < x.rows; t++) {
    // Entries of this row, strongest first (CSR rows hold each feature once).
    const entries: number[] = [];
    for (let e = f.rowPtr[t]; e < f.rowPtr[t + 1]; e++) if (f.values[e] !== 0) entries.push(e);
    entries.sort((a, b) => f.values[b] - f.values[a]);
    const active = entries.map((e) => f.colIdx[e]);
    const value = entries.map((e) => f.values[e]);

    r.fill(0);
    for (let k = 0; k < active.length; k++) {
      const i = active[k];
      const a = value[k] * scale;
      const wo = i * dIn;
      for (let d = 0; d < dIn; d++) r[d] += a * wDec[wo + d];
    }
    let rr = 0;
    let err = 0;
    let xx = 0;
    const xo = t * dIn;
    for (let d = 0; d < dIn; d++) {
      rr += r[d] * r[d];
      const xv = x.data[xo + d];
      const diff = xv - (r[d] + scale * bDec[d]);
      err += diff * diff;
      xx += xv * xv;
    }
    const top: FeatureShare[] = [];
    for (let k = 0; k < Math.min(active.length, options.topK); k++) {
      const i = active[k];
      const a = value[k];
      let dot = 0;
      const wo = i * dIn;
      for (let d = 0; d < dIn; d++) dot += wDec[wo + d] * r[d];
      top.push({ id: i, activation: a, share: rr > 0 ? (a * scale * dot) / rr : 0 });
    }
    tokens.push({
      top,
      l0: active.length,
      maxActivation: active.length > 0 ? value[0] : 0,
      reconError: xx > 0 ? err / xx : 0,
    });
    for (let k = 0; k < Math.min(active.length, maxActive); k++) {
      ids.push(active[k]);
      vals.push(value[k]);
    }
    rowStart[t + 1] = ids.length;
  }
  return { tokens, rowStart, featureIds: Int32Array.from(ids), values: Float32Array.from(vals) };
}
