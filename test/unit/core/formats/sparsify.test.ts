import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { detectSaeFormat, loadSae, MultipleSaesError } from '../../../../src/core/formats/detect';
import { readSparsify, writeSparsifyFolder } from '../../../../src/core/formats/sparsify';
import { bf16Bytes, exactValues, f32Tensor, safetensorsFile } from '../fixtures/bytes';
import { assertClose, coreEncode, internalDecode, internalEncode } from '../fixtures/internal-encode';

const D_IN = 6;
const D_SAE = 16;
const K = 4;
const P = {
  enc: exactValues(D_SAE * D_IN, 41), // encoder.weight [d_sae, d_in]
  encBias: exactValues(D_SAE, 42, 0.25),
  dec: exactValues(D_SAE * D_IN, 43),
  bDec: exactValues(D_IN, 44, 0.5),
  skip: exactValues(D_IN * D_IN, 45, 0.1),
};

function sparsifyFolder(dir: string, cfg: Record<string, unknown> = {}, skip = false): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'cfg.json'),
    JSON.stringify({ activation: 'topk', expansion_factor: 32, normalize_decoder: true, num_latents: D_SAE, k: K, multi_topk: false, skip_connection: skip, transcode: false, d_in: D_IN, ...cfg }),
  );
  writeFileSync(
    join(dir, 'sae.safetensors'),
    safetensorsFile({
      'encoder.weight': { dtype: 'BF16', shape: [D_SAE, D_IN], bytes: bf16Bytes(P.enc) },
      'encoder.bias': { dtype: 'BF16', shape: [D_SAE], bytes: bf16Bytes(P.encBias) },
      W_dec: { dtype: 'BF16', shape: [D_SAE, D_IN], bytes: bf16Bytes(P.dec) },
      b_dec: f32Tensor([D_IN], P.bDec),
      ...(skip ? { W_skip: f32Tensor([D_IN, D_IN], P.skip) } : {}),
    }),
  );
  return dir;
}

/** sparsify's SparseCoder.forward: top-k of ReLU(encoder(x − b_dec)); out = f·W_dec + b_dec + x·W_skipᵀ. */
function sparsifyReference(x: Float32Array, skip: boolean) {
  const pre = new Float64Array(D_SAE);
  for (let i = 0; i < D_SAE; i++) {
    let s = P.encBias[i];
    for (let j = 0; j < D_IN; j++) s += (x[j] - P.bDec[j]) * P.enc[i * D_IN + j];
    pre[i] = Math.max(s, 0);
  }
  const top = [...pre.keys()].sort((a, b) => pre[b] - pre[a]).slice(0, K);
  const f = new Float64Array(D_SAE);
  for (const i of top) f[i] = pre[i];
  const y = Float64Array.from(P.bDec);
  for (let i = 0; i < D_SAE; i++) for (let j = 0; j < D_IN; j++) y[j] += f[i] * P.dec[i * D_IN + j];
  if (skip) for (let j = 0; j < D_IN; j++) for (let k = 0; k < D_IN; k++) y[j] += x[k] * P.skip[j * D_IN + k];
  return { f, y };
}

test('sparsify folder (bf16, skip connection): features and reconstruction match sparsify semantics', () => {
  for (const skip of [false, true]) {
    const dir = sparsifyFolder(join(mkdtempSync(join(tmpdir(), 'fl-sp-')), 'layers.6'), {}, skip);
    const loaded = readSparsify(dir);
    assert.equal(loaded.weights.config.architecture, 'topk');
    assert.equal(loaded.weights.config.k, K);
    assert.equal(loaded.weights.config.hookName, 'blocks.6.hook_resid_post');
    for (let s = 0; s < 4; s++) {
      const x = exactValues(D_IN, 50 + s, 2);
      const ref = sparsifyReference(x, skip);
      const f = internalEncode(loaded.weights, x);
      assertClose(f, ref.f, 1e-6, 'features');
      assertClose(coreEncode(loaded.weights, x), ref.f, 1e-5, 'src/core/sae features');
      assertClose(internalDecode(loaded.weights, f, x), ref.y, 1e-6, 'reconstruction');
    }
  }
});

test('one sub-folder per hook point: hooks are listed and the caller picks one', () => {
  const root = mkdtempSync(join(tmpdir(), 'fl-sp-multi-'));
  sparsifyFolder(join(root, 'layers.10'));
  sparsifyFolder(join(root, 'layers.2'));
  sparsifyFolder(join(root, 'layers.2.mlp'));
  const detected = detectSaeFormat(root);
  assert.equal(detected.kind, 'multiple');
  assert.deepEqual(detected.kind === 'multiple' && detected.hooks.map((h) => h.name), ['layers.2', 'layers.2.mlp', 'layers.10']);
  assert.throws(() => loadSae(root), (err: unknown) => err instanceof MultipleSaesError && err.hooks.length === 3);
  assert.equal(loadSae(root, { hook: 'layers.2.mlp' }).weights.config.hookName, 'blocks.2.hook_mlp_out');
  assert.throws(() => loadSae(root, { hook: 'layers.99' }), /has no SAE "layers.99"/);
});

test('write → read round trip is exact, and non-TopK SAEs are refused by the sparsify writer', async () => {
  const loaded = readSparsify(sparsifyFolder(join(mkdtempSync(join(tmpdir(), 'fl-sp-rt-')), 'layers.1'), {}, true));
  const out = join(mkdtempSync(join(tmpdir(), 'fl-sp-out-')), 'layers.1');
  await writeSparsifyFolder(out, loaded.weights);
  const back = readSparsify(out);
  assert.deepEqual(back.weights.config, loaded.weights.config);
  for (const [name, t] of loaded.weights.tensors) assert.deepEqual(back.weights.tensors.get(name)!.data, t.data, name);
  const relu = { config: { ...loaded.weights.config, architecture: 'relu' as const }, tensors: loaded.weights.tensors };
  await assert.rejects(writeSparsifyFolder(join(out, '..', 'x'), relu), /sparsify stores only TopK/);
});

test('unsupported or absurd sparsify configs are refused before reading weights', () => {
  const base = () => join(mkdtempSync(join(tmpdir(), 'fl-sp-bad-')), 'layers.0');
  assert.throws(() => readSparsify(sparsifyFolder(base(), { activation: 'groupmax' })), /groupmax/);
  assert.throws(() => readSparsify(sparsifyFolder(base(), { d_in: 1e9, num_latents: 1e9 })), /exceeds the limit/);
  assert.throws(() => readSparsify(sparsifyFolder(base(), { k: 0 })), /k must be an integer/);
  assert.throws(() => readSparsify(sparsifyFolder(base(), { num_latents: D_SAE * 2 })), /"encoder.weight" has shape \[16,6\], expected \[32,6\]/);
  assert.throws(() => readSparsify(sparsifyFolder(base(), { skip_connection: true })), /no W_skip tensor/);
});
