import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { referenceBackend as ref, SparseBuilder, type Matrix, type SparseRows } from '../../../../src/core/tensor';
import { jsSparseKernels } from '../../../../src/core/tensor/sparseKernels';
import { transposeInto } from '../../../../src/core/tensor/transposeInto';
import { loadWasmSparseKernels } from '../../../../src/core/tensor/wasmKernels';
import { Rng } from '../../../../src/core/util/rng';

// The WebAssembly SIMD kernels against the reference backend at shapes that reach every loop: rows of
// d % 4 ≠ 0 and d % 16 ≠ 0 (scalar tails), empty rows, rows with more than eight entries (the 8-entry
// groups plus a remainder), and operands larger than the module's first memory (it must grow).
const rng = new Rng(5);
const kernels = loadWasmSparseKernels();
const twoThreads = loadWasmSparseKernels({ threads: 2 });
after(() => twoThreads.dispose());

function rand(rows: number, cols: number): Matrix {
  return { data: Float32Array.from({ length: rows * cols }, () => rng.normal()), rows, cols };
}
function randomSparse(rows: number, cols: number, counts: (r: number) => number): SparseRows {
  const b = new SparseBuilder(rows, cols);
  for (let r = 0; r < rows; r++) {
    const picked = new Set<number>();
    const want = Math.min(cols, counts(r));
    while (picked.size < want) picked.add(rng.int(cols));
    for (const j of [...picked].sort((x, y) => x - y)) b.push(j, rng.normal());
    b.endRow();
  }
  return b.finish();
}
function near(a: ArrayLike<number>, b: ArrayLike<number>, what: string): void {
  assert.equal(a.length, b.length, `${what}: length`);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) < 1e-4 * (1 + Math.abs(b[i])), `${what} ${i}: ${a[i]} vs ${b[i]}`);
}

for (const d of [1, 3, 4, 13, 16, 37, 64]) {
  test(`wasm sparse kernels, d ${d}: decode, transposed accumulation and sampled dots equal the reference`, () => {
    const rows = 29;
    const cols = 41;
    const s = randomSparse(rows, cols, (r) => (r % 5 === 0 ? 0 : r % 7)); // 0..6 entries, some rows empty
    const wide = randomSparse(rows, cols, (r) => 9 + (r % 12)); // 8-entry groups and remainders
    const withZeros: SparseRows = { ...wide, values: wide.values.map((v, e) => (e % 5 === 2 ? 0 : v)) }; // stored zeros are skipped
    for (const code of [s, wide, withZeros]) {
      const w = rand(cols, d);
      const bias = Float32Array.from({ length: d }, (_, i) => i - 1.5);
      near(kernels.sparseTimesDense(code, w, bias).data, ref.sparseMatmul(code, w, bias).data, 'decode with bias');
      near(kernels.sparseTimesDense(code, w, undefined).data, ref.sparseMatmul(code, w).data, 'decode');
      const a = rand(rows, d);
      const got = rand(cols, d); // accumulates into what is there
      const want: Matrix = { ...got, data: got.data.slice() };
      kernels.sparseTransposeTimesDenseAcc(code, a, got);
      ref.sparseTransMatmulAcc(code, a, want);
      near(got.data, want.data, 'transposed accumulation');
      // Into fresh zeros, and transposed in the module: exactly the accumulation into zeros (same sums).
      const zeros: Matrix = { data: new Float32Array(cols * d), rows: cols, cols: d };
      kernels.sparseTransposeTimesDenseAcc(code, a, zeros);
      assert.deepEqual(kernels.sparseTransposeTimesDense(code, a, false), zeros.data, 'fresh product');
      const t = new Float32Array(cols * d);
      transposeInto(zeros.data, cols, d, t);
      assert.deepEqual(kernels.sparseTransposeTimesDense(code, a, true), t, 'fresh product, transposed');
      const dots = new Float32Array(code.colIdx.length);
      const dotsRef = new Float32Array(code.colIdx.length);
      kernels.sampledDots(code, a, w, dots);
      ref.sampledDot(code, a, w, dotsRef);
      near(dots, dotsRef, 'sampled dots');
    }
  });
}

test('wasm sparse kernels: the fresh (and transposed) gradient product at every 4×4-tile remainder, with empty and all-active codes, equals the JavaScript kernels', () => {
  for (let cols = 1; cols <= 9; cols++) {
    for (const d of [1, 2, 3, 4, 5, 7, 8, 9]) {
      const rows = 6;
      const a = rand(rows, d);
      const empty = randomSparse(rows, cols, () => 0);
      const full = randomSparse(rows, cols, () => cols); // every latent active in every row
      for (const code of [empty, full, randomSparse(rows, cols, (r) => r % 3)]) {
        for (const transposed of [false, true]) {
          const got = kernels.sparseTransposeTimesDense(code, a, transposed);
          const want = jsSparseKernels.sparseTransposeTimesDense(code, a, transposed);
          near(got, want, `${cols}×${d}${transposed ? ' transposed' : ''}`);
          if (code === empty) assert.ok(got.every((v) => v === 0), 'an empty code gives zeros');
        }
      }
    }
  }
  // A non-finite input reaches the output (the trainer's finiteness check reports it), it is not dropped.
  const b = new SparseBuilder(4, 5);
  b.push(2, 1.5);
  b.endRow();
  for (let r = 1; r < 4; r++) b.endRow();
  const a = rand(4, 7);
  a.data[3] = Number.NaN; // row 0, column 3
  const t = kernels.sparseTransposeTimesDense(b.finish(), a, true); // [7 × 5]
  assert.ok(Number.isNaN(t[3 * 5 + 2]), 'NaN reaches its entry');
  assert.equal(t.filter((v) => Number.isNaN(v)).length, 1, 'and no other');
});

test('wasm sparse kernels: operands beyond the initial memory grow it, and later small calls still agree', () => {
  const s = randomSparse(600, 3000, () => 24);
  const w = rand(3000, 130); // 1.5 MB: more than the first 1 MiB of memory
  near(kernels.sparseTimesDense(s, w, undefined).data, ref.sparseMatmul(s, w).data, 'large decode');
  const small = randomSparse(3, 5, () => 2);
  const ws = rand(5, 2);
  near(kernels.sparseTimesDense(small, ws, undefined).data, ref.sparseMatmul(small, ws).data, 'small decode after growth');
});

test('wasm sparse kernels on two threads: products large enough to split give exactly the one-thread results', () => {
  assert.equal(twoThreads.threads, 2);
  for (let round = 0; round < 3; round++) {
    const s = randomSparse(700, 2500, (r) => 10 + (r % 40)); // uneven rows: the split balances entries
    const w = rand(2500, 67);
    const bias = Float32Array.from({ length: 67 }, (_, i) => i / 7);
    assert.deepEqual(twoThreads.sparseTimesDense(s, w, bias).data, kernels.sparseTimesDense(s, w, bias).data, 'decode');
    const a = rand(700, 67);
    const g1 = rand(2500, 67);
    const g2: Matrix = { ...g1, data: g1.data.slice() };
    twoThreads.sparseTransposeTimesDenseAcc(s, a, g2);
    kernels.sparseTransposeTimesDenseAcc(s, a, g1);
    assert.deepEqual(g2.data, g1.data, 'transposed accumulation');
    const want = new Float32Array(s.colIdx.length);
    ref.sampledDot(s, a, w, want);
    const one = new Float32Array(s.colIdx.length);
    const two = new Float32Array(s.colIdx.length);
    kernels.sampledDots(s, a, w, one);
    twoThreads.sampledDots(s, a, w, two);
    assert.deepEqual(two, one, 'sampled dots');
    near(two, want, 'sampled dots vs reference');
  }
});

test('without WebAssembly (node --jitless) the fast backend keeps its JavaScript kernels and says so in one line', () => {
  const tensorRoom = JSON.stringify(join(__dirname, '../../../../src/core/tensor'));
  const script = `const t = require(${tensorRoom}); const b = t.createFastBackend({ name: 'none' }); console.log(JSON.stringify([b.sparseKernels, b.kernelNotice]));`;
  const r = spawnSync(process.execPath, ['--jitless', '--import', 'tsx', '-e', script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const [kernelsName, notice] = JSON.parse(r.stdout.trim().split('\n').pop() ?? '[]') as [string, string];
  assert.equal(kernelsName, 'JavaScript');
  assert.match(notice, /^WebAssembly SIMD sparse kernels unavailable \(.+\); using the JavaScript ones$/);
});

test('candidate rows: wasm and JavaScript keep the positive-score candidates with ascending columns', () => {
  for (const k of [1, 5, 32, 130]) {
    const rows = 23;
    const cols = 4 * k + 3;
    const indices = new Int32Array(rows * k);
    const values = new Float32Array(rows * k);
    const scores = new Float32Array(rows * k);
    for (let r = 0; r < rows; r++) {
      const picked = new Set<number>();
      while (picked.size < k) picked.add(rng.int(cols));
      [...picked].forEach((c, i) => {
        indices[r * k + i] = c; // unordered
        values[r * k + i] = rng.normal();
        scores[r * k + i] = r % 4 === 0 ? 1 : rng.normal(); // every fourth row keeps all
      });
    }
    const want = jsSparseKernels.candidatesToRows(k, rows, cols, indices, values, scores);
    for (let r = 0; r < rows; r++) {
      const kept = [...Array(k).keys()].filter((i) => scores[r * k + i] > 0).map((i) => indices[r * k + i]).sort((a, b) => a - b);
      assert.deepEqual([...want.colIdx.subarray(want.rowPtr[r], want.rowPtr[r + 1])], kept, `JavaScript row ${r}`);
    }
    const got = kernels.candidatesToRows(k, rows, cols, indices, values, scores);
    assert.deepEqual([...got.rowPtr], [...want.rowPtr], `k ${k} row pointers`);
    assert.deepEqual([...got.colIdx], [...want.colIdx], `k ${k} columns`);
    assert.deepEqual([...got.values], [...want.values], `k ${k} values`);
  }
});
