import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { saeFromWeights } from '../../../../src/core/sae/create';
import type { SaeWeights } from '../../../../src/core/sae/weights';
import { evaluateOnActivations } from '../../../../src/core/store/evaluateSae';
import { encodeNpyHeader } from '../../../../src/core/npy';
import { openNpySource } from '../../../../src/core/store/sources';

const dir = mkdtempSync(join(tmpdir(), 'fl-eval-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** TopK SAE over ±unit axes of R^4 with k = 4: reconstructs any vector exactly. */
function axisSae(): SaeWeights {
  const dIn = 4;
  const dSae = 8;
  const wDec = new Float32Array(dSae * dIn);
  for (let i = 0; i < dIn; i++) {
    wDec[i * dIn + i] = 1;
    wDec[(i + dIn) * dIn + i] = -1;
  }
  const wEnc = new Float32Array(dIn * dSae);
  for (let f = 0; f < dSae; f++) for (let i = 0; i < dIn; i++) wEnc[i * dSae + f] = wDec[f * dIn + i];
  return {
    config: { architecture: 'topk', dIn, dSae, k: 4, applyBDecToInput: false },
    tensors: new Map([
      ['W_enc', { shape: [dIn, dSae], data: wEnc }],
      ['W_dec', { shape: [dSae, dIn], data: wDec }],
      ['b_enc', { shape: [dSae], data: new Float32Array(dSae) }],
      ['b_dec', { shape: [dIn], data: new Float32Array(dIn) }],
    ]),
  };
}

function npy(name: string, rows: number[][]): string {
  const data = Float32Array.from(rows.flat());
  const path = join(dir, name);
  writeFileSync(path, Buffer.concat([encodeNpyHeader([rows.length, rows[0].length]), Buffer.from(data.buffer)]));
  return path;
}

test('a perfect SAE scores FVU 0 and L0 = active coordinates; NaN rows are skipped', () => {
  const rows = [
    [1, -2, 3, 0.5],
    [-1, 2, -3, 4],
    [2, 2, 2, 2],
    [Number.NaN, 1, 1, 1],
    [0.1, -0.2, 0.3, -0.4],
  ];
  const source = openNpySource(npy('a.npy', rows), { shuffle: false });
  const r = evaluateOnActivations(saeFromWeights(axisSae()), source, rows.length);
  source.close();
  assert.equal(r.tokens, 4);
  assert.ok(r.fvu < 1e-10, `FVU ${r.fvu}`);
  assert.ok(Math.abs(r.explainedVariance - 1) < 1e-10);
  assert.equal(r.l0, 4);
  assert.equal(r.deadFeatures, 0);
  // Every feature fires on ≥ 1 of 4 tokens (≥ 25% > 10%): all dense.
  assert.equal(r.denseFeatures, 8);
  assert.equal(r.densityHistogram.counts.reduce((a, b) => a + b, 0), 8);
});

test('features that never fire are dead, and a width mismatch is refused', () => {
  const rows = [
    [1, 1, 1, 1],
    [2, 3, 4, 5],
  ];
  const source = openNpySource(npy('b.npy', rows), { shuffle: false });
  const r = evaluateOnActivations(saeFromWeights(axisSae()), source, 2);
  source.close();
  assert.equal(r.deadFeatures, 4, 'the negative axes never fire on positive data');
  const wide = openNpySource(npy('c.npy', [[1, 2, 3, 4, 5]]), { shuffle: false });
  assert.throws(() => evaluateOnActivations(saeFromWeights(axisSae()), wide, 1), /d_in 4 .* width 5/);
  wide.close();
});
