// Disposing a backend stops the sparse kernels' helper thread on every path: chooseBackend's result, the
// fast backend itself, the trainer's SwitchableBackend (also after it fell back to the reference
// backend), and chooseBackend's own fallback when the engine fails its self-check. And the per-
// architecture default thread count with its overrides.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createOrtDenseEngine } from '../../../../src/core/runtime/ortDenseEngine';
import { createFastBackend, referenceBackend, SwitchableBackend, type DenseEngine } from '../../../../src/core/tensor';
import { liveSparseHelperThreads } from '../../../../src/core/tensor/sparseHelperThread';
import { chooseBackend } from '../../../../src/core/train/backendChoice';
import { parseSparseThreads, sparseThreadsFor } from '../../../../src/core/train/sparseThreads';

/** Waits (up to 10 s) for the helper threads of this process to number `n`. */
async function settles(n: number): Promise<number> {
  for (let i = 0; i < 400 && liveSparseHelperThreads() !== n; i++) await new Promise((r) => setTimeout(r, 25));
  return liveSparseHelperThreads();
}

test('a process that trains on a two-thread fast backend and disposes it exits by itself, its helper thread stopped', () => {
  const src = JSON.stringify(join(__dirname, '../../../../src/core'));
  const script = `
    const { chooseBackend } = require(${src} + '/train/backendChoice');
    const { liveSparseHelperThreads } = require(${src} + '/tensor/sparseHelperThread');
    const { presetConfig } = require(${src} + '/train/presets');
    const { SyntheticSource } = require(${src} + '/train/syntheticData');
    const { SaeTrainer } = require(${src} + '/train/trainer');
    (async () => {
      const chosen = chooseBackend('fast', { sparseThreads: 2, intraOpThreads: 1 });
      const threads = chosen.backend.sparseThreads;
      const during = liveSparseHelperThreads();
      const base = presetConfig({ architecture: 'jumprelu', dSae: 1024, totalTokens: 512 * 8, batchSize: 512, targetL0: 24, seed: 1 });
      const config = { ...base, initRows: 1024, jumpRelu: { ...base.jumpRelu, topKWarmupSteps: 0 } };
      const source = new SyntheticSource({ dIn: 64, nFeatures: 256, firingProb: 0.05, seed: 2 });
      const trainer = await SaeTrainer.create(config, source, chosen.backend);
      for (let i = 0; i < 4; i++) trainer.trainStep(await source.nextBatch(512));
      chosen.dispose();
      for (let i = 0; i < 400 && liveSparseHelperThreads() > 0; i++) await new Promise((r) => setTimeout(r, 25));
      console.log(JSON.stringify({ threads, during, after: liveSparseHelperThreads(), name: chosen.backend.name }));
    })();`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { encoding: 'utf8', timeout: 180_000 });
  assert.equal(r.signal, null, `the process did not exit by itself (${r.stderr})`);
  assert.equal(r.status, 0, r.stderr);
  const got = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as { threads: number; during: number; after: number; name: string };
  assert.equal(got.threads, 2);
  assert.equal(got.during, 1, 'one helper thread while training (the self-check starts none)');
  assert.equal(got.after, 0, 'no helper thread after dispose');
  assert.match(got.name, /on 2 threads/);
});

test('the fast backend and the SwitchableBackend around it (also after a fallback to the reference backend) stop the helper on dispose', async () => {
  assert.equal(await settles(0), 0);
  const engine = createOrtDenseEngine({ intraOpThreads: 1 });
  try {
    const fast = createFastBackend(engine, { sparseThreads: 2 });
    assert.equal(fast.sparseThreads, 2);
    assert.equal(liveSparseHelperThreads(), 1);
    fast.dispose();
    assert.equal(await settles(0), 0, 'fast backend');

    const switchable = new SwitchableBackend(createFastBackend(engine, { sparseThreads: 2 }));
    assert.equal(liveSparseHelperThreads(), 1);
    switchable.useReference(); // the trainer's fallback: the preferred backend is still disposed by its owner
    switchable.dispose();
    assert.equal(await settles(0), 0, 'switchable backend');
  } finally {
    engine.dispose();
  }
});

test("chooseBackend's fallback to the reference backend leaves no helper thread, and its own dispose stops the one it started", async () => {
  assert.equal(await settles(0), 0);
  const real = createOrtDenseEngine({ intraOpThreads: 1 });
  const wrong: DenseEngine = Object.assign(Object.create(real) as DenseEngine, {
    gemm: (...args: Parameters<DenseEngine['gemm']>) => {
      const r = real.gemm(...args);
      return { ...r, data: r.data.map((v) => v * 1.5) };
    },
    dispose: () => undefined,
  });
  const failed = chooseBackend('fast', { sparseThreads: 2, loadEngine: () => wrong });
  assert.equal(failed.backend, referenceBackend);
  assert.match(failed.notice ?? '', /self-check failed/);
  assert.equal(await settles(0), 0, 'fallback');
  failed.dispose();

  const chosen = chooseBackend('fast', { sparseThreads: 2, loadEngine: () => real });
  assert.equal(liveSparseHelperThreads(), 1);
  chosen.dispose();
  assert.equal(await settles(0), 0, 'chosen fast backend');
});

test('sparse threads: auto gives JumpReLU two threads on two or more cores and everything else one; 1 and 2 override', () => {
  assert.equal(parseSparseThreads(undefined), 'auto');
  assert.equal(parseSparseThreads(' AUTO '), 'auto');
  assert.equal(parseSparseThreads('2'), 2);
  assert.equal(parseSparseThreads(1), 1);
  assert.throws(() => parseSparseThreads('3'), /auto, 1, 2/);
  for (const arch of ['jumprelu', 'topk', 'batchtopk'] as const) {
    assert.equal(sparseThreadsFor('auto', arch, 2), 2, arch);
    assert.equal(sparseThreadsFor('auto', arch, 1), 1, arch);
  }
  for (const arch of ['gated', 'relu'] as const) assert.equal(sparseThreadsFor('auto', arch, 8), 1, arch);
  assert.equal(sparseThreadsFor(2, 'topk', 1), 2);
  assert.equal(sparseThreadsFor(1, 'jumprelu', 8), 1);
});
