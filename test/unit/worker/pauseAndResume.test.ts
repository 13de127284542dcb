// Pause really stops stepping and continues from the same state, and the extension's worker resumes a
// folder written by `feature-lens train` (its command-line options stored as the job) bit for bit.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trainCommand } from '../../../src/cli/commands/train';
import { writeNpyMatrix } from '../../../src/core/npy';
import { SyntheticSource } from '../../../src/core/train/syntheticData';
import { PauseGate } from '../../../src/core/util/pauseGate';
import { runTrainJob, type JobEvents } from '../../../src/worker/training/trainJob';
import type { TrainJob, TrainProgressEvent } from '../../../src/protocol/training';
import { captured } from '../cli/captureOutput';

const dir = mkdtempSync(join(tmpdir(), 'fl-pause-resume-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const acts = join(dir, 'acts.npy');
const m = new SyntheticSource({ dIn: 8, nFeatures: 16, firingProb: 0.15, noiseStd: 0.01, seed: 2 }).nextBatch(3000);
for (let i = 0; i < m.data.length; i++) m.data[i] *= 3;
writeNpyMatrix(acts, m);
const STEPS = 20;

function runBytes(folder: string): Record<string, string> {
  const state = JSON.parse(readFileSync(join(folder, 'trainer_state.json'), 'utf8')) as { scalars: { job?: unknown } };
  delete state.scalars.job;
  const metrics = JSON.parse(readFileSync(join(folder, 'metrics.json'), 'utf8')) as { records: unknown[] };
  const bytes = (f: string) => readFileSync(join(folder, f)).toString('base64');
  return { weights: bytes('sae_weights.safetensors'), trainingState: bytes('training_state.safetensors'), state: JSON.stringify(state), records: JSON.stringify(metrics.records) };
}

const job = (outDir: string, over: Partial<TrainJob> = {}): TrainJob => ({
  site: 'blocks.0.hook_resid_post', arch: 'jumprelu', targetL0: 3, dSae: 24, tokens: 128 * STEPS, batchSize: 128,
  data: { kind: 'acts', path: acts }, outDir, checkpointEvery: 0, seed: 4, ...over,
});
const quiet: JobEvents = { progress() {}, checkpoint() {}, log() {} };
const stepOf = (folder: string) => (JSON.parse(readFileSync(join(folder, 'trainer_state.json'), 'utf8')) as { step: number }).step;

test('a paused run stops stepping, saves its state, and continued from there ends bit-identical to a straight run', async () => {
  const straight = join(dir, 'straight');
  await runTrainJob({ kind: 'start', job: job(straight) }, new AbortController().signal, quiet, { progressIntervalMs: 0 });

  const paused = join(dir, 'paused');
  const gate = new PauseGate();
  const log: string[] = [];
  let pausedAt = -1;
  let savedWhilePaused = -1;
  const events: JobEvents = {
    progress(p: TrainProgressEvent) {
      log.push(`progress ${p.step}`);
      assert.ok(p.denseFraction !== undefined && p.denseFraction >= 0 && p.denseFraction <= 1, 'progress reports the dense fraction');
      if (p.step === 7) gate.pause();
    },
    checkpoint() {},
    log() {},
    paused(step) {
      log.push(`paused ${step}`);
      pausedAt = step;
      savedWhilePaused = stepOf(paused);
      // Let the loop sit on the gate across several turns of the event loop before opening it.
      let turns = 0;
      const spin = () => (++turns < 20 ? setImmediate(spin) : gate.resume());
      setImmediate(spin);
    },
    continued(step) {
      log.push(`continued ${step}`);
    },
  };
  const summary = await runTrainJob({ kind: 'start', job: job(paused) }, new AbortController().signal, events, { progressIntervalMs: 0, pause: gate });
  assert.equal(summary.steps, STEPS);
  assert.equal(pausedAt, 7);
  assert.equal(savedWhilePaused, 7, 'the pause saved a checkpoint of the step it stopped at');
  const i = log.indexOf('paused 7');
  assert.deepEqual(log.slice(i - 1, i + 3), ['progress 7', 'paused 7', 'continued 7', 'progress 8'], 'no step between pause and continue');
  assert.deepEqual(runBytes(paused), runBytes(straight));
});

test('cancel while paused ends the run with a resumable checkpoint', async () => {
  const out = join(dir, 'paused-cancelled');
  const gate = new PauseGate();
  const controller = new AbortController();
  gate.pause();
  const summary = await runTrainJob({ kind: 'start', job: job(out) }, controller.signal, { ...quiet, paused: () => setImmediate(() => controller.abort()) }, { pause: gate });
  assert.equal(summary.cancelled, true);
  assert.equal(summary.steps, 0);
});

test('the extension worker resumes a folder written by feature-lens train, bit for bit, and leaves it resumable by the CLI', async () => {
  const common = ['--acts', acts, '--arch', 'topk', '--k', '2', '--d-sae', '24', '--tokens', String(128 * STEPS), '--batch', '128', '--seed', '4', '--checkpoint-every', '3'];
  const straight = join(dir, 'cli-straight');
  assert.equal((await captured(() => trainCommand.run([...common, '--out', straight]))).code, 0);
  const split = join(dir, 'cli-split');
  assert.equal((await captured(() => trainCommand.run([...common, '--out', split, '--max-steps', String(STEPS / 2)]))).code, 0);
  assert.equal(stepOf(split), STEPS / 2);

  const summary = await runTrainJob({ kind: 'resume', checkpointDir: split, cacheDir: join(dir, 'cache') }, new AbortController().signal, quiet);
  assert.deepEqual([summary.steps, summary.cancelled, summary.outDir], [STEPS, false, split]);
  assert.deepEqual(runBytes(split), runBytes(straight));
  const stored = JSON.parse(readFileSync(join(split, 'trainer_state.json'), 'utf8')) as { scalars: { job: { command?: string } } };
  assert.equal(stored.scalars.job.command, 'train', 'the CLI job is kept as it was');
  const again = await captured(() => trainCommand.run(['--resume', split]));
  assert.equal(again.code, 0, again.stderr);
});

test('an output folder that cannot be written is refused before any data is read', { skip: process.getuid?.() === 0 ? 'root writes anywhere' : false }, async () => {
  const locked = join(dir, 'locked');
  mkdirSync(locked);
  chmodSync(locked, 0o500);
  try {
    await assert.rejects(runTrainJob({ kind: 'start', job: job(join(locked, 'out'), { data: { kind: 'acts', path: join(dir, 'missing.npy') } }) }, new AbortController().signal, quiet), /cannot write the output folder .*locked.*EACCES/);
  } finally {
    chmodSync(locked, 0o700);
  }
});

test('an output path under a file is refused with a clear message', async () => {
  await assert.rejects(
    runTrainJob({ kind: 'start', job: job(join(acts, 'out'), { data: { kind: 'acts', path: join(dir, 'missing.npy') } }) }, new AbortController().signal, quiet),
    /cannot write the output folder .*acts\.npy.*\((ENOTDIR|EEXIST)\)/,
  );
});

test('a resume clears the half-written checkpoint copy a stopped run left beside its folder', async () => {
  const out = join(dir, 'left-over');
  const controller = new AbortController();
  await runTrainJob({ kind: 'start', job: job(out) }, controller.signal, { ...quiet, progress: () => controller.abort() }, { progressIntervalMs: 0 });
  const stale = join(dir, '.left-over.tmp-99999-deadbeef');
  mkdirSync(stale);
  writeFileSync(join(stale, 'cfg.json'), '{}');
  const logs: string[] = [];
  const summary = await runTrainJob({ kind: 'resume', checkpointDir: out }, new AbortController().signal, { ...quiet, log: (m) => logs.push(m) });
  assert.equal(summary.steps, STEPS);
  assert.equal(existsSync(stale), false);
  assert.ok(logs.some((m) => /removed \.left-over\.tmp-99999-deadbeef/.test(m)), logs.join('\n'));
});
