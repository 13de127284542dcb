import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clampFeature } from '../../../../src/core/analysis/steer';
import { klDivergence, softmax, topIndices } from '../../../../src/core/analysis/nextToken';
import { logitEffects } from '../../../../src/core/analysis/logitEffects';
import { InferenceSae } from '../../../../src/core/inference/inferenceSae';
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
const sae = new InferenceSae(weights);

test('clamping moves the activation along the decoder row by the difference, keeping the rest', () => {
  const x = { data: Float32Array.of(0.5, 2, 0.1, 3), rows: 2, cols: 2 };
  const f = { features: { rows: 2, cols: 2, rowPtr: Int32Array.of(0, 1, 1), colIdx: Int32Array.of(0), values: Float32Array.of(0.5) } };
  const out = clampFeature(x, f, sae, 0, 0);
  assert.deepEqual(Array.from(out.data), [0, 2, 0.10000000149011612, 3]);
  const boosted = clampFeature(x, f, sae, 0, 4);
  assert.ok(Math.abs(boosted.data[0] - 4) < 1e-6);
  assert.ok(Math.abs(boosted.data[2] - 4.1) < 1e-6);
  assert.equal(x.data[0], 0.5, 'input untouched');
});

test('with a per-token normalisation the clamp is scaled back into the site’s units', () => {
  const normed = new InferenceSae({ ...weights, config: { ...weights.config, normalizeActivations: 'constant_norm_rescale' } });
  const x = { data: Float32Array.of(30, 40), rows: 1, cols: 2 }; // ‖x‖ = 50: normalised (0.85, 1.13)
  const enc = normed.encode(x);
  const f0 = enc.features.values[0];
  assert.ok(Math.abs(f0 - 0.6 * Math.SQRT2) < 1e-6);
  const out = clampFeature(x, enc, normed, 0, 0);
  // Removing f0·e0 in normalised space removes f0·50/√2 = 30 in the site's space.
  assert.ok(Math.abs(out.data[0]) < 1e-4);
  assert.equal(out.data[1], 40);
});

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
