import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { convertCommand, convertSae } from '../../../../src/cli/commands/convert';
import { readSaeLensFolder } from '../../../../src/core/checkpoints/saelens';
import { detectSaeFormat, loadSae } from '../../../../src/core/formats/detect';
import { readSparsify } from '../../../../src/core/formats/sparsify';
import { exactValues, f32Bytes, f32Tensor, npyFile, safetensorsFile, storedZip } from '../fixtures/bytes';
import { assertClose, internalEncode } from '../fixtures/internal-encode';

function gemmaFolder(): string {
  const [dIn, dSae] = [4, 8];
  const arrays: Record<string, [number[], Float32Array]> = {
    W_enc: [[dIn, dSae], exactValues(dIn * dSae, 1)],
    W_dec: [[dSae, dIn], exactValues(dSae * dIn, 2)],
    b_enc: [[dSae], exactValues(dSae, 3, 0.25)],
    b_dec: [[dIn], exactValues(dIn, 4, 0.25)],
    threshold: [[dSae], exactValues(dSae, 5, 0.25).map(Math.abs)],
  };
  const dir = join(mkdtempSync(join(tmpdir(), 'fl-conv-')), 'gemma-scope-2b-pt-mlp', 'layer_1', 'width_16k', 'average_l0_5');
  mkdirSync(dir, { recursive: true });
  const files: Record<string, Uint8Array> = {};
  for (const [k, [shape, v]] of Object.entries(arrays)) files[`${k}.npy`] = npyFile('<f4', shape, f32Bytes(v));
  writeFileSync(join(dir, 'params.npz'), storedZip(files));
  return dir;
}

test('convert: Gemma Scope → SAELens keeps the same features and the site', async () => {
  const from = gemmaFolder();
  const to = join(mkdtempSync(join(tmpdir(), 'fl-conv-out-')), 'sae');
  const summary = await convertSae(from, to, 'saelens');
  assert.equal(summary.fromFormat, 'gemma-scope');
  assert.equal(summary.hookName, 'blocks.1.hook_mlp_out');
  const original = loadSae(from).weights;
  const converted = readSaeLensFolder(to).weights;
  assert.equal(detectSaeFormat(to).kind, 'single');
  for (let s = 0; s < 3; s++) {
    const x = exactValues(4, 10 + s, 2);
    assertClose(internalEncode(converted, x), internalEncode(original, x), 0, 'features');
  }
});

test('convert: SAELens TopK → sparsify, and a JumpReLU → sparsify is refused with a reason', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fl-conv-topk-'));
  writeFileSync(join(dir, 'cfg.json'), JSON.stringify({ architecture: 'topk', k: 2, d_in: 3, d_sae: 5, apply_b_dec_to_input: true, metadata: { sae_lens_version: '6.2.0' } }));
  writeFileSync(
    join(dir, 'sae_weights.safetensors'),
    safetensorsFile({ W_enc: f32Tensor([3, 5], exactValues(15, 1)), W_dec: f32Tensor([5, 3], exactValues(15, 2)), b_enc: f32Tensor([5], exactValues(5, 3)), b_dec: f32Tensor([3], exactValues(3, 4)) }),
  );
  const to = join(mkdtempSync(join(tmpdir(), 'fl-conv-sp-')), 'layers.0');
  const summary = await convertSae(dir, to, 'sparsify');
  assert.equal(summary.k, 2);
  const back = readSparsify(to).weights;
  const orig = readSaeLensFolder(dir).weights;
  for (const name of ['W_enc', 'W_dec', 'b_enc', 'b_dec']) assert.deepEqual(back.tensors.get(name)!.data, orig.tensors.get(name)!.data, name);
  await assert.rejects(convertSae(gemmaFolder(), join(to, '..', 'x'), 'sparsify'), /sparsify stores only TopK/);
  await assert.rejects(convertCommand.run(['--from', dir, '--to', to, '--format', 'onnx']), /--format must be saelens or sparsify/);
  await assert.rejects(convertCommand.run(['--from', dir]), /--to is required/);
});

test('convert --format sparsify of an SAE trained here writes a plain SAE (b_dec folded into encoder.bias) that reloads with identical outputs', async () => {
  const { presetConfig } = await import('../../../../src/core/train/presets');
  const { train, trainToEnd } = await import('../../../../src/core/train/driver');
  const { SyntheticSource } = await import('../../../../src/core/train/syntheticData');
  const { writeSaeLensFolder } = await import('../../../../src/core/checkpoints/saelens');
  const { openSae } = await import('../../../../src/core/formats/open-sae');
  const { readFileSync } = await import('node:fs');
  const source = new SyntheticSource({ dIn: 6, nFeatures: 12, firingProb: 0.2, noiseStd: 0.01, seed: 3 });
  const config = presetConfig({ architecture: 'topk', dSae: 16, totalTokens: 2048, preset: 'default', k: 3, batchSize: 128, seed: 1 });
  const { weights } = await trainToEnd(train(config, source), () => {});
  // The trainer's export reads raw activations without subtracting b_dec (the fold of sae/fold.ts).
  assert.equal(weights.config.applyBDecToInput, false);
  const root = mkdtempSync(join(tmpdir(), 'fl-conv-trained-'));
  const saved = join(root, 'sae');
  await writeSaeLensFolder(saved, weights);
  const to = join(root, 'sparsify', 'layers.0');
  const summary = await convertSae(saved, to, 'sparsify');
  assert.deepEqual(summary.warnings, []);
  const cfg = JSON.parse(readFileSync(join(to, 'cfg.json'), 'utf8')) as { transcode: boolean };
  assert.equal(cfg.transcode, false);
  const back = openSae(to);
  assert.equal(back.sae.isTranscoder, false);
  assert.deepEqual(back.warnings, []);
  assert.equal(back.loaded.weights.config.applyBDecToInput, true);
  const original = openSae(saved);
  const x = source.nextBatch(64);
  const a = original.sae.forward(x);
  const b = back.sae.forward(x);
  let maxErr = 0;
  for (let i = 0; i < a.reconstruction.data.length; i++) maxErr = Math.max(maxErr, Math.abs(a.reconstruction.data[i] - b.reconstruction.data[i]));
  const fa = original.sae.denseFeatures(original.sae.encode(x)).data;
  const fb = back.sae.denseFeatures(back.sae.encode(x)).data;
  for (let i = 0; i < fa.length; i++) maxErr = Math.max(maxErr, Math.abs(fa[i] - fb[i]));
  assert.ok(maxErr < 1e-5, `max abs difference ${maxErr}`);
  assert.deepEqual(Array.from(a.features.colIdx), Array.from(b.features.colIdx));
});
