// transposeInto (the encoder gradient's [d_sae × d_in] → [d_in × d_sae]) against the definition, on
// shapes that exercise its blocks of 64 columns and four rows and both tails.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { transposeInto } from '../../../../src/core/sae/model';

test('transposeInto puts t[j, i] at out[i, j] for every shape, tails included', () => {
  for (const [dSae, dIn] of [
    [1, 1],
    [3, 5],
    [64, 4],
    [70, 13],
    [130, 8],
    [200, 67],
  ]) {
    const t = Float32Array.from({ length: dSae * dIn }, (_, k) => k + 0.5);
    const out = new Float32Array(dSae * dIn).fill(Number.NaN);
    transposeInto(t, dSae, dIn, out);
    for (let j = 0; j < dSae; j++) {
      for (let i = 0; i < dIn; i++) assert.equal(out[i * dSae + j], t[j * dIn + i], `${dSae}×${dIn} at (${j}, ${i})`);
    }
  }
});
