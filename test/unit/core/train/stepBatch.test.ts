// scaledFiniteBatch (one pass: drop non-finite rows, scale, the FVU's variance sums) against the three
// separate passes it replaced, written out here: same values bit for bit, same skipped count, same variance.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { scaledFiniteBatch } from '../../../../src/core/train/stepBatch';
import { finiteRows } from '../../../../src/core/train/trainer';
import type { Matrix } from '../../../../src/core/tensor';
import { Rng } from '../../../../src/core/util/rng';

function threePasses(raw: Matrix, factor: number): { x: Float32Array; skipped: number; variance: number } {
  const { rows: good, skipped } = finiteRows(raw);
  const x = Float32Array.from(good.data, (v) => v * factor);
  const d = raw.cols;
  const s = new Float64Array(d);
  const sq = new Float64Array(d);
  for (let r = 0; r < good.rows; r++) {
    for (let j = 0; j < d; j++) {
      s[j] += x[r * d + j];
      sq[j] += x[r * d + j] * x[r * d + j];
    }
  }
  let variance = 0;
  for (let j = 0; j < d; j++) variance += sq[j] - (s[j] * s[j]) / good.rows;
  return { x, skipped, variance };
}

const rng = new Rng(3);
function batch(rows: number, d: number, bad: Map<number, number>): Matrix {
  const data = Float32Array.from({ length: rows * d }, () => rng.normal() * 3 + 1);
  for (const [r, v] of bad) data[r * d + rng.int(d)] = v;
  return { data, rows, cols: d };
}

test('scaledFiniteBatch equals finiteRows + scaling + the variance sums, with NaN / ±∞ rows dropped, odd widths, buffer reused', () => {
  let buffer: Float32Array | undefined;
  for (const [rows, d, factor] of [
    [7, 5, 0.37],
    [16, 1, 1],
    [33, 64, 1 / 3],
    [5, 9, 2.5], // smaller than the buffer of the previous call: written into it
  ] as const) {
    const raw = batch(rows, d, new Map([[1, Number.NaN], [rows - 1, Number.POSITIVE_INFINITY], [3, Number.NEGATIVE_INFINITY]]));
    const got = scaledFiniteBatch(raw, factor, buffer);
    const want = threePasses(raw, factor);
    assert.equal(got.skipped, want.skipped, `${rows}×${d}: skipped`);
    assert.equal(got.x.rows, rows - want.skipped);
    assert.deepEqual(got.x.data, want.x, `${rows}×${d}: values`);
    assert.equal(got.variance, want.variance, `${rows}×${d}: variance`);
    if (buffer && buffer.length >= rows * d) assert.equal(got.buffer, buffer, 'the buffer is reused when large enough');
    buffer = got.buffer;
  }
});

test('scaledFiniteBatch: a batch of only non-finite rows keeps none, a finite batch keeps all', () => {
  const allBad = batch(3, 4, new Map([[0, Number.NaN], [1, Number.NaN], [2, Number.POSITIVE_INFINITY]]));
  const none = scaledFiniteBatch(allBad, 0.5, undefined);
  assert.equal(none.x.rows, 0);
  assert.equal(none.skipped, 3);
  const good = batch(4, 3, new Map());
  const all = scaledFiniteBatch(good, 1, undefined);
  assert.equal(all.skipped, 0);
  assert.deepEqual(all.x.data, good.data);
});
