// The training worker as the extension runs it: a real worker_threads Worker (the TypeScript entry,
// loaded through tsx), driven only by protocol messages.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { encodeNpyHeader } from '../../../src/core/npy';
import { Rng } from '../../../src/core/util/rng';
import {
  parseTrainerToHost,
  type HostToTrainer,
  type TrainerToHost,
  type TrainJob,
  TRAINING_PROTOCOL_VERSION,
} from '../../../src/protocol/training';

const ENTRY = resolve(__dirname, '../../../src/worker/trainWorker.ts');

/** The TypeScript entry in a real worker thread: tsx's require hook is installed inside the thread first. */
function newWorker(): Worker {
  return new Worker(`require('tsx/cjs'); require(${JSON.stringify(ENTRY)});`, { eval: true });
}
const dir = mkdtempSync(join(tmpdir(), 'fl-trainworker-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Sparse non-negative combinations of 32 random directions in 16 dims: something an SAE can learn. */
function writeActs(rows = 4096, dIn = 16): string {
  const rng = new Rng(3);
  const dirs = Array.from({ length: 32 }, () => Float32Array.from({ length: dIn }, () => rng.normal()));
  const data = new Float32Array(rows * dIn);
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k < 3; k++) {
      const d = dirs[rng.int(32)];
      const a = 1 + rng.next();
      for (let j = 0; j < dIn; j++) data[r * dIn + j] += a * d[j];
    }
  }
  const path = join(dir, 'acts.npy');
  writeFileSync(path, Buffer.concat([encodeNpyHeader([rows, dIn]), Buffer.from(data.buffer)]));
  return path;
}
const ACTS = writeActs();

function job(outName: string, over: Partial<TrainJob> = {}): TrainJob {
  return {
    site: 'blocks.0.hook_resid_post',
    arch: 'jumprelu',
    dSae: 64,
    targetL0: 4,
    tokens: 128 * 40,
    batchSize: 128,
    data: { kind: 'acts', path: ACTS },
    outDir: join(dir, outName),
    checkpointEvery: 10,
    seed: 5,
    ...over,
  };
}

interface Run {
  readonly worker: Worker;
  readonly events: TrainerToHost[];
  /** Resolves with the final done/error message, or an 'exit' marker if the worker died first. */
  readonly end: Promise<TrainerToHost | { type: 'exit'; code: number }>;
  /** Resolves at the first event that matches. */
  waitFor(pred: (e: TrainerToHost) => boolean): Promise<TrainerToHost>;
}

function startWorker(first: HostToTrainer): Run {
  const worker = newWorker();
  const events: TrainerToHost[] = [];
  const waiters: { pred: (e: TrainerToHost) => boolean; resolve: (e: TrainerToHost) => void }[] = [];
  const end = new Promise<TrainerToHost | { type: 'exit'; code: number }>((resolveEnd) => {
    worker.on('message', (raw) => {
      const parsed = parseTrainerToHost(raw);
      assert.ok(parsed.ok, `worker sent a malformed message: ${JSON.stringify(raw)}`);
      const e = parsed.value;
      events.push(e);
      for (const w of [...waiters]) {
        if (w.pred(e)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(e);
        }
      }
      if (e.type === 'done' || e.type === 'error') resolveEnd(e);
    });
    worker.on('exit', (code) => resolveEnd({ type: 'exit', code }));
  });
  worker.postMessage(first);
  return {
    worker,
    events,
    end,
    waitFor: (pred) => {
      const hit = events.find(pred);
      return hit ? Promise.resolve(hit) : new Promise((r) => waiters.push({ pred, resolve: r }));
    },
  };
}

const start = (j: TrainJob): HostToTrainer => ({ type: 'start', protocol: TRAINING_PROTOCOL_VERSION, job: j });

test('a job reports progress and checkpoints, and leaves a complete SAELens checkpoint', async () => {
  const j = job('plain');
  const run = startWorker(start(j));
  const end = await run.end;
  assert.equal(end.type, 'done', JSON.stringify(end));
  if (end.type !== 'done') return;
  assert.equal(end.summary.cancelled, false);
  assert.equal(end.summary.steps, 40);
  assert.ok(end.summary.final.l0 > 0 && end.summary.final.l0 < 64, `L0 ${end.summary.final.l0}`);
  const progress = run.events.filter((e) => e.type === 'progress');
  assert.ok(progress.length >= 1);
  const saved = run.events.filter((e) => e.type === 'checkpoint-saved').map((e) => (e as { step: number }).step);
  assert.deepEqual(saved, [10, 20, 30, 40]);
  const files = readdirSync(j.outDir).sort();
  for (const f of ['cfg.json', 'sae_weights.safetensors', 'sparsity.safetensors', 'metrics.json', 'trainer_state.json', 'training_state.safetensors']) {
    assert.ok(files.includes(f), `${f} missing from ${files.join(', ')}`);
  }
  const cfg = JSON.parse(readFileSync(join(j.outDir, 'cfg.json'), 'utf8'));
  assert.equal(cfg.architecture, 'jumprelu');
  assert.equal(cfg.d_sae, 64);
  assert.equal(cfg.metadata.hook_name, j.site);
  // The atomic swap leaves no temporary or old folders next to the checkpoint.
  assert.deepEqual(readdirSync(dir).filter((n) => n.startsWith('.plain')), []);
  const metrics = JSON.parse(readFileSync(join(j.outDir, 'metrics.json'), 'utf8'));
  assert.equal(metrics.summary.steps, 40);
});

test('cancel stops the run early and saves a resumable checkpoint', async () => {
  const j = job('cancelled', { tokens: 128 * 100000, checkpointEvery: 0 });
  const run = startWorker(start(j));
  await run.waitFor((e) => e.type === 'log' && e.message.startsWith('training'));
  run.worker.postMessage({ type: 'cancel' } satisfies HostToTrainer);
  const end = await run.end;
  assert.equal(end.type, 'done', JSON.stringify(end));
  if (end.type !== 'done') return;
  assert.equal(end.summary.cancelled, true);
  assert.ok(end.summary.steps < 100000);
  assert.ok(existsSync(join(j.outDir, 'trainer_state.json')));
});

test('a malformed request is refused with a reason and the worker keeps serving', async () => {
  const worker = newWorker();
  const got = new Promise<TrainerToHost>((r) => worker.once('message', r));
  worker.postMessage({ type: 'start', protocol: TRAINING_PROTOCOL_VERSION, job: { ...job('bad'), dSae: -3 } });
  const first = await got;
  assert.equal(first.type, 'log');
  assert.match((first as { message: string }).message, /dSae must be a positive integer/);
  const second = new Promise<TrainerToHost>((r) => worker.on('message', (m: TrainerToHost) => (m.type === 'error' ? r(m) : undefined)));
  worker.postMessage(start(job('missing', { data: { kind: 'acts', path: join(dir, 'nope.npy') } })));
  const err = await second;
  assert.equal(err.type, 'error');
  assert.match((err as { message: string }).message, /nope\.npy/);
  await worker.terminate();
});

test('a run killed after a checkpoint resumes to bit-identical weights', async () => {
  const straight = job('straight');
  const endA = await startWorker(start(straight)).end;
  assert.equal(endA.type, 'done', JSON.stringify(endA));

  const killed = job('killed');
  const run = startWorker(start(killed));
  await run.waitFor((e) => e.type === 'checkpoint-saved' && e.step >= 10);
  await run.worker.terminate();
  const state = JSON.parse(readFileSync(join(killed.outDir, 'trainer_state.json'), 'utf8'));
  assert.ok(state.step >= 10 && state.step < 40, `checkpoint at step ${state.step}`);

  const resumed = startWorker({ type: 'resume', protocol: TRAINING_PROTOCOL_VERSION, checkpointDir: killed.outDir });
  const endB = await resumed.end;
  assert.equal(endB.type, 'done', JSON.stringify(endB));
  assert.ok(resumed.events.some((e) => e.type === 'log' && /resuming at step/.test(e.message)));
  for (const file of ['sae_weights.safetensors', 'training_state.safetensors']) {
    const a = readFileSync(join(straight.outDir, file));
    const b = readFileSync(join(killed.outDir, file));
    assert.ok(a.equals(b), `${file} differs after resume`);
  }
});
