// The run queue without VS Code: runs start one after another, statuses follow the worker's events,
// pause/continue/cancel reach the running worker, and the history is kept (and thinned) in order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_HISTORY_POINTS, RunQueue, type RunHandle } from '../../../src/extension/training/runQueue';
import type { TrainingListener, TrainingOutcome } from '../../../src/extension/training/trainingClient';
import type { TrainingStart, TrainJob, TrainProgressEvent } from '../../../src/protocol/training';

interface Fake extends RunHandle {
  readonly start: TrainingStart;
  readonly listener: TrainingListener;
  readonly calls: string[];
  end(outcome: TrainingOutcome): void;
}

function fakeLaunch() {
  const launched: Fake[] = [];
  const launch = (start: TrainingStart, listener: TrainingListener): RunHandle => {
    let end!: (o: TrainingOutcome) => void;
    const calls: string[] = [];
    const fake: Fake = {
      start,
      listener,
      calls,
      outcome: new Promise((r) => (end = r)),
      cancel: () => calls.push('cancel'),
      pause: () => calls.push('pause'),
      continue: () => calls.push('continue'),
      kill: async () => void calls.push('kill'),
      end: (o) => end(o),
    };
    launched.push(fake);
    return fake;
  };
  return { launched, launch };
}

const job = (outDir: string): TrainJob => ({ site: 's', arch: 'topk', k: 2, dSae: 8, tokens: 1000, data: { kind: 'acts', path: 'a.npy' }, outDir, checkpointEvery: 0, seed: 0 });
const progress = (step: number, phase: 'train' | 'harvest' = 'train'): TrainProgressEvent => ({
  type: 'progress', phase, step, tokens: step * 10, totalTokens: 1000, loss: 1 / step, mse: 1, fvu: 0.5, l0: 2, deadFraction: 0, denseFraction: 0, tokensPerSecond: 100, skippedRows: 0,
});
const done = (outDir: string, cancelled = false): TrainingOutcome => ({
  kind: 'done',
  summary: { outDir, steps: 10, tokens: 1000, seconds: 1, final: { mse: 1, fvu: 0.5, l0: 2, deadFraction: 0 }, cancelled },
});
const settle = () => new Promise((r) => setImmediate(r));

test('two queued runs train one after the other, with their statuses', async () => {
  const { launched, launch } = fakeLaunch();
  const q = new RunQueue(launch);
  const a = q.enqueue({ kind: 'start', job: job('/a') }, 'A')!;
  const b = q.enqueue({ kind: 'start', job: job('/b') }, 'B')!;
  assert.equal(launched.length, 1, 'the second run waits');
  assert.deepEqual([a.info.status, b.info.status], ['running', 'queued']);
  launched[0].listener.progress(progress(1, 'harvest'));
  assert.equal(a.info.phase, 'harvest');
  launched[0].listener.progress(progress(5));
  assert.deepEqual([a.info.phase, a.info.fraction, a.history.length], ['train', 0.05, 1]);
  launched[0].end(done('/a'));
  await settle();
  assert.equal(a.info.status, 'finished');
  assert.equal(launched.length, 2);
  assert.equal((launched[1].start as { job: TrainJob }).job.outDir, '/b');
  assert.equal(b.info.status, 'running');
  launched[1].end({ kind: 'error', message: 'disk full' });
  await settle();
  assert.deepEqual([b.info.status, b.info.message], ['failed', 'disk full']);
  assert.deepEqual(await b.outcome, { kind: 'error', message: 'disk full' });
});

test('pause, continue and cancel reach the worker; a queued run is cancelled without starting', async () => {
  const { launched, launch } = fakeLaunch();
  const q = new RunQueue(launch);
  const a = q.enqueue({ kind: 'start', job: job('/a') }, 'A')!;
  const b = q.enqueue({ kind: 'start', job: job('/b') }, 'B')!;
  assert.equal(q.pause(a.id), true);
  assert.equal(a.info.pausing, true);
  launched[0].listener.paused?.(3);
  assert.deepEqual([a.info.status, a.info.pausing], ['paused', false]);
  assert.equal(q.pause(a.id), false, 'already paused');
  assert.equal(q.resume(a.id), true);
  launched[0].listener.continued?.(3);
  assert.equal(a.info.status, 'running');
  assert.equal(q.cancel(b.id), true);
  assert.equal(b.info.status, 'cancelled');
  assert.equal(q.cancel(a.id), true);
  assert.deepEqual(launched[0].calls, ['pause', 'continue', 'cancel']);
  launched[0].end(done('/a', true));
  await settle();
  assert.equal(a.info.status, 'cancelled');
  assert.equal(launched.length, 1, 'the cancelled queued run never started');
});

test('a second live run into the same folder is refused; a finished folder can run again', async () => {
  const { launched, launch } = fakeLaunch();
  const q = new RunQueue(launch);
  assert.ok(q.enqueue({ kind: 'start', job: job('/a') }, 'A'));
  assert.equal(q.enqueue({ kind: 'resume', checkpointDir: '/a' }, 'again'), undefined);
  launched[0].end(done('/a'));
  await settle();
  assert.ok(q.enqueue({ kind: 'resume', checkpointDir: '/a' }, 'again'));
});

test('the history stays in step order across a resume and is thinned, not cut, past its limit', async () => {
  const { launched, launch } = fakeLaunch();
  const appended: number[] = [];
  const q = new RunQueue(launch, { points: (_run, start) => appended.push(start) });
  const a = q.enqueue({ kind: 'resume', checkpointDir: '/a' }, 'A', { history: [1, 2, 3, 4].map((s) => ({ step: s, tokens: s, loss: 1, mse: 1, fvu: 1, l0: 1, deadFraction: 0 })) })!;
  // The worker resumes from its checkpoint at step 2: the earlier try's steps 3 and 4 go.
  launched[0].listener.progress(progress(3));
  assert.deepEqual(a.history.map((p) => p.step), [1, 2, 3]);
  assert.equal(a.historyRevision, 1);
  for (let s = 4; s < MAX_HISTORY_POINTS + 10; s++) launched[0].listener.progress(progress(s));
  assert.ok(a.history.length < MAX_HISTORY_POINTS);
  assert.equal(a.history[0].step, 1);
  assert.equal(a.history[a.history.length - 1].step, MAX_HISTORY_POINTS + 9);
  const steps = a.history.map((p) => p.step);
  assert.deepEqual(steps, [...steps].sort((x, y) => x - y));
  assert.ok(appended.length > 0);
});

test('stopNow kills the running worker (a closed window); the crash ends the run as failed and the next one starts', async () => {
  const { launched, launch } = fakeLaunch();
  const q = new RunQueue(launch);
  const a = q.enqueue({ kind: 'start', job: job('/a') }, 'A')!;
  const b = q.enqueue({ kind: 'start', job: job('/b') }, 'B')!;
  assert.equal(await q.stopNow(b.id), false, 'a queued run has no worker to stop');
  assert.equal(await q.stopNow(a.id), true);
  assert.deepEqual(launched[0].calls, ['kill']);
  launched[0].end({ kind: 'crashed', message: 'The training worker stopped unexpectedly (exited with code 1).' });
  await settle();
  assert.deepEqual([a.info.status, b.info.status], ['failed', 'running']);
  assert.match(a.info.message ?? '', /stopped unexpectedly/);
});
