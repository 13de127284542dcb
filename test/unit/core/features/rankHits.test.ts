import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rankHits, surpriseOfHit } from '../../../../src/core/features/rankHits';
import type { FeatureHit } from '../../../../src/protocol/analysis';

const hits: FeatureHit[] = [
  { id: 1, activation: 5, share: 0.5, density: 0.4 }, // strong but dense
  { id: 2, activation: 2, share: 0.3, density: 0.001 }, // weaker, rare: distinctive
  { id: 3, activation: 3, share: 0.1, density: 0.05 },
  { id: 4, activation: 1, share: 0.1 }, // density unknown
];

test('surprise ranks a rare feature above a stronger dense one; hiding dense features drops them', () => {
  assert.deepEqual(rankHits(hits, 'activation', false, 10).map((h) => h.id), [1, 3, 2, 4]);
  assert.deepEqual(rankHits(hits, 'share', false, 10).map((h) => h.id), [1, 2, 3, 4]);
  assert.deepEqual(rankHits(hits, 'surprise', false, 10).map((h) => h.id), [2, 3, 1, 4]);
  assert.deepEqual(rankHits(hits, 'surprise', true, 2).map((h) => h.id), [2, 3]);
  assert.ok(surpriseOfHit(hits[1]) > surpriseOfHit(hits[0]));
  assert.equal(surpriseOfHit(hits[3]), 1, 'without a density the activation is the score');
});
