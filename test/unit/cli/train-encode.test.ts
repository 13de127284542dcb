// CLI train → SAELens folder → encode: the folded checkpoint reproduces the training-time L0 on raw activations.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trainCommand } from '../../../src/cli/commands/train';
import { encodeCommand } from '../../../src/cli/commands/encode';
import { readNpyMatrix, writeNpyMatrix } from '../../../src/core/npy';
import { SyntheticSource } from '../../../src/core/train/syntheticData';
import { captured } from './captureOutput';

test('train writes a SAELens folder and encode reads it back', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fl-train-'));
  try {
    const m = new SyntheticSource({ dIn: 8, nFeatures: 16, firingProb: 0.15, noiseStd: 0.01, seed: 2 }).nextBatch(4000);
    for (let i = 0; i < m.data.length; i++) m.data[i] *= 5; // raw scale ≠ 1 exercises the fold
    const acts = join(dir, 'acts.npy');
    writeNpyMatrix(acts, m);
    const out = join(dir, 'sae');
    const t = await captured(() =>
      trainCommand.run(['--acts', acts, '--arch', 'topk', '--k', '2', '--d-sae', '32', '--tokens', '20000', '--batch', '128', '--out', out]),
    );
    assert.equal(t.code, 0);
    const summary = JSON.parse(t.stdout) as { steps: number; final: { l0: number } };
    assert.equal(summary.steps, Math.ceil(20000 / 128));
    for (const f of ['cfg.json', 'sae_weights.safetensors', 'metrics.json']) assert.ok(existsSync(join(out, f)), f);
    const feats = join(dir, 'f.npy');
    const recon = join(dir, 'r.npy');
    const e = await captured(() => encodeCommand.run(['--sae', out, '--acts', acts, '--out', feats, '--recon', recon]));
    assert.equal(e.code, 0);
    const res = JSON.parse(e.stdout) as { l0: number; fvu: number };
    assert.equal(res.l0, 2);
    assert.ok(res.fvu < 0.6, `fvu ${res.fvu}`);
    const f = readNpyMatrix(feats);
    assert.deepEqual([f.rows, f.cols], [4000, 32]);
    assert.equal(readNpyMatrix(recon).cols, 8);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('train refuses contradictory options', async () => {
  await assert.rejects(trainCommand.run(['--acts', 'x.npy', '--arch', 'topk', '--d-sae', '8', '--tokens', '10', '--out', 'o']), /--k/);
  await assert.rejects(trainCommand.run(['--acts', 'x.npy', '--arch', 'relu', '--k', '3', '--d-sae', '8', '--tokens', '10', '--out', 'o']), /--k is for/);
  await assert.rejects(trainCommand.run(['--acts', 'x.npy', '--arch', 'nope', '--d-sae', '8', '--tokens', '10', '--out', 'o']), /--arch/);
});
