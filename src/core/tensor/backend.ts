// The few numeric kernels SAE training and inference need. The reference backend is plain TypeScript;
// a faster one can replace it behind this interface and be checked against it.
import type { Matrix } from './matrix';
import type { SparseRows } from './sparse';
import type { SaeDenseStepInputs, SaeDenseStepResult } from './denseEngine';

export interface NumericBackend {
  readonly name: string;
  /**
   * Above this fraction of active entries an SAE step with dense gradients (ReLU, Gated) should run as
   * dense products end to end on this backend; undefined = always through the sparse codes.
   */
  readonly denseStepAbove?: number;
  /**
   * That dense step in one call (DenseEngine.saeDenseStep, checked for non-finite values); undefined when
   * the backend has none, and then those steps take the sparse path.
   */
  readonly saeDenseStep?: (inputs: SaeDenseStepInputs) => SaeDenseStepResult;
  /** Stops the threads the backend started itself (not those of an engine it was handed); absent if none. */
  dispose?(): void;
  /** A[m,k]·B[k,n] (+ bias[n] on every row). */
  matmul(a: Matrix, b: Matrix, bias?: Float32Array): Matrix;
  /** A[k,m]ᵀ·B[k,n] → [m,n]. */
  matmulTransA(a: Matrix, b: Matrix): Matrix;
  /** A[m,k]·B[n,k]ᵀ → [m,n]. */
  matmulTransB(a: Matrix, b: Matrix): Matrix;
  /** S[m,n]·B[n,d] (+ bias[d] on every row) → [m,d]: decoding touches only active latents. */
  sparseMatmul(s: SparseRows, b: Matrix, bias?: Float32Array): Matrix;
  /** out[n,d] += S[m,n]ᵀ·A[m,d]: weight gradients that scale with the number of active latents. */
  sparseTransMatmulAcc(s: SparseRows, a: Matrix, out: Matrix): void;
  /**
   * S[m,n]ᵀ·A[m,d] as a new [n × d] array, or with `transposed` its transpose [d × n] (an encoder weight
   * gradient in W_enc's layout): the same sums as sparseTransMatmulAcc into zeros (then transposeInto).
   */
  sparseTransMatmul(s: SparseRows, a: Matrix, transposed: boolean): Float32Array;
  /** out[e] = A[r,:]·B[c,:] for each stored entry e = (r, c) of the pattern. A [m,d], B [n,d]. */
  sampledDot(pattern: SparseRows, a: Matrix, b: Matrix, out: Float32Array): void;
  /**
   * Per row of P = A·B (+ bias), the k largest positive entries, only among columns with mask[j] !== 0
   * when a mask is given; columns in ascending order. A backend may never materialise P.
   */
  matmulRowTopK(a: Matrix, b: Matrix, bias: Float32Array | undefined, k: number, mask?: Uint8Array): SparseRows;
  /** The entries of P = A·B (+ bias) with P[r,j] > lower[j]; columns in ascending order. */
  matmulAbove(a: Matrix, b: Matrix, bias: Float32Array | undefined, lower: Float32Array): SparseRows;
}
