import { test } from 'node:test';
import assert from 'node:assert/strict';
import { activationHistogram, firingDensity, TopExamples } from '../../../../src/core/analysis/featureStats';

test('keeps the strongest examples with context around the peak', () => {
  const top = new TopExamples(2);
  top.offer('a', ['x', 'y', 'z'], [0, 1, 0], 1);
  top.offer('b', ['p', 'q', 'r', 's'], [0, 0, 0, 5], 1);
  top.offer('c', ['m'], [0], 1); // never fires: ignored
  top.offer('d', ['u', 'v'], [2, 0], 0);
  const ex = top.examples();
  assert.deepEqual(ex.map((e) => e.source), ['b', 'd']);
  assert.deepEqual(ex[0].tokens, ['r', 's']);
  assert.equal(ex[0].peak, 1);
  assert.equal(ex[1].maxActivation, 2);
});

test('histogram counts only firing values, density is the firing fraction', () => {
  const h = activationHistogram([0, 1, 2, 4, 0], 4);
  assert.deepEqual(h.edges, [0, 1, 2, 3, 4]);
  assert.deepEqual(h.counts, [0, 1, 1, 1]);
  assert.equal(firingDensity([0, 1, 2, 4, 0]), 0.6);
  assert.deepEqual(activationHistogram([0, 0], 2).counts, [0, 0]);
});
