import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fastEncode } from '../../../../src/core/analysis/fastEncode';
import { saeFromWeights } from '../../../../src/core/sae/create';
import type { SaeWeights } from '../../../../src/core/sae/weights';

function random(n: number, seed: number): Float32Array {
  let s = seed;
  return Float32Array.from({ length: n }, () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  });
}

for (const architecture of ['jumprelu', 'relu'] as const) {
  test(`fastEncode matches the ${architecture} model's encode exactly in support and closely in value`, () => {
    const dIn = 6;
    const dSae = 10;
    const weights: SaeWeights = {
      config: { architecture, dIn, dSae, applyBDecToInput: true },
      tensors: new Map([
        ['W_enc', { shape: [dIn, dSae], data: random(dIn * dSae, 1) }],
        ['W_dec', { shape: [dSae, dIn], data: random(dIn * dSae, 2) }],
        ['b_enc', { shape: [dSae], data: random(dSae, 3) }],
        ['b_dec', { shape: [dIn], data: random(dIn, 4) }],
        ...(architecture === 'jumprelu' ? [['threshold', { shape: [dSae], data: random(dSae, 5).map((v) => Math.abs(v) * 0.3) }] as const] : []),
      ]),
    };
    const x = { data: random(5 * dIn, 6).map((v) => v * 4), rows: 5, cols: dIn };
    const fast = fastEncode(weights, x);
    const ref = saeFromWeights(weights).encode(x);
    assert.deepEqual(Array.from(fast.rowPtr), Array.from(ref.rowPtr));
    assert.deepEqual(Array.from(fast.colIdx), Array.from(ref.colIdx));
    fast.values.forEach((v, i) => assert.ok(Math.abs(v - ref.values[i]) < 1e-5));
    assert.ok(fast.values.length > 0);
  });
}
