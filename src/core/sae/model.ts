// One interface for every SAE architecture: inference (encode/decode) and training (loss + hand-written
// gradients). Models always work in the trainer's normalised input space; weights.ts holds stored SAEs.
import type { Matrix, NumericBackend, SparseRows } from '../tensor';
export { transposeInto } from '../tensor';
import type { SaeConfig, SaeWeights } from './weights';
import type { FiringCounts } from '../metrics/sparsity';

export interface LossOptions {
  /** Sparsity coefficient for this step (λ after warm-up; the target-L0 coefficient for JumpReLU targetL0). */
  readonly sparsityCoeff: number;
  /** JumpReLU straight-through bandwidth ε for this step. */
  readonly bandwidth?: number;
  /** 1 for latents that have not fired within the dead window (TopK/BatchTopK AuxK). */
  readonly dead?: Uint8Array;
  /**
   * JumpReLU warm start: select each row's top k latents (TopK) instead of thresholding, train no θ,
   * and record per latent the smallest activation it was selected with (see JumpReluSae.thresholdFromWarmup).
   */
  readonly topKWarmup?: number;
  /** The warm start selects the k·B largest of the whole batch (BatchTopK) instead of k per row. */
  readonly batchWarmup?: boolean;
  /** BatchTopK: update the inference threshold EMA from this batch. */
  readonly training?: boolean;
}

export interface LossResult {
  /** Total loss (what the gradients are of). */
  readonly loss: number;
  /** Mean over rows of ‖x − x̂‖². */
  readonly mse: number;
  readonly sparsityLoss: number;
  readonly auxLoss: number;
  /** Mean active latents per row. */
  readonly l0: number;
  /** Active features of the batch (values = feature activations), or only their per-latent firing after a fused dense step. */
  readonly features: SparseRows | Matrix | FiringCounts;
  readonly reconstruction: Matrix;
  /** Gradients, keyed like params. */
  readonly grads: Map<string, Float32Array>;
}

export interface SaeModel {
  readonly config: SaeConfig;
  /** Trainable parameters by name (SAELens names where they exist). Mutated in place by the optimiser. */
  readonly params: Map<string, Float32Array>;
  /** Non-trained state that must survive a resume (e.g. BatchTopK's threshold EMA). */
  readonly buffers: Map<string, Float32Array>;
  /** Decoder rows kept at unit norm (gradient's parallel component removed, rows renormalised). */
  readonly unitNormDecoder: boolean;
  encode(x: Matrix): SparseRows;
  decode(features: SparseRows): Matrix;
  forward(x: Matrix): { features: SparseRows; reconstruction: Matrix };
  lossAndGrads(x: Matrix, options: LossOptions): LossResult;
  /** Keep parameters in their domain after an optimiser step (e.g. θ ≥ 0). */
  project?(): void;
  /** Stored parameters in normalised space (no input scale folded in). */
  toWeights(): SaeWeights;
}

export interface ModelContext {
  readonly backend: NumericBackend;
}

export function tensor(shape: readonly number[], data: Float32Array): { shape: number[]; data: Float32Array } {
  return { shape: [...shape], data };
}

/** x − b_dec on every row (a copy), or x itself. */
export function encoderInput(x: Matrix, bDec: Float32Array, subtract: boolean): Matrix {
  if (!subtract) return x;
  const d = x.cols;
  const out = new Float32Array(x.data.length);
  for (let r = 0; r < x.rows; r++) {
    const base = r * d;
    for (let j = 0; j < d; j++) out[base + j] = x.data[base + j] - bDec[j];
  }
  return { data: out, rows: x.rows, cols: d };
}

/** For L = mean over rows of ‖x − x̂‖²: returns L and dL/dx̂ = 2(x̂ − x)/B (a new matrix). */
export function mseGradient(xHat: Matrix, x: Matrix): { mse: number; grad: Matrix } {
  const n = x.data.length;
  const grad = new Float32Array(n);
  const scale = 2 / x.rows;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const r = xHat.data[i] - x.data[i];
    sum += r * r;
    grad[i] = scale * r;
  }
  return { mse: sum / x.rows, grad: { data: grad, rows: x.rows, cols: x.cols } };
}

export function columnSums(m: Matrix): Float32Array {
  const out = new Float64Array(m.cols);
  for (let r = 0; r < m.rows; r++) {
    const base = r * m.cols;
    for (let j = 0; j < m.cols; j++) out[j] += m.data[base + j];
  }
  return Float32Array.from(out);
}

/**
 * Gradient of b_dec through the encoder input x − b_dec: −W_enc · Σ_rows dPre.
 * dPreColSums [dSae]; W_enc [dIn, dSae].
 */
export function subtractEncoderPath(
  gBDec: Float32Array,
  wEnc: Float32Array,
  dPreColSums: ArrayLike<number>,
  dIn: number,
  dSae: number,
): void {
  for (let i = 0; i < dIn; i++) {
    const base = i * dSae;
    let s = 0;
    for (let j = 0; j < dSae; j++) s += wEnc[base + j] * dPreColSums[j];
    gBDec[i] -= s;
  }
}

export function rowNorms(w: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let j = 0; j < cols; j++) s += w[r * cols + j] ** 2;
    out[r] = Math.sqrt(s);
  }
  return out;
}

export function normalizeRows(w: Float32Array, rows: number, cols: number): void {
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let j = 0; j < cols; j++) s += w[r * cols + j] ** 2;
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let j = 0; j < cols; j++) w[r * cols + j] *= inv;
  }
}

/** Removes from each gradient row its component along the (unit) weight row. */
export function removeParallelComponent(w: Float32Array, g: Float32Array, rows: number, cols: number): void {
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    let dot = 0;
    for (let j = 0; j < cols; j++) dot += w[base + j] * g[base + j];
    for (let j = 0; j < cols; j++) g[base + j] -= dot * w[base + j];
  }
}

/** Every param must have a same-sized gradient entry, zero-filled. */
export function zeroGrads(params: Map<string, Float32Array>): Map<string, Float32Array> {
  const g = new Map<string, Float32Array>();
  for (const [k, v] of params) g.set(k, new Float32Array(v.length));
  return g;
}

export function mustGet(map: ReadonlyMap<string, Float32Array>, name: string): Float32Array {
  const v = map.get(name);
  if (!v) throw new Error(`missing tensor ${name}`);
  return v;
}
