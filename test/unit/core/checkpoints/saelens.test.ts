import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSaeLensFolder, writeSaeLensFolder } from '../../../../src/core/checkpoints/saelens';
import type { SaeWeights } from '../../../../src/core/sae/weights';
import { bf16Bytes, exactValues, f32Tensor, safetensorsFile, type RawTensor } from '../fixtures/bytes';
import { assertClose, coreEncode, internalDecode, internalEncode } from '../fixtures/internal-encode';

const D_IN = 6;
const D_SAE = 10;

function folder(cfg: Record<string, unknown>, tensors: Record<string, RawTensor>): string {
  const dir = mkdtempSync(join(tmpdir(), 'fl-saelens-'));
  writeFileSync(join(dir, 'cfg.json'), JSON.stringify(cfg));
  writeFileSync(join(dir, 'sae_weights.safetensors'), safetensorsFile(tensors));
  return dir;
}

const W = {
  W_enc: exactValues(D_IN * D_SAE, 1),
  W_dec: exactValues(D_SAE * D_IN, 2),
  b_enc: exactValues(D_SAE, 3, 0.25),
  b_dec: exactValues(D_IN, 4, 0.5),
  threshold: exactValues(D_SAE, 5, 0.3).map(Math.abs),
  b_gate: exactValues(D_SAE, 6, 0.2),
  b_mag: exactValues(D_SAE, 7, 0.2),
  r_mag: exactValues(D_SAE, 8, 0.5),
};
const inputs = [exactValues(D_IN, 11, 2), exactValues(D_IN, 12, 2), exactValues(D_IN, 13, 3)];

/** SAELens's own encode (sae_lens/saes/*.py), written from its source semantics, in float64. */
function saeLensReference(cfg: { architecture: string; k?: number; apply_b_dec_to_input: boolean; rescale?: boolean }, x: Float32Array) {
  const sub = x.map((v, j) => (cfg.apply_b_dec_to_input ? v - W.b_dec[j] : v));
  const mm = (w: Float32Array) => {
    const out = new Float64Array(D_SAE);
    for (let i = 0; i < D_SAE; i++) for (let j = 0; j < D_IN; j++) out[i] += sub[j] * w[j * D_SAE + i];
    return out;
  };
  const proj = mm(W.W_enc);
  const decNorm = Array.from({ length: D_SAE }, (_, i) => Math.hypot(...W.W_dec.subarray(i * D_IN, (i + 1) * D_IN)));
  let f: Float64Array;
  if (cfg.architecture === 'gated') {
    f = proj.map((p, i) => (p + W.b_gate[i] > 0 ? Math.max(0, p * Math.exp(W.r_mag[i]) + W.b_mag[i]) : 0));
  } else {
    let pre = proj.map((p, i) => p + W.b_enc[i]);
    if (cfg.architecture === 'jumprelu') f = pre.map((p, i) => Math.max(p, 0) * (p > W.threshold[i] ? 1 : 0));
    else if (cfg.architecture === 'topk') {
      if (cfg.rescale) pre = pre.map((p, i) => p * decNorm[i]);
      const top = [...pre.keys()].sort((a, b) => pre[b] - pre[a]).slice(0, cfg.k);
      f = new Float64Array(D_SAE);
      for (const i of top) f[i] = Math.max(pre[i], 0);
    } else f = pre.map((p) => Math.max(p, 0));
  }
  const y = Float64Array.from(W.b_dec);
  for (let i = 0; i < D_SAE; i++) {
    const fi = cfg.rescale ? f[i] / decNorm[i] : f[i];
    for (let j = 0; j < D_IN; j++) y[j] += fi * W.W_dec[i * D_IN + j];
  }
  return { f, y };
}

const tensorsFor = (names: (keyof typeof W)[]) =>
  Object.fromEntries(names.map((n) => [n, f32Tensor(n.startsWith('W_') ? (n === 'W_enc' ? [D_IN, D_SAE] : [D_SAE, D_IN]) : [n === 'b_dec' ? D_IN : D_SAE], W[n])]));

for (const c of [
  { architecture: 'jumprelu', apply_b_dec_to_input: false, names: ['W_enc', 'W_dec', 'b_enc', 'b_dec', 'threshold'] },
  { architecture: 'standard', apply_b_dec_to_input: true, names: ['W_enc', 'W_dec', 'b_enc', 'b_dec'] },
  { architecture: 'gated', apply_b_dec_to_input: true, names: ['W_enc', 'W_dec', 'b_dec', 'b_gate', 'b_mag', 'r_mag'] },
  { architecture: 'topk', k: 3, apply_b_dec_to_input: true, names: ['W_enc', 'W_dec', 'b_enc', 'b_dec'] },
  { architecture: 'topk', k: 3, apply_b_dec_to_input: false, rescale: true, names: ['W_enc', 'W_dec', 'b_enc', 'b_dec'] },
] as const) {
  test(`SAELens v6 ${c.architecture}${'rescale' in c ? ' (rescale_acts_by_decoder_norm)' : ''}: features and reconstruction match SAELens semantics`, () => {
    const cfg = {
      architecture: c.architecture,
      d_in: D_IN,
      d_sae: D_SAE,
      dtype: 'float32',
      apply_b_dec_to_input: c.apply_b_dec_to_input,
      normalize_activations: 'none',
      ...('k' in c ? { k: c.k } : {}),
      ...('rescale' in c ? { rescale_acts_by_decoder_norm: true } : {}),
      metadata: { hook_name: 'blocks.1.hook_resid_post', model_name: 'tiny', sae_lens_version: '6.5.0', context_size: 128 },
    };
    const loaded = readSaeLensFolder(folder(cfg, tensorsFor([...c.names])));
    assert.equal(loaded.weights.config.hookName, 'blocks.1.hook_resid_post');
    assert.equal(loaded.weights.config.modelName, 'tiny');
    for (const x of inputs) {
      const ref = saeLensReference({ ...c, rescale: 'rescale' in c }, x);
      const f = internalEncode(loaded.weights, x);
      assertClose(f, ref.f, 1e-5, 'features');
      assertClose(coreEncode(loaded.weights, x), ref.f, 1e-5, 'src/core/sae features');
      assertClose(internalDecode(loaded.weights, f, x), ref.y, 1e-5, 'reconstruction');
    }
  });
}

test('pre-6 flat cfg: hook_point, activation_fn_str topk with activation_fn_kwargs.k, boolean normalize_activations', () => {
  const dir = folder(
    {
      d_in: D_IN,
      d_sae: D_SAE,
      hook_point: 'blocks.0.hook_resid_pre',
      activation_fn_str: 'topk',
      activation_fn_kwargs: { k: 2 },
      apply_b_dec_to_input: true,
      normalize_activations: false,
      model_name: 'gpt2',
      sae_lens_version: '3.12.0',
    },
    tensorsFor(['W_enc', 'W_dec', 'b_enc', 'b_dec']),
  );
  const { weights } = readSaeLensFolder(dir);
  assert.equal(weights.config.architecture, 'topk');
  assert.equal(weights.config.k, 2);
  assert.equal(weights.config.hookName, 'blocks.0.hook_resid_pre');
  assert.equal(weights.config.normalizeActivations, undefined);
  for (const x of inputs) assertClose(internalEncode(weights, x), saeLensReference({ architecture: 'topk', k: 2, apply_b_dec_to_input: true }, x).f, 1e-5, 'f');
});

test('bf16 weights, a finetuning scaling factor and a log threshold are honoured', () => {
  const scale = exactValues(D_SAE, 9, 1).map((v) => 1 + v / 2);
  const dir = folder(
    { architecture: 'jumprelu', d_in: D_IN, d_sae: D_SAE, apply_b_dec_to_input: true, metadata: { sae_lens_version: '6.0.0' } },
    {
      W_enc: { dtype: 'BF16', shape: [D_IN, D_SAE], bytes: bf16Bytes(W.W_enc) },
      W_dec: f32Tensor([D_SAE, D_IN], W.W_dec),
      b_enc: f32Tensor([D_SAE], W.b_enc),
      b_dec: f32Tensor([D_IN], W.b_dec),
      log_threshold: f32Tensor([D_SAE], W.threshold.map((t) => Math.log(t + 0.01))),
      scaling_factor: f32Tensor([D_SAE], scale),
    },
  );
  const { weights } = readSaeLensFolder(dir);
  assertClose(weights.tensors.get('W_enc')!.data, W.W_enc, 0, 'bf16 exact');
  assertClose(weights.tensors.get('threshold')!.data, W.threshold.map((t) => t + 0.01), 1e-6, 'threshold = exp(log)');
  const row0 = weights.tensors.get('W_dec')!.data.subarray(0, D_IN);
  assertClose(row0, W.W_dec.subarray(0, D_IN).map((v) => v * scale[0]), 1e-6, 'scaling factor folded into W_dec');
});

test('refuses absurd or inconsistent configs before reading any tensor', () => {
  const noWeights = (cfg: object) => {
    const dir = mkdtempSync(join(tmpdir(), 'fl-saelens-bad-'));
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'cfg.json'), JSON.stringify(cfg));
    writeFileSync(join(dir, 'sae_weights.safetensors'), new Uint8Array(0));
    return dir;
  };
  assert.throws(() => readSaeLensFolder(noWeights({ architecture: 'jumprelu', d_in: 4096, d_sae: 1e12, metadata: {} })), /d_sae = 1000000000000 exceeds/);
  assert.throws(() => readSaeLensFolder(noWeights({ architecture: 'jumprelu', d_in: 65536, d_sae: 1 << 20, metadata: {} })), /refusing to allocate/);
  assert.throws(() => readSaeLensFolder(noWeights({ architecture: 'jumprelu', d_in: -3, d_sae: 4, metadata: {} })), /d_in must be a positive integer/);
  assert.throws(() => readSaeLensFolder(noWeights({ architecture: 'crosscoder', d_in: 4, d_sae: 4, metadata: {} })), /not supported/);
  assert.throws(() => readSaeLensFolder(noWeights({ architecture: 'transcoder', d_in: 4, d_sae: 4, metadata: {} })), /d_out must be an integer/);
  assert.throws(() => readSaeLensFolder(noWeights({ architecture: 'skip_transcoder', d_in: 4, d_sae: 4, d_out: 4, apply_b_dec_to_input: true, metadata: {} })), /cannot subtract b_dec/);
  assert.throws(() => readSaeLensFolder(noWeights({ architecture: 'topk', d_in: 4, d_sae: 4, k: 9, metadata: {} })), /k must be an integer in 1\.\.4/);
  const wrongShape = folder({ architecture: 'standard', d_in: D_IN, d_sae: D_SAE, metadata: { sae_lens_version: '6.1.0' } }, {
    ...tensorsFor(['W_dec', 'b_enc', 'b_dec']),
    W_enc: f32Tensor([D_SAE, D_IN], W.W_enc),
  });
  assert.throws(() => readSaeLensFolder(wrongShape), /"W_enc" has shape \[10,6\], expected \[6,10\]/);
  const missing = folder({ architecture: 'jumprelu', d_in: D_IN, d_sae: D_SAE, metadata: { sae_lens_version: '6.1.0' } }, tensorsFor(['W_enc', 'W_dec', 'b_enc', 'b_dec']));
  assert.throws(() => readSaeLensFolder(missing), /missing tensor "threshold"/);
});

test('write → read round trip is exact for every architecture', async () => {
  const base = { dIn: D_IN, dSae: D_SAE, hookName: 'blocks.2.hook_resid_post', modelName: 'm' };
  const t = (shape: number[], data: Float32Array) => ({ shape, data });
  const cases: SaeWeights[] = [
    { config: { ...base, architecture: 'jumprelu', applyBDecToInput: false }, tensors: new Map([['W_enc', t([D_IN, D_SAE], W.W_enc)], ['W_dec', t([D_SAE, D_IN], W.W_dec)], ['b_enc', t([D_SAE], W.b_enc)], ['b_dec', t([D_IN], W.b_dec)], ['threshold', t([D_SAE], W.threshold)]]) },
    { config: { ...base, architecture: 'relu', applyBDecToInput: true, normalizeActivations: 'layer_norm' }, tensors: new Map([['W_enc', t([D_IN, D_SAE], W.W_enc)], ['W_dec', t([D_SAE, D_IN], W.W_dec)], ['b_enc', t([D_SAE], W.b_enc)], ['b_dec', t([D_IN], W.b_dec)]]) },
    { config: { ...base, architecture: 'topk', k: 4, applyBDecToInput: true }, tensors: new Map([['W_enc', t([D_IN, D_SAE], W.W_enc)], ['W_dec', t([D_SAE, D_IN], W.W_dec)], ['b_enc', t([D_SAE], W.b_enc)], ['b_dec', t([D_IN], W.b_dec)]]) },
    { config: { ...base, architecture: 'gated', applyBDecToInput: true }, tensors: new Map([['W_enc', t([D_IN, D_SAE], W.W_enc)], ['W_dec', t([D_SAE, D_IN], W.W_dec)], ['b_dec', t([D_IN], W.b_dec)], ['b_gate', t([D_SAE], W.b_gate)], ['b_mag', t([D_SAE], W.b_mag)], ['r_mag', t([D_SAE], W.r_mag)]]) },
  ];
  for (const w of cases) {
    const dir = join(mkdtempSync(join(tmpdir(), 'fl-rt-')), 'sae');
    await writeSaeLensFolder(dir, w, { sparsity: new Float32Array(D_SAE).fill(-2) });
    const back = readSaeLensFolder(dir);
    assert.deepEqual(back.weights.config, w.config, w.config.architecture);
    assert.deepEqual(new Map([...back.weights.tensors].map(([k, v]) => [k, { shape: [...v.shape], data: v.data }])), w.tensors);
    assert.deepEqual(Array.from(back.sparsity!), new Array(D_SAE).fill(-2));
  }
});

test('an input scale is folded on write: same reconstruction on raw inputs, features scaled by C', async () => {
  const C = 4;
  const t = (shape: number[], data: Float32Array) => ({ shape, data });
  const w: SaeWeights = {
    config: { architecture: 'jumprelu', dIn: D_IN, dSae: D_SAE, applyBDecToInput: true, inputScale: C },
    tensors: new Map([['W_enc', t([D_IN, D_SAE], W.W_enc)], ['W_dec', t([D_SAE, D_IN], W.W_dec)], ['b_enc', t([D_SAE], W.b_enc)], ['b_dec', t([D_IN], W.b_dec)], ['threshold', t([D_SAE], W.threshold)]]),
  };
  const dir = join(mkdtempSync(join(tmpdir(), 'fl-fold-')), 'sae');
  await writeSaeLensFolder(dir, w);
  const back = readSaeLensFolder(dir).weights;
  assert.equal(back.config.inputScale, undefined);
  for (const x of inputs) {
    const fScaled = internalEncode(w, x);
    const fFolded = internalEncode(back, x);
    assertClose(fFolded, fScaled.map((v) => v * C), 1e-5, 'features × C');
    assertClose(internalDecode(back, fFolded, x), internalDecode(w, fScaled, x), 1e-5, 'same reconstruction');
  }
});
