// The extension's side of a training run (TrainingRun: no vscode import) against the real worker: a
// worker killed mid-run is reported as a crash that names the last checkpoint, which stays loadable.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, test } from 'node:test';
import { readSaeLensFolder } from '../../../src/core/checkpoints/saelens';
import { encodeNpyHeader } from '../../../src/core/npy';
import { Rng } from '../../../src/core/util/rng';
import { TrainingRun } from '../../../src/extension/training/trainingClient';
import type { TrainJob } from '../../../src/protocol/training';

const dir = mkdtempSync(join(tmpdir(), 'fl-trainclient-'));
after(() => rmSync(dir, { recursive: true, force: true }));

// TrainingRun takes a worker file; this one loads the TypeScript entry through tsx.
const entry = join(dir, 'worker.cjs');
writeFileSync(entry, `require(${JSON.stringify(require.resolve('tsx/cjs'))});\nrequire(${JSON.stringify(resolve(__dirname, '../../../src/worker/trainWorker.ts'))});\n`);

const acts = join(dir, 'acts.npy');
const rng = new Rng(1);
writeFileSync(acts, Buffer.concat([encodeNpyHeader([2048, 8]), Buffer.from(Float32Array.from({ length: 2048 * 8 }, () => rng.normal()).buffer)]));

const job: TrainJob = {
  site: 'blocks.0.hook_resid_post',
  arch: 'topk',
  k: 2,
  dSae: 16,
  tokens: 64 * 1_000_000,
  batchSize: 64,
  data: { kind: 'acts', path: acts },
  outDir: join(dir, 'out'),
  checkpointEvery: 5,
  seed: 0,
};

test('a killed worker is reported as a crash naming the last checkpoint, which survives', async () => {
  const logs: string[] = [];
  let resolveCheckpoint!: (step: number) => void;
  const firstCheckpoint = new Promise<number>((r) => (resolveCheckpoint = r));
  const run = new TrainingRun(entry, { kind: 'start', job }, {
    progress: () => {},
    checkpoint: (_dir, step) => resolveCheckpoint(step),
    log: (m) => logs.push(m),
  });
  const early = await Promise.race([firstCheckpoint, run.outcome]);
  assert.equal(typeof early, 'number', `the run ended before its first checkpoint: ${JSON.stringify(early)}`);
  await run.kill();
  const outcome = await run.outcome;
  assert.equal(outcome.kind, 'crashed');
  assert.match(outcome.kind === 'crashed' ? outcome.message : '', /stopped unexpectedly.*last checkpoint \(step \d+\).*Resume Training/s);
  const saved = JSON.parse(readFileSync(join(job.outDir, 'trainer_state.json'), 'utf8'));
  assert.ok(saved.step >= 5);
  assert.equal(readSaeLensFolder(job.outDir).weights.config.dSae, 16);
  // The worker left by itself at a step boundary (terminating it inside an onnxruntime call aborts the host).
  assert.ok(logs.some((m) => /^stopped at once after (step|the checkpoint of step) \d+, without a final save$/.test(m)), logs.join('\n'));
});

test('cancel through TrainingRun ends with a cancelled summary', async () => {
  let started!: () => void;
  const training = new Promise<void>((r) => (started = r));
  const run = new TrainingRun(entry, { kind: 'start', job: { ...job, outDir: join(dir, 'out2') } }, {
    progress: () => {},
    checkpoint: () => started(),
    log: () => {},
  });
  await Promise.race([training, run.outcome]);
  run.cancel();
  const outcome = await run.outcome;
  assert.equal(outcome.kind, 'done');
  assert.equal(outcome.kind === 'done' && outcome.summary.cancelled, true);
});
