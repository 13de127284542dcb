import { test } from 'node:test';
import assert from 'node:assert/strict';
import { intervene, validateInterventions, valueLimit, type Intervention } from '../../../../src/core/analysis/interventions';
import { chooseToken, validateSampling } from '../../../../src/core/analysis/sampling';
import { InferenceSae } from '../../../../src/core/inference/inferenceSae';
import type { SaeWeights } from '../../../../src/core/sae/weights';
import { Rng } from '../../../../src/core/util/rng';

// Two features with decoder rows (1, 0) and (0, 2); the encoder reads x₀ and x₁/2.
const weights: SaeWeights = {
  config: { architecture: 'jumprelu', dIn: 2, dSae: 2, applyBDecToInput: false },
  tensors: new Map([
    ['W_enc', { shape: [2, 2], data: Float32Array.of(1, 0, 0, 0.5) }],
    ['b_enc', { shape: [2], data: Float32Array.of(0, 0) }],
    ['threshold', { shape: [2], data: Float32Array.of(0.2, 0.2) }],
    ['W_dec', { shape: [2, 2], data: Float32Array.of(1, 0, 0, 2) }],
    ['b_dec', { shape: [2], data: Float32Array.of(0, 0) }],
  ]),
};
const sae = new InferenceSae(weights);
// Row 0: both features fire (0.5, 1); row 1: only feature 1 (f = 1.5); row 2: only feature 0 (f = 3).
const x = { data: Float32Array.of(0.5, 2, 0.1, 3, 3, 0.1), rows: 3, cols: 2 };
const enc = sae.encode(x);
const all = { kind: 'all' } as const;

test('each operation moves the activation by (new − old) × the decoder row, nothing else', () => {
  const zero = intervene(x, enc, sae, [{ feature: 1, op: { kind: 'zero' }, positions: all }]);
  assert.deepEqual(Array.from(zero.data), Array.from(Float32Array.of(0.5, 0, 0.1, 0, 3, 0.1)));
  const clamp = intervene(x, enc, sae, [{ feature: 0, op: { kind: 'clamp', value: 2 }, positions: all }]);
  // Feature 0 was 0.5, 0 (not firing) and 3: clamping to 2 adds 1.5, 2 and −1 along (1, 0).
  assert.deepEqual(Array.from(clamp.data), Array.from(Float32Array.of(2, 2, 2.1, 3, 2, 0.1)));
  const scale = intervene(x, enc, sae, [{ feature: 1, op: { kind: 'scale', factor: 3 }, positions: all }]);
  // f₁ = 1 → 3 adds 2·(0, 2) at row 0; f₁ = 1.5 → 4.5 adds 3·(0, 2) at row 1; row 2 has f₁ = 0.
  assert.deepEqual(Array.from(scale.data), Array.from(Float32Array.of(0.5, 6, 0.1, 9, 3, 0.1)));
  const added = intervene(x, enc, sae, [{ feature: 1, op: { kind: 'add', amount: -0.5 }, positions: all }]);
  assert.deepEqual(Array.from(added.data), Array.from(Float32Array.of(0.5, 1, 0.1, 2, 3, -0.9)));
});

test('positions: a range, from a position on, and absolute positions of a later window', () => {
  const op = { kind: 'zero' } as const;
  const range = intervene(x, enc, sae, [{ feature: 1, op, positions: { kind: 'range', start: 1, end: 2 } }]);
  assert.deepEqual(Array.from(range.data), Array.from(Float32Array.of(0.5, 2, 0.1, 0, 3, 0.1)));
  const from = intervene(x, enc, sae, [{ feature: 0, op, positions: { kind: 'from', start: 1 } }]);
  assert.deepEqual(Array.from(from.data), Array.from(Float32Array.of(0.5, 2, 0.1, 3, 0, 0.1)));
  // Rows are positions 10, 11, 12: "from 12" touches only the last row.
  const late = intervene(x, enc, sae, [{ feature: 0, op, positions: { kind: 'from', start: 12 } }], 10);
  assert.deepEqual(Array.from(late.data), Array.from(Float32Array.of(0.5, 2, 0.1, 3, 0, 0.1)));
  const early = intervene(x, enc, sae, [{ feature: 0, op, positions: { kind: 'range', start: 0, end: 10 } }], 10);
  assert.deepEqual(Array.from(early.data), Array.from(x.data), 'positions 0..9 are before the window');
});

test('no interventions, or a feature set to its own value, leave the activations bit for bit', () => {
  const same = (ivs: Intervention[]) => assert.deepEqual(Array.from(intervene(x, enc, sae, ivs).data), Array.from(x.data));
  same([]);
  same([{ feature: 1, op: { kind: 'scale', factor: 1 }, positions: all }]);
  same([{ feature: 0, op: { kind: 'add', amount: 0 }, positions: all }]);
  same([{ feature: 1, op: { kind: 'clamp', value: 1.5 }, positions: { kind: 'range', start: 1, end: 2 } }]);
  const notSame = intervene(x, enc, sae, [{ feature: 1, op: { kind: 'clamp', value: 1.5 }, positions: all }]);
  assert.notDeepEqual(Array.from(notSame.data), Array.from(x.data), 'row 0 has f₁ = 1, so the clamp moves it');
});

test('with a per-token normalisation the edit is mapped back into the site’s units', () => {
  const normed = new InferenceSae({ ...weights, config: { ...weights.config, normalizeActivations: 'constant_norm_rescale' } });
  const x1 = { data: Float32Array.of(30, 40), rows: 1, cols: 2 };
  const e = normed.encode(x1);
  const out = intervene(x1, e, normed, [{ feature: 0, op: { kind: 'zero' }, positions: all }]);
  assert.ok(Math.abs(out.data[0]) < 1e-4, `x₀ removed entirely, got ${out.data[0]}`);
  assert.equal(out.data[1], 40);
});

test('bad values and positions are refused with the range that makes sense', () => {
  const limit = valueLimit(x);
  assert.equal(limit, 1000, 'small activations: the floor of ±1000');
  const bad = (iv: Intervention, re: RegExp) => assert.throws(() => validateInterventions([iv], 2, 3, limit), re);
  bad({ feature: 0, op: { kind: 'clamp', value: NaN }, positions: all }, /finite/);
  bad({ feature: 0, op: { kind: 'add', amount: Infinity }, positions: all }, /finite/);
  bad({ feature: 0, op: { kind: 'clamp', value: 1e9 }, positions: all }, /outside the sensible range −1000\.\.1000/);
  bad({ feature: 0, op: { kind: 'scale', factor: -5000 }, positions: all }, /outside the sensible range −1000\.\.1000/);
  bad({ feature: 2, op: { kind: 'zero' }, positions: all }, /feature 2 is outside 0\.\.1/);
  bad({ feature: 0, op: { kind: 'zero' }, positions: { kind: 'from', start: 3 } }, /beyond the text \(3 tokens/);
  bad({ feature: 0, op: { kind: 'zero' }, positions: { kind: 'range', start: 2, end: 1 } }, /not a range/);
  validateInterventions([{ feature: 1, op: { kind: 'clamp', value: -999 }, positions: { kind: 'range', start: 0, end: 3 } }], 2, 3, limit);
  const big = { data: Float32Array.of(300, 400), rows: 1, cols: 2 };
  assert.equal(valueLimit(big), 50000, '100 × the largest activation norm');
});

test('sampling: greedy takes the argmax, a tiny top-p too, and a seed repeats a run', () => {
  const logits = Float32Array.of(1, 3, 2.5, -1);
  const rng = new Rng(1);
  assert.equal(chooseToken(logits, { temperature: 0, topP: 1, seed: 0 }, rng), 1);
  assert.equal(chooseToken(logits, { temperature: 1, topP: 1e-6, seed: 0 }, rng), 1);
  const draw = (seed: number) => {
    const r = new Rng(seed);
    return Array.from({ length: 40 }, () => chooseToken(logits, { temperature: 1.5, topP: 0.95, seed }, r));
  };
  assert.deepEqual(draw(7), draw(7));
  const counts = [0, 0, 0, 0];
  for (const t of draw(7).concat(draw(8), draw(9))) counts[t]++;
  assert.ok(counts[1] > 0 && counts[2] > 0, `both likely tokens drawn: ${counts}`);
  assert.equal(counts[3], 0, 'the unlikely tail is outside the 0.95 nucleus');
  assert.throws(() => validateSampling({ temperature: -1, topP: 1, seed: 0 }), /temperature/);
  assert.throws(() => validateSampling({ temperature: 1, topP: 0, seed: 0 }), /top-p/);
  assert.throws(() => validateSampling({ temperature: 1, topP: 1, seed: 0.5 }), /seed/);
});
