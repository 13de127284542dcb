import { test } from 'node:test';
import assert from 'node:assert/strict';
import { logitTables } from '../../../../src/core/features/logitTables';
import { Rng } from '../../../../src/core/util/rng';

test('logit tables match a full sort of each feature direct logit effect, and the histogram covers the vocabulary', () => {
  const r = new Rng(5);
  const dSae = 24;
  const dIn = 8;
  const vocab = 300;
  const wDec = Float32Array.from({ length: dSae * dIn }, () => r.normal());
  const w = Float32Array.from({ length: vocab * dIn }, () => r.normal());
  const gamma = Float32Array.from({ length: dIn }, () => 0.5 + r.next());
  const tables = logitTables(wDec, dSae, dIn, { weight: { data: w, rows: vocab, cols: dIn }, finalNorm: { kind: 'layernorm', gamma } }, 10, 16);
  for (let f = 0; f < dSae; f++) {
    let mean = 0;
    for (let d = 0; d < dIn; d++) mean += wDec[f * dIn + d] / dIn;
    const scores = Array.from({ length: vocab }, (_, v) => {
      let s = 0;
      for (let d = 0; d < dIn; d++) s += (wDec[f * dIn + d] - mean) * gamma[d] * w[v * dIn + d];
      return s;
    });
    const order = scores.map((_, i) => i).sort((a, b) => scores[b] - scores[a]);
    assert.deepEqual(tables[f].promoted.map((e) => e.token), order.slice(0, 10));
    assert.deepEqual(tables[f].suppressed.map((e) => e.token), order.slice(-10).reverse());
    assert.ok(Math.abs(tables[f].promoted[0].value - scores[order[0]]) < 1e-3);
    assert.equal(tables[f].histogram.counts.reduce((a, b) => a + b, 0), vocab);
  }
});
