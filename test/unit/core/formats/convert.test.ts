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
