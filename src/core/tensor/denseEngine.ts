// A synchronous dense GEMM engine the fast backend delegates to. The tensor room only knows this
// interface; src/core/runtime implements it with ONNX Runtime (MLAS, multi-threaded), so nothing here
// imports ORT and a test can hand in any implementation.
import type { Matrix } from './matrix';

export interface GemmOptions {
  /** Added to every row of the product (length = output columns). */
  readonly bias?: Float32Array;
  /** Use Aᵀ (A stored [k, m]). */
  readonly transA?: boolean;
  /** Use Bᵀ (B stored [n, k]). */
  readonly transB?: boolean;
}

/** Per row, the k entries of P = A·B + bias with the largest score P − shift (columns unordered). */
export interface RowTopK {
  readonly k: number;
  /** [rows × k] P values of the picked entries. */
  readonly values: Float32Array;
  /** [rows × k] P − shift of the picked entries (computed inside the engine: what the pick was made on). */
  readonly scores: Float32Array;
  /** [rows × k] column indices. */
  readonly indices: Int32Array;
  /** Σ of all of P: non-finite when P has a NaN or ±∞ that the selection would otherwise hide. */
  readonly checksum: number;
}

export interface AboveEntries {
  readonly rows: Int32Array;
  readonly cols: Int32Array;
  readonly values: Float32Array;
  /** Σ of all of P (see RowTopK.checksum). */
  readonly checksum: number;
}

/**
 * One whole training step of a ReLU or Gated SAE whose codes are dense (about half the latents fire early
 * in a run): forward, loss terms, backward and every gradient in one engine call, so no [batch × d_sae]
 * matrix crosses into JavaScript. Notation: P = xin·W_enc.
 * - relu: f = ReLU(P + b_enc); x̂ = f·W_dec + b_dec; dL/dpre = (dL/df + penalty[j])·1[f > 0].
 * - gated: G = ReLU(P + b_gate) (π_gate), f = 1[G > 0]·ReLU(scale⊙P + b_mag) (π_mag, scale = e^{r_mag});
 *   x̂ = f·W_dec + b_dec and x̂_aux = G·W_dec + b_dec (the frozen-decoder auxiliary reconstruction);
 *   dL/dπ_gate = (dL/dx̂_aux·W_decᵀ + penalty[j])·1[G > 0], dL/dπ_mag = dL/dx̂·W_decᵀ·1[f > 0],
 *   dL/dP = dL/dπ_gate + scale⊙dL/dπ_mag.
 * dL/dx̂ = 2(x̂ − x)/B (the mean over rows of ‖x − x̂‖²; the same for x̂_aux).
 */
export interface SaeDenseStepInputs {
  readonly kind: 'relu' | 'gated';
  /** The target x [B × d]. */
  readonly x: Matrix;
  /** What the encoder multiplies (x or x − b_dec) [B × d]. */
  readonly xin: Matrix;
  /** W_enc (Gated: W_gate) [d × n]. */
  readonly wEnc: Matrix;
  /** W_dec [n × d]. */
  readonly wDec: Matrix;
  readonly bDec: Float32Array;
  /** relu: b_enc; gated: b_gate. */
  readonly bias: Float32Array;
  /** Added to dL/df (relu) or dL/dπ_gate (gated) wherever that latent is active: the sparsity term's gradient. */
  readonly penalty: Float32Array;
  /** gated: b_mag. */
  readonly bMag?: Float32Array;
  /** gated: e^{r_mag}. */
  readonly scale?: Float32Array;
}

export interface SaeDenseStepResult {
  /** x̂ [B × d]. */
  readonly reconstruction: Matrix;
  /** Σ over the batch of ‖x − x̂‖². */
  readonly sqErr: number;
  /** gated: Σ ‖x − x̂_aux‖²; relu: 0. */
  readonly auxSqErr: number;
  /** xinᵀ·dL/dpre (gated: xinᵀ·dL/dP) [d × n], W_enc's layout. */
  readonly gWEnc: Float32Array;
  /** fᵀ·dL/dx̂ [n × d] (the main reconstruction's part of W_dec's gradient). */
  readonly gWDec: Float32Array;
  /** Σ over rows of dL/dx̂ [d]. */
  readonly dXHatSums: Float32Array;
  /** Σ over rows of dL/dpre (gated: dL/dP) [n]. */
  readonly preSums: Float32Array;
  /** Σ over rows of f (relu) or of G = ReLU(π_gate) (gated) [n]: the L1 term's sums. */
  readonly actSums: Float32Array;
  /** gated: Σ dL/dπ_gate, Σ dL/dπ_mag and Σ dL/dπ_mag·P per latent [n]. */
  readonly gateSums?: Float32Array;
  readonly magSums?: Float32Array;
  readonly magPSums?: Float32Array;
  /** Per latent, the rows with f > 0 and the last such row counted from 1 (0: none) [n]. */
  readonly fireCount: Float32Array;
  readonly lastRow: Float32Array;
  /** Σ of all of P: non-finite when P has a NaN or ±∞. */
  readonly checksum: number;
}

export interface DenseEngine {
  readonly name: string;
  /** op(A)·op(B) (+ bias) as a new dense matrix. */
  gemm(a: Matrix, b: Matrix, options?: GemmOptions): Matrix;
  /**
   * The dense [rows × cols] product stays inside the engine; only the k best entries of each row come
   * back (returning the dense product costs more than computing it). shift undefined = 0.
   */
  gemmRowTopK(a: Matrix, b: Matrix, bias: Float32Array | undefined, shift: Float32Array | undefined, k: number): RowTopK;
  /**
   * The entries of P = A·B + bias with P[r, j] > lower[j], in row-major order (so columns ascend within a
   * row): their rows, columns and values. P stays inside the engine.
   */
  gemmAbove(a: Matrix, b: Matrix, bias: Float32Array | undefined, lower: Float32Array): AboveEntries;
  /**
   * out[r, i] = (A·Bᵀ)[r, indices[r·width + i]]: products sampled at given columns of each row, computed
   * densely inside the engine and returned sparse. A [rows, d], B [cols, d].
   */
  gemmTransBGather(a: Matrix, b: Matrix, indices: Int32Array, width: number): Float32Array;
  /** A dense ReLU / Gated training step in one call (optional: engines without it run those steps sparse). */
  saeDenseStep?(inputs: SaeDenseStepInputs): SaeDenseStepResult;
  /** A·B reduced to one number inside the engine: the dense-GEMM floor benchmarks compare against. */
  gemmSum(a: Matrix, b: Matrix): number;
  dispose(): void;
}
