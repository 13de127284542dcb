// A run folder's curves read back from disk (what a Training view shows after a window reload): the
// logged records in step order, finished or not, the budget and the L0 target; nonsense gives nothing.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeNpyMatrix } from '../../../../src/core/npy';
import { readRunHistory } from '../../../../src/core/train/runHistory';
import { SyntheticSource } from '../../../../src/core/train/syntheticData';
import { runTrainJob } from '../../../../src/worker/training/trainJob';
import type { TrainJob } from '../../../../src/protocol/training';

const dir = mkdtempSync(join(tmpdir(), 'fl-run-history-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const acts = join(dir, 'acts.npy');
writeNpyMatrix(acts, new SyntheticSource({ dIn: 8, nFeatures: 16, firingProb: 0.15, noiseStd: 0.01, seed: 2 }).nextBatch(2000));
const quiet = { progress() {}, checkpoint() {}, log() {} };
const job = (outDir: string): TrainJob => ({
  site: 's', arch: 'jumprelu', targetL0: 3, dSae: 24, tokens: 128 * 120, batchSize: 128, data: { kind: 'acts', path: acts }, outDir, checkpointEvery: 0, seed: 1,
});

test('a finished run: its logged curve in step order, the budget and the target L0', async () => {
  const out = join(dir, 'finished');
  await runTrainJob({ kind: 'start', job: job(out) }, new AbortController().signal, quiet);
  const h = readRunHistory(out);
  assert.equal(h.finished, true);
  assert.equal(h.totalTokens, 128 * 120);
  assert.equal(h.targetL0, 3);
  assert.equal(h.step, 120);
  assert.ok(h.points.length >= 2, `${h.points.length} points`);
  const steps = h.points.map((p) => p.step);
  assert.deepEqual(steps, [...steps].sort((a, b) => a - b));
  assert.equal(steps[steps.length - 1], 120);
  for (const p of h.points) assert.ok(Number.isFinite(p.l0) && Number.isFinite(p.fvu) && p.tokens === p.step * 128);
});

test('a stopped run is not finished; a folder without a run gives an empty history', async () => {
  const out = join(dir, 'stopped');
  const controller = new AbortController();
  controller.abort();
  await runTrainJob({ kind: 'start', job: job(out) }, controller.signal, quiet);
  const h = readRunHistory(out);
  assert.equal(h.finished, false);
  assert.equal(h.step, 0);
  const junk = join(dir, 'junk');
  mkdirSync(junk);
  writeFileSync(join(junk, 'metrics.json'), '{ not json');
  assert.deepEqual(readRunHistory(junk), { points: [], finished: false });
  assert.deepEqual(readRunHistory(join(dir, 'missing')), { points: [], finished: false });
});
