// Straightforward, correct kernels: row-major loops whose innermost loop runs over contiguous memory.
import type { NumericBackend } from './backend';
import type { Matrix } from './matrix';
import type { SparseRows } from './sparse';
import { selectAbove, selectRowTopK } from './select';
import { transposeInto } from './transposeInto';

function check(cond: boolean, what: string): void {
  if (!cond) throw new Error(`reference backend: ${what}`);
}

export const referenceBackend: NumericBackend = {
  name: 'reference',

  matmul(a, b, bias) {
    check(a.cols === b.rows, `matmul ${a.rows}×${a.cols} · ${b.rows}×${b.cols}`);
    const m = a.rows;
    const k = a.cols;
    const n = b.cols;
    const out = new Float32Array(m * n);
    const A = a.data;
    const B = b.data;
    if (bias) for (let i = 0; i < m; i++) out.set(bias, i * n);
    for (let i = 0; i < m; i++) {
      const oBase = i * n;
      const aBase = i * k;
      let p = 0;
      // Four rows of B per pass over the output row: a quarter of the loads and stores of out (≈2× here).
      for (; p + 3 < k; p += 4) {
        const a0 = A[aBase + p];
        const a1 = A[aBase + p + 1];
        const a2 = A[aBase + p + 2];
        const a3 = A[aBase + p + 3];
        const b0 = p * n;
        const b1 = b0 + n;
        const b2 = b1 + n;
        const b3 = b2 + n;
        for (let j = 0; j < n; j++) out[oBase + j] += a0 * B[b0 + j] + a1 * B[b1 + j] + a2 * B[b2 + j] + a3 * B[b3 + j];
      }
      for (; p < k; p++) {
        const av = A[aBase + p];
        const bBase = p * n;
        for (let j = 0; j < n; j++) out[oBase + j] += av * B[bBase + j];
      }
    }
    return { data: out, rows: m, cols: n };
  },

  matmulTransA(a, b) {
    check(a.rows === b.rows, `matmulTransA ${a.rows}×${a.cols}ᵀ · ${b.rows}×${b.cols}`);
    const k = a.rows;
    const m = a.cols;
    const n = b.cols;
    const out = new Float32Array(m * n);
    const A = a.data;
    const B = b.data;
    for (let p = 0; p < k; p++) {
      const bBase = p * n;
      for (let i = 0; i < m; i++) {
        const av = A[p * m + i];
        if (av === 0) continue;
        const oBase = i * n;
        for (let j = 0; j < n; j++) out[oBase + j] += av * B[bBase + j];
      }
    }
    return { data: out, rows: m, cols: n };
  },

  matmulTransB(a, b) {
    check(a.cols === b.cols, `matmulTransB ${a.rows}×${a.cols} · ${b.rows}×${b.cols}ᵀ`);
    const m = a.rows;
    const n = b.rows;
    const k = a.cols;
    const out = new Float32Array(m * n);
    const A = a.data;
    const B = b.data;
    for (let i = 0; i < m; i++) {
      const aBase = i * k;
      for (let j = 0; j < n; j++) {
        const bBase = j * k;
        let s = 0;
        for (let p = 0; p < k; p++) s += A[aBase + p] * B[bBase + p];
        out[i * n + j] = s;
      }
    }
    return { data: out, rows: m, cols: n };
  },

  sparseMatmul(s, b, bias) {
    check(s.cols === b.rows, `sparseMatmul ${s.rows}×${s.cols} · ${b.rows}×${b.cols}`);
    const d = b.cols;
    const out = new Float32Array(s.rows * d);
    const B = b.data;
    for (let r = 0; r < s.rows; r++) {
      const oBase = r * d;
      if (bias) out.set(bias, oBase);
      for (let e = s.rowPtr[r]; e < s.rowPtr[r + 1]; e++) {
        const v = s.values[e];
        const bBase = s.colIdx[e] * d;
        for (let j = 0; j < d; j++) out[oBase + j] += v * B[bBase + j];
      }
    }
    return { data: out, rows: s.rows, cols: d };
  },

  sparseTransMatmulAcc(s: SparseRows, a: Matrix, out: Matrix) {
    check(s.rows === a.rows && out.rows === s.cols && out.cols === a.cols, 'sparseTransMatmulAcc shapes');
    const d = a.cols;
    const A = a.data;
    const O = out.data;
    for (let r = 0; r < s.rows; r++) {
      const aBase = r * d;
      for (let e = s.rowPtr[r]; e < s.rowPtr[r + 1]; e++) {
        const v = s.values[e];
        if (v === 0) continue;
        const oBase = s.colIdx[e] * d;
        for (let j = 0; j < d; j++) O[oBase + j] += v * A[aBase + j];
      }
    }
  },

  sparseTransMatmul(s, a, transposed) {
    const g = new Float32Array(s.cols * a.cols);
    this.sparseTransMatmulAcc(s, a, { data: g, rows: s.cols, cols: a.cols });
    if (!transposed) return g;
    const t = new Float32Array(g.length);
    transposeInto(g, s.cols, a.cols, t);
    return t;
  },

  sampledDot(pattern, a, b, out) {
    check(a.cols === b.cols && pattern.rows === a.rows && pattern.cols === b.rows, 'sampledDot shapes');
    check(out.length >= pattern.colIdx.length, 'sampledDot output too short');
    const d = a.cols;
    const A = a.data;
    const B = b.data;
    for (let r = 0; r < pattern.rows; r++) {
      const aBase = r * d;
      for (let e = pattern.rowPtr[r]; e < pattern.rowPtr[r + 1]; e++) {
        const bBase = pattern.colIdx[e] * d;
        let s = 0;
        for (let j = 0; j < d; j++) s += A[aBase + j] * B[bBase + j];
        out[e] = s;
      }
    }
  },

  matmulRowTopK(a, b, bias, k, mask) {
    return selectRowTopK(this.matmul(a, b, bias), k, mask);
  },

  matmulAbove(a, b, bias, lower) {
    check(lower.length === b.cols, 'matmulAbove bound length');
    return selectAbove(this.matmul(a, b, bias), lower);
  },
};
