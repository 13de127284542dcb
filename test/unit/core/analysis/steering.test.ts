import { test } from 'node:test';
import assert from 'node:assert/strict';
import { klDivergence, softmax, topIndices } from '../../../../src/core/analysis/nextToken';
import { logitEffects } from '../../../../src/core/analysis/logitEffects';
import type { SaeWeights } from '../../../../src/core/sae/weights';

const weights: SaeWeights = {
  config: { architecture: 'jumprelu', dIn: 2, dSae: 2, applyBDecToInput: false },
  tensors: new Map([
    ['W_enc', { shape: [2, 2], data: Float32Array.of(1, 0, 0, 1) }],
    ['b_enc', { shape: [2], data: Float32Array.of(0, 0) }],
    ['threshold', { shape: [2], data: Float32Array.of(0.2, 0.2) }],
    ['W_dec', { shape: [2, 2], data: Float32Array.of(1, 0, 0, 1) }],
    ['b_dec', { shape: [2], data: Float32Array.of(0, 0) }],
  ]),
};

test('softmax, top-k and KL behave as distributions should', () => {
  const p = softmax(Float32Array.of(1, 3, 2));
  assert.ok(Math.abs(p.reduce((a, b) => a + b, 0) - 1) < 1e-12);
  assert.deepEqual(topIndices(p, 2), [1, 2]);
  assert.deepEqual(topIndices([5, 1, 9, 7, 3], 3), [2, 3, 0]);
  assert.equal(klDivergence(p, p), 0);
  assert.ok(klDivergence(p, softmax(Float32Array.of(3, 1, 2))) > 0.1);
});

test('logit effects rank the tokens the decoder direction points at', () => {
  // Vocabulary of 3 tokens with unembedding rows (1,-1), (-1,1), (0,0); feature 0 = (1,0) centred = (0.5,-0.5).
  const unembed = { weight: { data: Float32Array.of(1, -1, -1, 1, 0, 0), rows: 3, cols: 2 } };
  const e = logitEffects(weights, 0, unembed, 1);
  assert.equal(e.promoted[0].id, 0);
  assert.equal(e.suppressed[0].id, 1);
  assert.ok(e.suppressed[0].value < 0);
});
