// The analysis encoder against the SAE models (src/core/sae) and, for what those leave out (per-token
// normalisation, skip connection), against the independent float64 encoder of the format tests.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InferenceSae } from '../../../../src/core/inference/inferenceSae';
import { matmulTransposed, transpose, type Matrix } from '../../../../src/core/tensor';
import { createDenseLayer } from '../../../../src/core/runtime/dense';
import { saeFromWeights } from '../../../../src/core/sae/create';
import type { SaeArchitecture, SaeConfig, SaeWeights } from '../../../../src/core/sae/weights';
import { internalDecode, internalEncode } from '../fixtures/internal-encode';

function random(n: number, seed: number, scale = 1): Float32Array {
  let s = seed;
  return Float32Array.from({ length: n }, () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return (s / 2 ** 32 - 0.5) * scale;
  });
}

const dIn = 7;
const dSae = 19;

function sae(architecture: SaeArchitecture, config: Partial<SaeConfig> = {}, extra: [string, Float32Array][] = []): SaeWeights {
  const t = (shape: number[], data: Float32Array) => ({ shape, data });
  const tensors = new Map([
    ['W_enc', t([dIn, dSae], random(dIn * dSae, 1))],
    ['W_dec', t([dSae, dIn], random(dIn * dSae, 2))],
    ['b_dec', t([dIn], random(dIn, 4, 0.5))],
  ]);
  if (architecture === 'gated') {
    tensors.set('b_gate', t([dSae], random(dSae, 5, 0.2)));
    tensors.set('b_mag', t([dSae], random(dSae, 6, 0.2)));
    tensors.set('r_mag', t([dSae], random(dSae, 7, 0.5)));
  } else {
    tensors.set('b_enc', t([dSae], random(dSae, 3, 0.2)));
  }
  if (architecture === 'jumprelu' || architecture === 'batchtopk') tensors.set('threshold', t([dSae], random(dSae, 8).map((v) => Math.abs(v) * 0.3)));
  for (const [name, data] of extra) tensors.set(name, t([data.length], data));
  return {
    config: { architecture, dIn, dSae, applyBDecToInput: true, ...(architecture === 'topk' ? { k: 4 } : {}), ...config },
    tensors,
  };
}

const x: Matrix = { data: random(9 * dIn, 10, 6), rows: 9, cols: dIn };

function dense(rows: { rowPtr: Int32Array; colIdx: Int32Array; values: Float32Array }, r: number): Float64Array {
  const out = new Float64Array(dSae);
  for (let e = rows.rowPtr[r]; e < rows.rowPtr[r + 1]; e++) out[rows.colIdx[e]] = rows.values[e];
  return out;
}

function assertSameFeatures(actual: ReturnType<InferenceSae['encode']>['features'], expected: { rowPtr: Int32Array; colIdx: Int32Array; values: Float32Array }, what: string): void {
  assert.deepEqual(Array.from(actual.rowPtr), Array.from(expected.rowPtr), `${what}: active counts`);
  assert.deepEqual(Array.from(actual.colIdx), Array.from(expected.colIdx), `${what}: active features`);
  actual.values.forEach((v, i) => assert.ok(Math.abs(v - expected.values[i]) < 1e-5, `${what}: value ${i} ${v} vs ${expected.values[i]}`));
}

const variants: [string, SaeWeights][] = [
  ['jumprelu', sae('jumprelu')],
  ['jumprelu without b_dec subtraction', sae('jumprelu', { applyBDecToInput: false })],
  ['relu', sae('relu')],
  ['topk', sae('topk')],
  ['batchtopk (inference threshold)', sae('batchtopk', { k: 4 })],
  ['gated', sae('gated')],
  ['jumprelu with an input scale', sae('jumprelu', { inputScale: 2.5 })],
];

for (const [name, weights] of variants) {
  test(`encode equals the SAE model's encode: ${name}`, () => {
    const ours = new InferenceSae(weights).encode(x);
    const model = saeFromWeights(weights);
    const ref = model.encode(x);
    assert.ok(ref.values.length > 0, 'something fires');
    assert.ok(ref.values.length < x.rows * dSae, 'something is silent');
    assertSameFeatures(ours.features, ref, name);
    // Without run-time normalisation the reconstruction is the model's decode.
    const xHat = new InferenceSae(weights).decode(ours, x);
    const refHat = model.decode(ref);
    xHat.data.forEach((v, i) => assert.ok(Math.abs(v - refHat.data[i]) < 1e-5, `decode ${i}`));
  });
}

test('the ONNX Runtime GEMM gives the same features as the JavaScript one', async () => {
  for (const [name, weights] of variants) {
    const inference = new InferenceSae(weights);
    const layer = await createDenseLayer({ data: inference.wEnc, rows: dIn, cols: dSae });
    try {
      const fast = await inference.encodeWith(x, (m) => layer.apply(m));
      assertSameFeatures(fast.features, inference.encode(x).features, name);
    } finally {
      await layer.dispose();
    }
  }
});

for (const norm of ['constant_norm_rescale', 'layer_norm'] as const) {
  test(`per-token ${norm} is applied before encoding and undone after decoding`, () => {
    const weights = sae('jumprelu', { normalizeActivations: norm });
    const inference = new InferenceSae(weights);
    const enc = inference.encode(x);
    assert.equal(enc.restore?.length, x.rows);
    const xHat = inference.decode(enc, x);
    for (let r = 0; r < x.rows; r++) {
      const raw = x.data.subarray(r * dIn, (r + 1) * dIn);
      const f = internalEncode(weights, raw);
      dense(enc.features, r).forEach((v, j) => assert.ok(Math.abs(v - f[j]) < 1e-5, `row ${r} feature ${j}: ${v} vs ${f[j]}`));
      const y = internalDecode(weights, f, raw);
      y.forEach((v, j) => assert.ok(Math.abs(v - xHat.data[r * dIn + j]) < 1e-4 * Math.max(1, Math.abs(v)), `row ${r} recon ${j}`));
    }
    assert.ok(enc.features.values.length > 0);
  });
}

test('a sparsify skip connection adds W_skip·x (raw x) to the reconstruction', () => {
  const weights = sae('topk', { applyBDecToInput: true }, [['W_skip', random(dIn * dIn, 11, 0.3)]]);
  const inference = new InferenceSae(weights);
  const enc = inference.encode(x);
  const xHat = inference.decode(enc, x);
  const withoutSkip = new InferenceSae({ ...weights, tensors: new Map([...weights.tensors].filter(([n]) => n !== 'W_skip')) }).decode(enc, x);
  let moved = 0;
  for (let r = 0; r < x.rows; r++) {
    const raw = x.data.subarray(r * dIn, (r + 1) * dIn);
    const y = internalDecode(weights, internalEncode(weights, raw), raw);
    y.forEach((v, j) => assert.ok(Math.abs(v - xHat.data[r * dIn + j]) < 1e-4, `row ${r} recon ${j}: ${xHat.data[r * dIn + j]} vs ${v}`));
    for (let j = 0; j < dIn; j++) moved += Math.abs(xHat.data[r * dIn + j] - withoutSkip.data[r * dIn + j]);
  }
  assert.ok(moved > 0.1, 'the skip term is not zero');
});

test('the blocked JavaScript GEMM handles odd sizes', () => {
  for (const [n, k, m] of [
    [1, 1, 1],
    [3, 5, 7],
    [4, 2, 6],
  ]) {
    const a = { data: random(n * k, n + k), rows: n, cols: k };
    const w = random(k * m, m);
    const got = matmulTransposed(a, transpose(w, k, m), m);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < m; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) s += a.data[i * k + p] * w[p * m + j];
        assert.ok(Math.abs(got.data[i * m + j] - s) < 1e-6, `${n}×${k}×${m} [${i},${j}]`);
      }
    }
  }
});

test('missing tensors and bad widths are refused with names', () => {
  const broken = sae('jumprelu');
  const noTheta = { ...broken, tensors: new Map([...broken.tensors].filter(([n]) => n !== 'threshold')) };
  assert.throws(() => new InferenceSae(noTheta), /jumprelu needs a threshold/);
  assert.throws(() => new InferenceSae(broken).encode({ data: new Float32Array(3), rows: 1, cols: 3 }), /d_in 7.*width 3/);
});
