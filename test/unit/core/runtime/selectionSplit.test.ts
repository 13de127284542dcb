import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createOrtDenseEngine } from '../../../../src/core/runtime/ortDenseEngine';
import { createFastBackend, NonFiniteError, type Matrix } from '../../../../src/core/tensor';
import { Rng } from '../../../../src/core/util/rng';

// The selection graphs split into two row halves (this thread's and the helper thread's, forced here with
// splitSelectionFrom 1) must return exactly what one whole run returns: same entries, same order, same
// values up to float rounding (MLAS may take another kernel for a different row count, e.g. one row), and a
// non-finite product must still be caught.
const whole = createOrtDenseEngine({ intraOpThreads: 1 });
const split = createOrtDenseEngine({ intraOpThreads: 1, splitSelectionFrom: 1 });
/** Row halves the split engine's helper thread ran (the engine counts them). */
const helperRuns = (): number => (split as unknown as { helperRuns: number }).helperRuns;
after(() => {
  whole.dispose();
  split.dispose();
});

const rng = new Rng(5);
function rand(rows: number, cols: number): Matrix {
  return { data: Float32Array.from({ length: rows * cols }, () => rng.normal()), rows, cols };
}
const same = (a: ArrayLike<number>, b: ArrayLike<number>, what: string): void => assert.deepEqual(Array.from(a), Array.from(b), what);
function near(a: ArrayLike<number>, b: ArrayLike<number>, what: string): void {
  assert.equal(a.length, b.length, `${what}: length`);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= 1e-5 * (1 + Math.abs(b[i])), `${what} ${i}: ${a[i]} vs ${b[i]}`);
}

for (const rows of [1, 2, 7, 33]) {
  test(`selection split: gemmAbove over ${rows} rows returns the whole run's entries in row-major order`, () => {
    const a = rand(rows, 19);
    const b = rand(19, 37);
    const lower = Float32Array.from({ length: 37 }, (_, j) => (j % 5) - 2);
    const bias = Float32Array.from({ length: 37 }, (_, j) => (j % 3) * 0.7 - 0.5);
    for (const bi of [undefined, bias]) {
      const w = whole.gemmAbove(a, b, bi, lower);
      const ran = helperRuns();
      const s = split.gemmAbove(a, b, bi, lower);
      assert.equal(helperRuns(), ran + (rows >= 2 ? 1 : 0), 'the helper ran the bottom half');
      assert.ok(w.rows.length > 0);
      same(s.rows, w.rows, 'rows');
      same(s.cols, w.cols, 'cols');
      near(s.values, w.values, 'values');
      for (let e = 1; e < s.rows.length; e++) assert.ok(s.rows[e] > s.rows[e - 1] || (s.rows[e] === s.rows[e - 1] && s.cols[e] > s.cols[e - 1]), 'row-major');
      assert.ok(Math.abs(s.checksum - w.checksum) <= 1e-3 * (1 + Math.abs(w.checksum)), `checksum ${s.checksum} vs ${w.checksum}`);
    }
  });

  test(`selection split: gemmRowTopK over ${rows} rows returns the whole run's picks`, () => {
    const a = rand(rows, 11);
    const b = rand(11, 29);
    const bias = Float32Array.from({ length: 29 }, (_, j) => j * 0.05);
    const shift = Float32Array.from({ length: 29 }, (_, j) => (j % 4 === 0 ? Number.POSITIVE_INFINITY : 0));
    for (const [bi, sh, k] of [[undefined, undefined, 3], [bias, undefined, 5], [bias, shift, 4]] as const) {
      const w = whole.gemmRowTopK(a, b, bi, sh, k);
      const ran = helperRuns();
      const s = split.gemmRowTopK(a, b, bi, sh, k);
      assert.equal(helperRuns(), ran + (rows >= 2 ? 1 : 0), 'the helper ran the bottom half');
      // TopK's order within a row is unspecified: compare each row's picks sorted by column.
      for (let r = 0; r < rows; r++) {
        const picks = (t: typeof w): number[][] =>
          Array.from({ length: k }, (_, i) => r * k + i)
            .map((e) => [t.indices[e], t.values[e], t.scores[e]])
            .sort((p, q) => p[0] - q[0]);
        const ps = picks(s);
        const pw = picks(w);
        same(ps.map((p) => p[0]), pw.map((p) => p[0]), `row ${r}: columns`);
        near(ps.map((p) => p[1]), pw.map((p) => p[1]), `row ${r}: values`);
        near(ps.map((p) => p[2]), pw.map((p) => p[2]), `row ${r}: scores`);
      }
      assert.ok(Math.abs(s.checksum - w.checksum) <= 1e-3 * (1 + Math.abs(w.checksum)));
    }
  });
}

for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
  test(`selection split: a ${bad} in either half's product raises NonFiniteError`, () => {
    const backend = createFastBackend(split, { minEngineWork: 0 });
    for (const row of [0, 8]) {
      const a = rand(9, 6);
      a.data[row * 6 + 2] = bad;
      const b = rand(6, 17);
      const lower = new Float32Array(17).fill(100); // nothing passes: only the checksum can see the bad value
      assert.throws(() => backend.matmulAbove(a, b, undefined, lower), NonFiniteError, `matmulAbove, row ${row}`);
      assert.throws(() => backend.matmulRowTopK(a, b, undefined, 2), NonFiniteError, `matmulRowTopK, row ${row}`);
    }
  });
}
