import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseHostToTrainer, parseTrainerToHost, parseTrainJob, TRAINING_PROTOCOL_VERSION, type TrainJob } from '../../../src/protocol/training';

const good: TrainJob = {
  site: 'blocks.1.hook_resid_post',
  arch: 'jumprelu',
  dSae: 2048,
  targetL0: 32,
  tokens: 1_000_000,
  data: { kind: 'corpus', modelPath: '/m', corpusDir: '/c', cacheDir: '/cache' },
  outDir: '/out',
  checkpointEvery: 500,
  seed: 0,
};

test('a well-formed job passes and keeps its fields', () => {
  const r = parseTrainJob(good);
  assert.ok(r.ok);
  if (r.ok) assert.deepEqual(r.value, good);
});

test('bad jobs are refused with the reason', () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ ...good, dSae: 0 }, /dSae/],
    [{ ...good, dSae: 1.5 }, /dSae/],
    [{ ...good, arch: 'sigmoid' }, /arch must be one of/],
    [{ ...good, arch: 'topk' }, /topk needs k/],
    [{ ...good, tokens: -1 }, /tokens/],
    [{ ...good, l0Coeff: Number.NaN }, /l0Coeff/],
    [{ ...good, outDir: '' }, /outDir/],
    [{ ...good, checkpointEvery: -1 }, /checkpointEvery/],
    [{ ...good, data: { kind: 'corpus', modelPath: '/m' } }, /data\.corpusDir/],
    [{ ...good, data: { kind: 'hdf5' } }, /data\.kind/],
    [{ ...good, data: { kind: 'corpus', modelPath: '/m', corpusDir: '/c', cacheDir: '/x', maxFileBytes: 0 } }, /maxFileBytes/],
  ];
  for (const [job, reason] of cases) {
    const r = parseTrainJob(job);
    assert.equal(r.ok, false, JSON.stringify(job));
    if (!r.ok) assert.match(r.reason, reason);
  }
});

test('host messages: version checked, cancel and resume accepted, junk refused', () => {
  assert.ok(parseHostToTrainer({ type: 'cancel' }).ok);
  assert.ok(parseHostToTrainer({ type: 'resume', protocol: TRAINING_PROTOCOL_VERSION, checkpointDir: '/out' }).ok);
  const old = parseHostToTrainer({ type: 'start', protocol: 0, job: good });
  assert.ok(!old.ok && /protocol 0/.test(old.reason));
  assert.equal(parseHostToTrainer(null).ok, false);
  assert.equal(parseHostToTrainer({ type: 'explode' }).ok, false);
});

test('worker messages: progress may carry NaN metrics but not missing counters', () => {
  const progress = { type: 'progress', phase: 'harvest', step: 0, tokens: 5, totalTokens: 10, loss: Number.NaN, mse: Number.NaN, fvu: Number.NaN, l0: Number.NaN, deadFraction: Number.NaN, tokensPerSecond: 1, skippedRows: 0 };
  assert.ok(parseTrainerToHost(progress).ok);
  assert.equal(parseTrainerToHost({ ...progress, tokens: undefined }).ok, false);
  assert.equal(parseTrainerToHost({ ...progress, phase: 'eval' }).ok, false);
  assert.equal(parseTrainerToHost({ type: 'done', summary: {} }).ok, false);
  assert.ok(parseTrainerToHost({ type: 'error', message: 'disk full' }).ok);
});
