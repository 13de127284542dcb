import { test } from 'node:test';
import assert from 'node:assert/strict';
import { auroc, balancedAccuracy, median, pearson } from '../../../../src/core/features/scores';

test('AUROC counts ties half and needs both classes', () => {
  assert.equal(auroc([3, 2, 1, 0], [1, 1, 0, 0]), 1);
  assert.equal(auroc([0, 1, 2, 3], [1, 1, 0, 0]), 0);
  assert.equal(auroc([1, 1, 1, 1], [1, 0, 1, 0]), 0.5);
  // One positive above one negative, tied with the other: (1 + 0.5) / 2.
  assert.equal(auroc([2, 1, 1], [1, 0, 0]), 1);
  assert.equal(auroc([1, 1, 0], [1, 0, 0]), 0.75);
  assert.equal(auroc([1, 2], [0, 0]), undefined);
});

test('balanced accuracy and Pearson correlation', () => {
  assert.equal(balancedAccuracy([1, 0, 1, 0], [1, 1, 0, 0]), 0.5);
  assert.equal(balancedAccuracy([1, 1, 0, 0], [2, 3, 0, 0]), 1);
  assert.ok(Math.abs(pearson([1, 2, 3], [2, 4, 6])! - 1) < 1e-12);
  assert.ok(Math.abs(pearson([1, 2, 3], [3, 2, 1])! + 1) < 1e-12);
  assert.equal(pearson([1, 1, 1], [1, 2, 3]), undefined);
  assert.equal(median([3, 1, 2, 10]), 2.5);
});
