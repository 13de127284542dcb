// Choosing the backend: forced choices, a fast backend that cannot load or fails its self-check falls
// back to the reference backend with a notice, and one that starts producing non-finite values mid-run
// is replaced by the reference backend for the rest of the run (no skipped step, no NaN in the weights).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createOrtDenseEngine } from '../../../../src/core/runtime/ortDenseEngine';
import { createFastBackend, referenceBackend, type DenseEngine } from '../../../../src/core/tensor';
import { chooseBackend, parseBackendChoice } from '../../../../src/core/train/backendChoice';
import { presetConfig } from '../../../../src/core/train/presets';
import { SyntheticSource } from '../../../../src/core/train/syntheticData';
import { SaeTrainer } from '../../../../src/core/train/trainer';

test('parseBackendChoice accepts auto, fast and reference and names the choices otherwise', () => {
  assert.equal(parseBackendChoice(undefined), 'auto');
  assert.equal(parseBackendChoice('FAST'), 'fast');
  assert.equal(parseBackendChoice('reference'), 'reference');
  assert.throws(() => parseBackendChoice('gpu'), /auto, fast, reference/);
});

test('auto picks the fast backend when ONNX Runtime loads; reference is honoured', () => {
  const auto = chooseBackend('auto', { intraOpThreads: 1 });
  try {
    assert.match(auto.backend.name, /^fast/);
    assert.equal(auto.notice, undefined);
  } finally {
    auto.dispose();
  }
  const ref = chooseBackend('reference');
  assert.equal(ref.backend, referenceBackend);
  assert.equal(ref.notice, undefined);
});

test('an engine that cannot load, or computes wrong products, gives the reference backend and a one-line notice', () => {
  const failing = chooseBackend('fast', {
    loadEngine: () => {
      throw new Error('native binding missing\nstack line');
    },
  });
  assert.equal(failing.backend, referenceBackend);
  assert.match(failing.notice ?? '', /unavailable \(native binding missing\); using the reference backend/);
  assert.ok(!(failing.notice ?? '').includes('\n'));

  const real = createOrtDenseEngine({ intraOpThreads: 1 });
  const wrong: DenseEngine = { ...bind(real), gemm: (a, b, o) => ({ ...real.gemm(a, b, o), data: real.gemm(a, b, o).data.map((v) => v * 1.5) }) };
  const chosen = chooseBackend('auto', { loadEngine: () => wrong });
  assert.equal(chosen.backend, referenceBackend);
  assert.match(chosen.notice ?? '', /self-check failed/);
});

test('a fast backend that starts returning NaN mid-run is replaced by the reference backend, with a notice and no lost step', async () => {
  const real = createOrtDenseEngine({ intraOpThreads: 1 });
  let calls = 0;
  // Every product the engine computes turns NaN after a few calls (TopK's encoder is gemmRowTopK).
  const poisoned: DenseEngine = {
    ...bind(real),
    gemm: (a, b, o) => {
      const r = real.gemm(a, b, o);
      return ++calls > 3 ? { ...r, data: r.data.map(() => Number.NaN) } : r;
    },
    gemmRowTopK: (a, b, bias, shift, k) => {
      const r = real.gemmRowTopK(a, b, bias, shift, k);
      return ++calls > 3 ? { ...r, values: r.values.map(() => Number.NaN), checksum: Number.NaN } : r;
    },
  };
  const source = new SyntheticSource({ dIn: 16, nFeatures: 48, firingProb: 0.05, seed: 2 });
  const config = { ...presetConfig({ architecture: 'topk', dSae: 128, totalTokens: 64 * 8, batchSize: 64, k: 4 }), initRows: 256 };
  const trainer = await SaeTrainer.create(config, source, createFastBackend(poisoned, { minEngineWork: 0 }));
  const notices: string[] = [];
  trainer.onNotice = (m) => notices.push(m);
  for (let i = 0; i < 8; i++) assert.ok(trainer.trainStep(await source.nextBatch(64)), `step ${i + 1} skipped`);
  assert.equal(notices.length, 1);
  assert.match(notices[0], /^step \d: the fast .* (produced a non-finite value|failed \(.*non-finite.*\)); continuing on the reference backend$/);
  assert.equal(trainer.backendName, 'reference');
  for (const [name, w] of trainer.model.params) assert.ok(w.every(Number.isFinite), `${name} has a non-finite entry`);
});

function bind(e: DenseEngine): DenseEngine {
  return {
    name: e.name,
    gemm: (a, b, o) => e.gemm(a, b, o),
    gemmRowTopK: (a, b, bias, shift, k) => e.gemmRowTopK(a, b, bias, shift, k),
    gemmAbove: (a, b, bias, lower) => e.gemmAbove(a, b, bias, lower),
    gemmTransBGather: (a, b, idx, w) => e.gemmTransBGather(a, b, idx, w),
    gemmSum: (a, b) => e.gemmSum(a, b),
    dispose: () => e.dispose(),
  };
}
