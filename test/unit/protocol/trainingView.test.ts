// The Training view's messages and the saved-job reader the worker resumes with: what passes and what is
// refused with a reason.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSavedTrainJob, trainJobFromCliOptions } from '../../../src/protocol/savedTrainJob';
import { parseHostToTrainer, parseTrainerToHost } from '../../../src/protocol/training';
import { parseHostMessage, parseWebviewMessage } from '../../../src/protocol/webview';

test('the Training view may ask for its four actions and nothing else', () => {
  for (const action of ['cancel', 'pause', 'resume', 'openCheckpoint']) {
    assert.deepEqual(parseWebviewMessage({ type: 'trainingAction', action }), { ok: true, value: { type: 'trainingAction', action } });
  }
  const bad = parseWebviewMessage({ type: 'trainingAction', action: 'deleteEverything' });
  assert.equal(bad.ok, false);
  assert.match(bad.ok ? '' : bad.reason, /cancel, pause, resume, openCheckpoint/);
});

test('training run and update messages need a run, and updates a start index and points', () => {
  const run = { id: 'run-1', title: 't', outDir: '/o', status: 'running', pausing: false, phase: 'train', fraction: 0.5 };
  assert.equal(parseHostMessage({ type: 'trainingRun', run, history: [] }).ok, true);
  assert.equal(parseHostMessage({ type: 'trainingUpdate', run, start: 3, points: [] }).ok, true);
  assert.equal(parseHostMessage({ type: 'trainingUpdate', run, start: -1, points: [] }).ok, false);
  assert.equal(parseHostMessage({ type: 'trainingRun', run: {}, history: [] }).ok, false);
});

test('pause and continue go to the worker; paused and continued come back with their step', () => {
  assert.deepEqual(parseHostToTrainer({ type: 'pause' }), { ok: true, value: { type: 'pause' } });
  assert.deepEqual(parseHostToTrainer({ type: 'continue' }), { ok: true, value: { type: 'continue' } });
  assert.deepEqual(parseTrainerToHost({ type: 'paused', step: 7 }), { ok: true, value: { type: 'paused', step: 7 } });
  assert.equal(parseTrainerToHost({ type: 'continued' }).ok, false);
  assert.deepEqual(parseHostToTrainer({ type: 'resume', protocol: 1, checkpointDir: '/d', cacheDir: '/c' }), {
    ok: true,
    value: { type: 'resume', protocol: 1, checkpointDir: '/d', cacheDir: '/c' },
  });
  assert.equal(parseHostToTrainer({ type: 'resume', protocol: 1, checkpointDir: '/d', cacheDir: 3 }).ok, false);
});

test('a feature-lens train command line maps onto the TrainJob the worker runs; the CLI defaults fill the gaps', () => {
  const corpus = trainJobFromCliOptions({ model: '/m', site: 'blocks.0.hook_resid_post', corpus: '/c', arch: 'jumprelu', 'd-sae': '64', tokens: '1000', 'target-l0': '8', out: '/o' }, '/cache');
  assert.deepEqual(corpus, {
    ok: true,
    value: {
      site: 'blocks.0.hook_resid_post', arch: 'jumprelu', dSae: 64, tokens: 1000, outDir: '/o', checkpointEvery: 500, seed: 0, targetL0: 8,
      data: { kind: 'corpus', modelPath: '/m', corpusDir: '/c', cacheDir: '/cache', maxFileBytes: 4 * 1024 * 1024 },
    },
  });
  const acts = trainJobFromCliOptions({ acts: '/a.npy', arch: 'topk', k: '4', 'd-sae': '64', tokens: '1000', out: '/o', cache: '/x', batch: '256' }, '/cache');
  assert.equal(acts.ok && acts.value.site, 'unknown');
  assert.equal(acts.ok && acts.value.batchSize, 256);
  assert.deepEqual(acts.ok && acts.value.data, { kind: 'acts', path: '/a.npy' });
  const broken = trainJobFromCliOptions({ acts: '/a.npy', arch: 'topk', 'd-sae': 'many', tokens: '1000', out: '/o' }, '/cache');
  assert.equal(broken.ok, false);
});

test('a saved job is either a CLI run or a TrainJob, kept as stored; anything else is refused naming both', () => {
  const raw = { command: 'train', options: { acts: '/a.npy', arch: 'gated', 'd-sae': '8', tokens: '100', 'l0-coeff': '0.1', out: '/o' } };
  const parsed = parseSavedTrainJob(raw, '/cache');
  assert.equal(parsed.ok && parsed.value.raw, raw);
  assert.equal(parsed.ok && parsed.value.job.l0Coeff, 0.1);
  const refused = parseSavedTrainJob({ something: 'else' }, '/cache');
  assert.equal(refused.ok, false);
  assert.match(refused.ok ? '' : refused.reason, /neither a Train SAE… job nor a feature-lens train run/);
  assert.equal(parseSavedTrainJob({ command: 'train', options: { arch: 3 } }, '/c').ok, false);
});
