// JavaScript kernels for the products whose cost scales with the number of stored entries (L0), not with
// the dictionary size: decoding, weight gradients over active latents, and sampled dot products. The
// inner loops run over the contiguous d_in axis; several entries share one pass over the output row so
// each output element is loaded and stored once per group instead of once per entry.
import type { Matrix } from './matrix';
import type { SparseRows } from './sparse';
import { transposeInto } from './transposeInto';

/** The three products over sparse codes, as one swappable set (JavaScript here, WebAssembly in wasmKernels.ts). */
export interface SparseKernelSet {
  readonly name: string;
  sparseTimesDense(s: SparseRows, b: Matrix, bias: Float32Array | undefined): Matrix;
  sparseTransposeTimesDenseAcc(s: SparseRows, a: Matrix, out: Matrix): void;
  /** S[m,n]ᵀ·A[m,d] as a new [n × d] array ([d × n] when transposed): NumericBackend.sparseTransMatmul. */
  sparseTransposeTimesDense(s: SparseRows, a: Matrix, transposed: boolean): Float32Array;
  sampledDots(pattern: SparseRows, a: Matrix, b: Matrix, out: Float32Array): void;
  /** CSR from k unordered candidates per row ([rows × k]), keeping those with score > 0, columns ascending. */
  candidatesToRows(k: number, rows: number, cols: number, indices: Int32Array, values: Float32Array, scores: Float32Array): SparseRows;
  /** Threads the products run on (1 when absent). */
  readonly threads?: number;
  /** Releases what the set holds (a helper thread); absent when it holds nothing. */
  dispose?(): void;
}

/** S[m,n]·B[n,d] (+ bias) → [m,d]. */
export function sparseTimesDense(s: SparseRows, b: Matrix, bias: Float32Array | undefined): Matrix {
  const d = b.cols;
  const out = new Float32Array(s.rows * d);
  const B = b.data;
  const { rowPtr, colIdx, values } = s;
  for (let r = 0; r < s.rows; r++) {
    const o = r * d;
    if (bias) out.set(bias, o);
    let e = rowPtr[r];
    const end = rowPtr[r + 1];
    for (; e + 3 < end; e += 4) {
      const v0 = values[e];
      const v1 = values[e + 1];
      const v2 = values[e + 2];
      const v3 = values[e + 3];
      const b0 = colIdx[e] * d;
      const b1 = colIdx[e + 1] * d;
      const b2 = colIdx[e + 2] * d;
      const b3 = colIdx[e + 3] * d;
      for (let j = 0; j < d; j++) out[o + j] += v0 * B[b0 + j] + v1 * B[b1 + j] + v2 * B[b2 + j] + v3 * B[b3 + j];
    }
    for (; e < end; e++) {
      const v = values[e];
      const b0 = colIdx[e] * d;
      for (let j = 0; j < d; j++) out[o + j] += v * B[b0 + j];
    }
  }
  return { data: out, rows: s.rows, cols: d };
}

/**
 * The nonzero entries of s grouped by column (CSC): per column c, entries colPtr[c] .. colPtr[c+1]-1 give
 * row and value. Stored zeros are dropped (JumpReLU's window-only entries carry no pre-activation gradient).
 */
export function byColumn(s: SparseRows): { colPtr: Int32Array; rowOf: Int32Array; valueOf: Float32Array } {
  const nnz = s.colIdx.length;
  const colPtr = new Int32Array(s.cols + 1);
  for (let e = 0; e < nnz; e++) if (s.values[e] !== 0) colPtr[s.colIdx[e] + 1]++;
  for (let c = 0; c < s.cols; c++) colPtr[c + 1] += colPtr[c];
  const next = colPtr.slice(0, s.cols);
  const rowOf = new Int32Array(colPtr[s.cols]);
  const valueOf = new Float32Array(colPtr[s.cols]);
  for (let r = 0; r < s.rows; r++) {
    for (let e = s.rowPtr[r]; e < s.rowPtr[r + 1]; e++) {
      if (s.values[e] === 0) continue;
      const at = next[s.colIdx[e]]++;
      rowOf[at] = r;
      valueOf[at] = s.values[e];
    }
  }
  return { colPtr, rowOf, valueOf };
}

/** out[n,d] += S[m,n]ᵀ·A[m,d], one pass per output row over the entries of its column. */
export function sparseTransposeTimesDenseAcc(s: SparseRows, a: Matrix, out: Matrix): void {
  const d = a.cols;
  const A = a.data;
  const O = out.data;
  const { colPtr, rowOf, valueOf } = byColumn(s);
  for (let c = 0; c < s.cols; c++) {
    const o = c * d;
    let e = colPtr[c];
    const end = colPtr[c + 1];
    for (; e + 3 < end; e += 4) {
      const v0 = valueOf[e];
      const v1 = valueOf[e + 1];
      const v2 = valueOf[e + 2];
      const v3 = valueOf[e + 3];
      const a0 = rowOf[e] * d;
      const a1 = rowOf[e + 1] * d;
      const a2 = rowOf[e + 2] * d;
      const a3 = rowOf[e + 3] * d;
      for (let j = 0; j < d; j++) O[o + j] += v0 * A[a0 + j] + v1 * A[a1 + j] + v2 * A[a2 + j] + v3 * A[a3 + j];
    }
    for (; e < end; e++) {
      const v = valueOf[e];
      const a0 = rowOf[e] * d;
      for (let j = 0; j < d; j++) O[o + j] += v * A[a0 + j];
    }
  }
}

/** sparseTransposeTimesDenseAcc into zeros, transposed after when asked. */
export function sparseTransposeTimesDense(s: SparseRows, a: Matrix, transposed: boolean): Float32Array {
  const g = new Float32Array(s.cols * a.cols);
  sparseTransposeTimesDenseAcc(s, a, { data: g, rows: s.cols, cols: a.cols });
  if (!transposed) return g;
  const t = new Float32Array(g.length);
  transposeInto(g, s.cols, a.cols, t);
  return t;
}

/** out[e] = A[r,:]·B[c,:] for each entry e = (r, c) of the pattern. */
export function sampledDots(pattern: SparseRows, a: Matrix, b: Matrix, out: Float32Array): void {
  const d = a.cols;
  const A = a.data;
  const B = b.data;
  const d4 = d - (d % 4);
  for (let r = 0; r < pattern.rows; r++) {
    const x = r * d;
    for (let e = pattern.rowPtr[r]; e < pattern.rowPtr[r + 1]; e++) {
      const y = pattern.colIdx[e] * d;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      let j = 0;
      for (; j < d4; j += 4) {
        s0 += A[x + j] * B[y + j];
        s1 += A[x + j + 1] * B[y + j + 1];
        s2 += A[x + j + 2] * B[y + j + 2];
        s3 += A[x + j + 3] * B[y + j + 3];
      }
      for (; j < d; j++) s0 += A[x + j] * B[y + j];
      out[e] = s0 + s1 + (s2 + s3);
    }
  }
}

/** candidatesToRows: insertion into each row's sorted run (k is small). */
export function candidatesToRows(k: number, rows: number, cols: number, indices: Int32Array, values: Float32Array, scores: Float32Array): SparseRows {
  const rowPtr = new Int32Array(rows + 1);
  const colIdx = new Int32Array(rows * k);
  const vals = new Float32Array(rows * k);
  let nnz = 0;
  for (let r = 0; r < rows; r++) {
    const start = nnz;
    for (let e = r * k; e < (r + 1) * k; e++) {
      if (!(scores[e] > 0)) continue;
      const c = indices[e];
      const v = values[e];
      let i = nnz++;
      while (i > start && colIdx[i - 1] > c) {
        colIdx[i] = colIdx[i - 1];
        vals[i] = vals[i - 1];
        i--;
      }
      colIdx[i] = c;
      vals[i] = v;
    }
    rowPtr[r + 1] = nnz;
  }
  return { rows, cols, rowPtr, colIdx: colIdx.slice(0, nnz), values: vals.slice(0, nnz) };
}

export const jsSparseKernels: SparseKernelSet = {
  name: 'JavaScript',
  sparseTimesDense,
  sparseTransposeTimesDenseAcc,
  sparseTransposeTimesDense,
  sampledDots,
  candidatesToRows,
};
