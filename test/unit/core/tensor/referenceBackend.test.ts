import { test } from 'node:test';
import assert from 'node:assert/strict';
import { referenceBackend as be, SparseBuilder, sparseColumnSums, sparseToDense, type Matrix } from '../../../../src/core/tensor';
import { Rng } from '../../../../src/core/util/rng';

const rng = new Rng(9);
function rand(rows: number, cols: number, density = 1): Matrix {
  return { data: Float32Array.from({ length: rows * cols }, () => (rng.next() < density ? rng.normal() : 0)), rows, cols };
}
function naive(a: Matrix, b: Matrix, ta = false, tb = false): Float64Array {
  const m = ta ? a.cols : a.rows;
  const k = ta ? a.rows : a.cols;
  const n = tb ? b.rows : b.cols;
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += (ta ? a.data[p * a.cols + i] : a.data[i * a.cols + p]) * (tb ? b.data[j * b.cols + p] : b.data[p * b.cols + j]);
      out[i * n + j] = s;
    }
  return out;
}
function near(a: ArrayLike<number>, b: ArrayLike<number>): void {
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) < 1e-4 * (1 + Math.abs(b[i])), `${i}: ${a[i]} vs ${b[i]}`);
}
function sparse(m: Matrix): ReturnType<SparseBuilder['finish']> {
  const b = new SparseBuilder(m.rows, m.cols, 1);
  for (let r = 0; r < m.rows; r++) {
    for (let j = 0; j < m.cols; j++) if (m.data[r * m.cols + j] !== 0) b.push(j, m.data[r * m.cols + j]);
    b.endRow();
  }
  return b.finish();
}

test('dense products match a naive float64 product (odd sizes exercise the unrolled remainder)', () => {
  const a = rand(7, 13);
  const b = rand(13, 9);
  const bias = Float32Array.from({ length: 9 }, (_, i) => i);
  near(be.matmul(a, b, bias).data, naive(a, b).map((v, i) => v + (i % 9)));
});

test('matmulTransA and matmulTransB', () => {
  const a = rand(13, 7);
  const b = rand(13, 9);
  near(be.matmulTransA(a, b).data, naive(a, b, true, false));
  const c = rand(5, 13);
  const d = rand(6, 13);
  near(be.matmulTransB(c, d).data, naive(c, d, false, true));
});

test('sparse kernels equal their dense counterparts', () => {
  const sDense = rand(8, 11, 0.3);
  const s = sparse(sDense);
  assert.deepEqual(Array.from(sparseToDense(s).data), Array.from(sDense.data));
  const b = rand(11, 5);
  const bias = Float32Array.from({ length: 5 }, () => rng.normal());
  near(be.sparseMatmul(s, b, bias).data, naive(sDense, b).map((v, i) => v + bias[i % 5]));
  const a = rand(8, 5);
  const out = { data: new Float32Array(11 * 5).fill(1), rows: 11, cols: 5 };
  be.sparseTransMatmulAcc(s, a, out);
  near(out.data, naive(sDense, a, true, false).map((v) => v + 1));
  const w = rand(11, 5);
  const dots = new Float32Array(s.values.length);
  be.sampledDot(s, a, w, dots);
  const full = naive(a, w, false, true);
  for (let r = 0; r < s.rows; r++) for (let e = s.rowPtr[r]; e < s.rowPtr[r + 1]; e++) near([dots[e]], [full[r * 11 + s.colIdx[e]]]);
  const sums = sparseColumnSums(s);
  for (let j = 0; j < 11; j++) {
    let t = 0;
    for (let r = 0; r < 8; r++) t += sDense.data[r * 11 + j];
    near([sums[j]], [t]);
  }
});

test('shape mismatches are errors', () => {
  assert.throws(() => be.matmul(rand(2, 3), rand(4, 2)));
  assert.throws(() => be.matmulTransB(rand(2, 3), rand(2, 4)));
});
