import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createOrtDenseEngine } from '../../../../src/core/runtime/ortDenseEngine';
import { createFastBackend, referenceBackend as ref, SparseBuilder, type Matrix, type SparseRows } from '../../../../src/core/tensor';
import { Rng } from '../../../../src/core/util/rng';

// Every operation of the fast backend against the reference backend, on both of its paths: the engine
// (forced with minEngineWork 0 and low density thresholds) and the sparse kernels, in JavaScript and in
// WebAssembly SIMD.
const engine = createOrtDenseEngine({ intraOpThreads: 1 });
const viaEngine = createFastBackend(engine, { minEngineWork: 0, denseAbove: 0, gatherAbove: 0 });
const viaJs = createFastBackend(engine, { minEngineWork: Number.POSITIVE_INFINITY, denseAbove: 2, gatherAbove: 2, sparseKernels: 'js' });
const viaWasm = createFastBackend(engine, { minEngineWork: Number.POSITIVE_INFINITY, denseAbove: 2, gatherAbove: 2, sparseKernels: 'wasm' });

test('fast backend: the WebAssembly SIMD kernels load here (else the wasm path below would test JavaScript)', () => {
  assert.equal(viaWasm.sparseKernels, 'WebAssembly SIMD', viaWasm.kernelNotice);
  assert.equal(viaWasm.kernelNotice, undefined);
  assert.equal(viaJs.sparseKernels, 'JavaScript');
});

const rng = new Rng(11);
function rand(rows: number, cols: number, density = 1): Matrix {
  return { data: Float32Array.from({ length: rows * cols }, () => (rng.next() < density ? rng.normal() : 0)), rows, cols };
}
function sparse(m: Matrix): SparseRows {
  const b = new SparseBuilder(m.rows, m.cols, 1);
  for (let r = 0; r < m.rows; r++) {
    for (let j = 0; j < m.cols; j++) if (m.data[r * m.cols + j] !== 0) b.push(j, m.data[r * m.cols + j]);
    b.endRow();
  }
  return b.finish();
}
function near(a: ArrayLike<number>, b: ArrayLike<number>, what: string): void {
  assert.equal(a.length, b.length, `${what}: length`);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) < 1e-4 * (1 + Math.abs(b[i])), `${what} ${i}: ${a[i]} vs ${b[i]}`);
}
function sameSparse(a: SparseRows, b: SparseRows, what: string): void {
  assert.deepEqual([...a.rowPtr], [...b.rowPtr], `${what}: row pointers`);
  assert.deepEqual([...a.colIdx], [...b.colIdx], `${what}: columns`);
  near(a.values, b.values, what);
}

for (const [label, be] of [['engine', viaEngine], ['javascript', viaJs], ['wasm', viaWasm]] as const) {
  test(`fast backend (${label} path): dense products equal the reference`, () => {
    const a = rand(9, 13);
    const b = rand(13, 11);
    const bias = Float32Array.from({ length: 11 }, (_, i) => i / 3);
    near(be.matmul(a, b, bias).data, ref.matmul(a, b, bias).data, 'matmul');
    const at = rand(13, 9);
    const c = rand(13, 5);
    near(be.matmulTransA(at, c).data, ref.matmulTransA(at, c).data, 'matmulTransA');
    const bt = rand(7, 13);
    near(be.matmulTransB(a, bt).data, ref.matmulTransB(a, bt).data, 'matmulTransB');
  });

  test(`fast backend (${label} path): sparse products, gradients and sampled dots equal the reference`, () => {
    const s = sparse(rand(10, 37, 0.2));
    const w = rand(37, 6);
    const bias = Float32Array.from({ length: 6 }, (_, i) => -i);
    near(be.sparseMatmul(s, w, bias).data, ref.sparseMatmul(s, w, bias).data, 'sparseMatmul');
    const a = rand(10, 6);
    const out1 = rand(37, 6);
    const out2: Matrix = { ...out1, data: out1.data.slice() };
    be.sparseTransMatmulAcc(s, a, out1);
    ref.sparseTransMatmulAcc(s, a, out2);
    near(out1.data, out2.data, 'sparseTransMatmulAcc');
    near(be.sparseTransMatmul(s, a, false), ref.sparseTransMatmul(s, a, false), 'sparseTransMatmul');
    const t = be.sparseTransMatmul(s, a, true); // [6 × 37]
    const plain = ref.sparseTransMatmul(s, a, false); // [37 × 6]
    near(t, Float32Array.from({ length: 6 * 37 }, (_, k) => plain[(k % 37) * 6 + Math.floor(k / 37)]), 'sparseTransMatmul transposed');
    const got = new Float32Array(s.colIdx.length);
    const want = new Float32Array(s.colIdx.length);
    be.sampledDot(s, a, w, got);
    ref.sampledDot(s, a, w, want);
    near(got, want, 'sampledDot');
  });

  test(`fast backend (${label} path): row top-k (with a mask) and per-column thresholds select what the reference selects`, () => {
    const x = rand(23, 8);
    const w = rand(8, 512);
    const bias = Float32Array.from({ length: 512 }, () => rng.normal() * 0.1);
    sameSparse(be.matmulRowTopK(x, w, bias, 5), ref.matmulRowTopK(x, w, bias, 5), 'rowTopK');
    const mask = Uint8Array.from({ length: 512 }, (_, j) => (j % 3 === 0 ? 1 : 0));
    sameSparse(be.matmulRowTopK(x, w, bias, 4, mask), ref.matmulRowTopK(x, w, bias, 4, mask), 'masked rowTopK');
    const lower = Float32Array.from({ length: 512 }, () => 4 + rng.next()); // ~5% of entries
    // Called repeatedly: the candidate count adapts, and rows with more entries than candidates must still be complete.
    for (let i = 0; i < 3; i++) sameSparse(be.matmulAbove(x, w, bias, lower), ref.matmulAbove(x, w, bias, lower), `above ${i}`);
    const low = new Float32Array(512).fill(-0.5); // half the entries pass: every row exceeds the candidate count
    sameSparse(be.matmulAbove(x, w, bias, low), ref.matmulAbove(x, w, bias, low), 'above (dense rows)');
  });
}

test('the ORT engine returns only top-k entries and sampled products, matching dense products', () => {
  const a = rand(5, 7);
  const b = rand(7, 40);
  const full = ref.matmul(a, b);
  const top = engine.gemmRowTopK(a, b, undefined, undefined, 3);
  for (let r = 0; r < 5; r++) {
    const row = Array.from(full.data.subarray(r * 40, (r + 1) * 40)).sort((p, q) => q - p);
    const got = Array.from(top.values.subarray(r * 3, r * 3 + 3)).sort((p, q) => q - p);
    near(got, row.slice(0, 3), `row ${r}`);
  }
  const bt = rand(40, 7);
  const idx = Int32Array.from({ length: 5 * 2 }, (_, i) => (i * 7) % 40);
  const prod = ref.matmulTransB(a, bt);
  near(engine.gemmTransBGather(a, bt, idx, 2), Array.from(idx, (c, i) => prod.data[Math.floor(i / 2) * 40 + c]), 'gather');
});
