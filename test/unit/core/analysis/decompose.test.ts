import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decompose } from '../../../../src/core/analysis/decompose';
import { InferenceSae, type EncodedRows } from '../../../../src/core/inference/inferenceSae';
import type { SaeWeights } from '../../../../src/core/sae/weights';

// d_in 2, d_sae 3: decoder rows e0, e1 and (e0+e1)/√2; a tied encoder.
function weights(extra: Partial<SaeWeights['config']> = {}, tensors: [string, Float32Array][] = []): InferenceSae {
  const s = Math.SQRT1_2;
  return new InferenceSae({
    config: { architecture: 'relu', dIn: 2, dSae: 3, applyBDecToInput: false, ...extra },
    tensors: new Map<string, { shape: number[]; data: Float32Array }>([
      ['W_enc', { shape: [2, 3], data: Float32Array.of(1, 0, s, 0, 1, s) }],
      ['b_enc', { shape: [3], data: new Float32Array(3) }],
      ['W_dec', { shape: [3, 2], data: Float32Array.of(1, 0, 0, 1, s, s) }],
      ['b_dec', { shape: [2], data: Float32Array.of(0, 0) }],
      ...tensors.map(([name, data]): [string, { shape: number[]; data: Float32Array }] => [name, { shape: [data.length], data }]),
    ]),
  });
}

function sparse(rows: [number, number][][], cols = 3): EncodedRows {
  const rowPtr = new Int32Array(rows.length + 1);
  const colIdx: number[] = [];
  const values: number[] = [];
  rows.forEach((r, i) => {
    for (const [c, v] of r) {
      colIdx.push(c);
      values.push(v);
    }
    rowPtr[i + 1] = colIdx.length;
  });
  return { features: { rows: rows.length, cols, rowPtr, colIdx: Int32Array.from(colIdx), values: Float32Array.from(values) } };
}

test('shares sum to one, features are ordered by activation, L0 counts active features', () => {
  const x = { data: Float32Array.of(3, 1), rows: 1, cols: 2 };
  const f = sparse([[[0, 1], [2, Math.SQRT2]]]); // reconstruction e0 + (e0+e1) = (2, 1)
  const d = decompose(x, f, weights(), { topK: 5 });
  const t = d.tokens[0];
  assert.equal(t.l0, 2);
  assert.deepEqual(t.top.map((h) => h.id), [2, 0]);
  assert.ok(Math.abs(t.top.reduce((s, h) => s + h.share, 0) - 1) < 1e-6);
  // c0 = (1,0), r = (2,1): share0 = 2/5.
  assert.ok(Math.abs(t.top.find((h) => h.id === 0)!.share - 0.4) < 1e-6);
  // ‖x − x̂‖² / ‖x‖² = ‖(1,0)‖² / 10.
  assert.ok(Math.abs(t.reconError - 0.1) < 1e-6);
  assert.ok(Math.abs(t.maxActivation - Math.SQRT2) < 1e-6);
});

test('topK limits the listed features, not L0; the sparse list keeps every active one up to its cap', () => {
  const x = { data: Float32Array.of(1, 1, 0, 0), rows: 2, cols: 2 };
  const f = sparse([[[0, 0.5], [1, 0.7], [2, 0.1]], []]);
  const d = decompose(x, f, weights(), { topK: 1, maxActivePerToken: 2 });
  assert.equal(d.tokens[0].top.length, 1);
  assert.equal(d.tokens[0].top[0].id, 1);
  assert.equal(d.tokens[0].l0, 3);
  assert.deepEqual(Array.from(d.rowStart), [0, 2, 2]);
  assert.deepEqual(Array.from(d.featureIds), [1, 0]);
  assert.equal(d.tokens[1].l0, 0);
  assert.equal(d.tokens[1].reconError, 0);
});

test('an input scale is folded in: features are in model units and the reconstruction matches', () => {
  const x = { data: Float32Array.of(4, 0), rows: 1, cols: 2 };
  const sae = weights({ inputScale: 2 });
  const d = decompose(x, sae.encode(x), sae, { topK: 3 });
  // Unscaled: f = (2, 0, √2) on x/2 = (2, 0); folded, every feature is twice that.
  assert.deepEqual(d.tokens[0].top.map((h) => h.id), [0, 2]);
  assert.ok(Math.abs(d.tokens[0].top[0].activation - 4) < 1e-6);
  assert.ok(Math.abs(d.tokens[0].maxActivation - 4) < 1e-6);
});

test('a per-token normalisation is undone before the error is measured', () => {
  // constant_norm_rescale: x ← x·√2/‖x‖ = (√2, 0); features (√2, 0, 1); x̂ = ((√2 + √½)·10/√2, √½·10/√2) = (15, 5).
  const x = { data: Float32Array.of(10, 0), rows: 1, cols: 2 };
  const sae = weights({ normalizeActivations: 'constant_norm_rescale' });
  const enc = sae.encode(x);
  assert.ok(Math.abs(enc.features.values[0] - Math.SQRT2) < 1e-6, 'encoded in normalised space');
  const d = decompose(x, enc, sae, { topK: 3 });
  const xHat = sae.decode(enc, x);
  const err = ((10 - xHat.data[0]) ** 2 + xHat.data[1] ** 2) / 100;
  assert.ok(Math.abs(d.tokens[0].reconError - err) < 1e-6);
  assert.ok(Math.abs(xHat.data[0] - 15) < 1e-5 && Math.abs(xHat.data[1] - 5) < 1e-5, 'the reconstruction is back in the site’s scale');
});

test('a skip connection adds W_skip·x to the reconstruction', () => {
  const x = { data: Float32Array.of(-1, -2), rows: 1, cols: 2 }; // nothing fires
  const plain = decompose(x, weights().encode(x), weights(), { topK: 3 });
  assert.equal(plain.tokens[0].l0, 0);
  assert.ok(Math.abs(plain.tokens[0].reconError - 1) < 1e-9);
  const skip = weights({}, [['W_skip', Float32Array.of(1, 0, 0, 1)]]); // identity: x̂ = x
  const d = decompose(x, skip.encode(x), skip, { topK: 3 });
  assert.ok(d.tokens[0].reconError < 1e-12);
});

test('a width mismatch is refused with both widths', () => {
  const x = { data: new Float32Array(3), rows: 1, cols: 3 };
  assert.throws(() => decompose(x, sparse([[]]), weights(), { topK: 1 }), /width 3.*expects 2/);
});

test('many active features (more than the listed and kept ones, with ties): same as a plain full sort and sum', () => {
  const dIn = 5;
  const dSae = 300;
  let seed = 11;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
  const wDec = Float32Array.from({ length: dSae * dIn }, rand);
  const sae = new InferenceSae({
    config: { architecture: 'relu', dIn, dSae, applyBDecToInput: false },
    tensors: new Map([
      ['W_enc', { shape: [dIn, dSae], data: new Float32Array(dIn * dSae) }],
      ['b_enc', { shape: [dSae], data: new Float32Array(dSae) }],
      ['W_dec', { shape: [dSae, dIn], data: wDec }],
      ['b_dec', { shape: [dIn], data: Float32Array.of(0.1, 0, 0, 0, -0.1) }],
    ]),
  });
  // Row 0: 150 features, values in steps of 0.25 so many tie; row 1: 9 features (all kept); one zero entry.
  const row0: [number, number][] = Array.from({ length: 150 }, (_, k) => [(k * 7) % dSae, 0.25 * (1 + (k % 13))]);
  row0[40][1] = 0;
  const row1: [number, number][] = Array.from({ length: 9 }, (_, k) => [k * 30 + 1, k + 0.5]);
  const f = sparse([row0, row1], dSae);
  const x = { data: Float32Array.from({ length: 2 * dIn }, rand), rows: 2, cols: dIn };
  const d = decompose(x, f, sae, { topK: 8, maxActivePerToken: 64 });
  [row0, row1].forEach((row, t) => {
    const active = row.filter(([, v]) => v !== 0).sort((a, b) => b[1] - a[1] || a[0] - b[0]);
    const r = new Float64Array(dIn);
    for (const [c, v] of active) for (let j = 0; j < dIn; j++) r[j] += v * wDec[c * dIn + j];
    const rr = r.reduce((s, v) => s + v * v, 0);
    const tok = d.tokens[t];
    assert.equal(tok.l0, active.length);
    assert.deepEqual(tok.top.map((h) => h.id), active.slice(0, 8).map(([c]) => c));
    tok.top.forEach((h, k) => {
      const [c, v] = active[k];
      let dot = 0;
      for (let j = 0; j < dIn; j++) dot += wDec[c * dIn + j] * r[j];
      assert.ok(Math.abs(h.share - (v * dot) / rr) < 1e-9, `share of ${c}`);
    });
    const kept = Array.from(d.featureIds.subarray(d.rowStart[t], d.rowStart[t + 1]));
    assert.deepEqual(kept, active.slice(0, 64).map(([c]) => c));
    let err = 0;
    let xx = 0;
    const bDec = [0.1, 0, 0, 0, -0.1];
    for (let j = 0; j < dIn; j++) {
      const xv = x.data[t * dIn + j];
      err += (xv - (r[j] + bDec[j])) ** 2;
      xx += xv * xv;
    }
    assert.ok(Math.abs(tok.reconError - err / xx) < 1e-5);
  });
});
