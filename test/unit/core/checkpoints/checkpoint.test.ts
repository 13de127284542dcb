import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCheckpoint, saveCheckpoint, type CheckpointContents } from '../../../../src/core/checkpoints/checkpoint';
import { readFeatureLabels, setFeatureLabel } from '../../../../src/core/checkpoints/labels';
import { readMetrics, writeMetrics } from '../../../../src/core/checkpoints/metrics-history';
import type { SaeWeights } from '../../../../src/core/sae/weights';
import { exactValues } from '../fixtures/bytes';
import { fullDiskFs } from '../fixtures/failing-fs';

function weights(seed: number, inputScale?: number): SaeWeights {
  const t = (shape: number[], s: number) => ({ shape, data: exactValues(shape.reduce((a, b) => a * b), seed * 10 + s) });
  return {
    config: { architecture: 'jumprelu', dIn: 8, dSae: 32, applyBDecToInput: true, hookName: 'blocks.1.hook_resid_post', ...(inputScale ? { inputScale } : {}) },
    tensors: new Map([
      ['W_enc', t([8, 32], 1)],
      ['W_dec', t([32, 8], 2)],
      ['b_enc', t([32], 3)],
      ['b_dec', t([8], 4)],
      ['threshold', { shape: [32], data: exactValues(32, seed * 10 + 5).map(Math.abs) }],
    ]),
  };
}

function contents(seed: number): CheckpointContents {
  return {
    weights: weights(seed, 0.37),
    training: {
      step: 100 * seed,
      tokensSeen: 4096 * seed,
      rng: { s: [1, 2, 3, 0xffffffff] },
      config: { lr: 7e-5, arch: 'jumprelu' },
      scalars: { lambda: 0.5 },
      arrays: new Map<string, Float32Array | Float64Array | Int32Array | Uint32Array>([
        ['adam.v.W_enc', exactValues(256, seed)],
        ['dead.lastFired', new Int32Array([5, -1, 7])],
        ['ema', new Float64Array([Math.PI / seed])],
        ['counts', new Uint32Array([0xfffffffe])],
      ]),
    },
    metrics: { records: [{ step: 1, loss: 2.5, l0: 30 }, { step: 2, loss: NaN, l0: 20 }] },
  };
}

test('save → load restores weights, exact training parameters, training state and metrics', async () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'fl-ckpt-')), 'run');
  const c = contents(1);
  await saveCheckpoint(dir, c);
  const back = await loadCheckpoint(dir);
  assert.deepEqual(back.trainingWeights.config, c.weights.config);
  for (const [name, t] of c.weights.tensors) assert.deepEqual(back.trainingWeights.tensors.get(name)!.data, t.data, name);
  assert.equal(back.weights.config.inputScale, undefined, 'the SAELens view is folded');
  assert.equal(back.training!.step, 100);
  assert.equal(back.training!.tokensSeen, 4096);
  assert.deepEqual(back.training!.rng, { s: [1, 2, 3, 0xffffffff] });
  assert.deepEqual(back.training!.config, { lr: 7e-5, arch: 'jumprelu' });
  assert.deepEqual(back.training!.scalars, { lambda: 0.5 });
  assert.deepEqual([...back.training!.arrays.keys()].sort(), ['adam.v.W_enc', 'counts', 'dead.lastFired', 'ema']);
  assert.deepEqual(back.training!.arrays.get('adam.v.W_enc')!.data, c.training!.arrays.get('adam.v.W_enc'));
  assert.deepEqual(back.training!.arrays.get('dead.lastFired')!.data, new Int32Array([5, -1, 7]));
  assert.deepEqual(back.training!.arrays.get('ema')!.data, new Float64Array([Math.PI]));
  assert.deepEqual(back.training!.arrays.get('counts')!.data, new Uint32Array([0xfffffffe]));
  assert.deepEqual(back.metrics!.records, [{ step: 1, loss: 2.5, l0: 30 }, { step: 2, loss: null, l0: 20 }]);
});

test('a full disk while writing a new checkpoint leaves the previous one intact and loadable', async () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'fl-ckpt-full-')), 'run');
  await saveCheckpoint(dir, contents(1));
  const total = readdirSync(dir).reduce((a, n) => a + statSync(join(dir, n)).size, 0);
  await setFeatureLabel(dir, 3, 'dates');
  const before = readFileSync(join(dir, 'sae_weights.safetensors'));
  for (const budget of [0, 100, Math.floor(total / 2), total - 1]) {
    const fs = fullDiskFs(budget);
    await assert.rejects(saveCheckpoint(dir, contents(2), { fs }), /ENOSPC/, `budget ${budget}`);
    assert.ok(fs.written() <= budget);
    assert.deepEqual(readFileSync(join(dir, 'sae_weights.safetensors')), before);
    const back = await loadCheckpoint(dir);
    assert.equal(back.training!.step, 100, `budget ${budget}: still the first checkpoint`);
    assert.equal(readFeatureLabels(dir).get(3)!.label, 'dates');
  }
  assert.deepEqual(readdirSync(join(dir, '..')), ['run'], 'no partial folders left');
  await saveCheckpoint(dir, contents(2));
  assert.equal((await loadCheckpoint(dir)).training!.step, 200);
  assert.equal(readFeatureLabels(dir).get(3)!.label, 'dates', 'labels survive a new checkpoint');
});

test('feature labels and metrics files are validated and written atomically', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fl-labels-'));
  assert.equal(readFeatureLabels(dir).size, 0);
  await setFeatureLabel(dir, 7, 'Python keywords', 'fires on def');
  await setFeatureLabel(dir, 2, 'numbers');
  const labels = readFeatureLabels(dir, 32);
  assert.deepEqual([...labels.keys()], [2, 7]);
  assert.equal(labels.get(7)!.note, 'fires on def');
  assert.throws(() => readFeatureLabels(dir, 5), /not a feature index below 5/);
  await setFeatureLabel(dir, 2, '');
  assert.deepEqual([...readFeatureLabels(dir).keys()], [7]);
  await writeMetrics(dir, { records: [{ step: 3, fvu: 0.2 }], summary: { l0: 40 } });
  assert.deepEqual(readMetrics(dir), { records: [{ step: 3, fvu: 0.2 }], summary: { l0: 40 } });
  await assert.rejects(writeMetrics(dir, { records: [{ step: 4 }] }, fullDiskFs(3)), /ENOSPC/);
  assert.deepEqual(readMetrics(dir)!.records, [{ step: 3, fvu: 0.2 }]);
});
