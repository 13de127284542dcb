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
  /** A·B reduced to one number inside the engine: the dense-GEMM floor benchmarks compare against. */
  gemmSum(a: Matrix, b: Matrix): number;
  dispose(): void;
}
