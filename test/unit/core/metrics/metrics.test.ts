import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mse, perDimMse, fvu, explainedVariance, ReconstructionAccumulator } from '../../../../src/core/metrics/reconstruction';
import { l0, FiringTracker, densityHistogram, denseFraction, log10Frequencies } from '../../../../src/core/metrics/sparsity';

const m = (rows: number, cols: number, values: number[]) => ({ data: Float32Array.from(values), rows, cols });

test('MSE, per-dim MSE, FVU and explained variance on a hand case', () => {
  const x = m(2, 2, [1, 2, 3, 6]);
  const xHat = m(2, 2, [1, 3, 3, 4]);
  // errors²: row0 1, row1 4 → MSE 2.5; per dim 1.25. Mean x = (2, 4); Σ‖x − x̄‖² = 1+4+1+4 = 10 → FVU 0.5.
  assert.equal(mse(x, xHat), 2.5);
  assert.equal(perDimMse(x, xHat), 1.25);
  assert.equal(fvu(x, xHat), 0.5);
  assert.equal(explainedVariance(x, xHat), 0.5);
  assert.equal(fvu(x, x), 0);
});

test('the accumulator over batches equals one pass over everything', () => {
  const x = m(4, 2, [1, 2, 3, 6, -1, 0, 2, 2]);
  const xHat = m(4, 2, [1, 3, 3, 4, 0, 0, 2, 1]);
  const acc = new ReconstructionAccumulator(2);
  acc.add(m(2, 2, Array.from(x.data.slice(0, 4))), m(2, 2, Array.from(xHat.data.slice(0, 4))));
  acc.add(m(2, 2, Array.from(x.data.slice(4))), m(2, 2, Array.from(xHat.data.slice(4))));
  assert.ok(Math.abs(acc.fvu() - fvu(x, xHat)) < 1e-12);
  assert.ok(Math.abs(acc.mse() - mse(x, xHat)) < 1e-12);
  assert.throws(() => acc.add(m(1, 3, [1, 2, 3]), m(1, 3, [1, 2, 3])));
});

test('L0, dead features over a window, dense features and the density histogram', () => {
  const f = m(4, 3, [1, 0, 0, 2, 0, 0, 1, 0, 0, 3, 0.5, 0]);
  assert.equal(l0(f), 1.25);
  const t = new FiringTracker(3);
  t.add(f);
  assert.deepEqual(Array.from(t.frequencies()), [1, 0.25, 0]);
  assert.equal(t.denseFraction(), 1 / 3 + 1 / 3);
  assert.equal(t.neverFiredFraction(), 1 / 3);
  assert.deepEqual(Array.from(t.deadMask(4)), [0, 0, 1]);
  t.add(m(3, 3, [1, 0, 0, 1, 0, 0, 1, 0, 0]));
  // latent 1 last fired at token 4; 7 tokens seen → dead for a window of 3, alive for a window of 4.
  assert.deepEqual(Array.from(t.deadMask(3)), [0, 1, 1]);
  assert.deepEqual(Array.from(t.deadMask(4)), [0, 0, 1]);
  assert.equal(denseFraction([0.5, 0.05, 0.11]), 2 / 3);
  const h = densityHistogram([1, 0.1, 0.01, 0], 4, -4);
  assert.equal(h.neverFired, 1);
  assert.deepEqual(h.counts, [0, 0, 1, 2]);
  assert.deepEqual(Array.from(log10Frequencies([0.1, 0])), [-1, -10]);
});
