// feature-lens train writes resumable checkpoints: N steps straight and N/2 + --resume N/2 leave the same bytes.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trainCommand } from '../../../src/cli/commands/train';
import { writeNpyMatrix } from '../../../src/core/npy';
import { SyntheticSource } from '../../../src/core/train/syntheticData';
import { runTrainJob } from '../../../src/worker/training/trainJob';
import type { TrainJob } from '../../../src/protocol/training';
import { captured } from './captureOutput';

const dir = mkdtempSync(join(tmpdir(), 'fl-train-resume-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const acts = join(dir, 'acts.npy');
const m = new SyntheticSource({ dIn: 8, nFeatures: 16, firingProb: 0.15, noiseStd: 0.01, seed: 2 }).nextBatch(3000);
for (let i = 0; i < m.data.length; i++) m.data[i] *= 3;
writeNpyMatrix(acts, m);

const STEPS = 20;
const common = ['--acts', acts, '--d-sae', '24', '--tokens', String(128 * STEPS), '--batch', '128', '--seed', '4', '--checkpoint-every', '3'];

/** The bytes that define the trained run; the stored job differs only in its --out. */
function runBytes(folder: string): Record<string, string> {
  const state = JSON.parse(readFileSync(join(folder, 'trainer_state.json'), 'utf8')) as { scalars: { job?: unknown } };
  delete state.scalars.job;
  const metrics = JSON.parse(readFileSync(join(folder, 'metrics.json'), 'utf8')) as { records: unknown[] };
  const bytes = (f: string) => readFileSync(join(folder, f)).toString('base64');
  return {
    weights: bytes('sae_weights.safetensors'),
    trainingState: bytes('training_state.safetensors'),
    sparsity: bytes('sparsity.safetensors'),
    state: JSON.stringify(state),
    records: JSON.stringify(metrics.records),
  };
}

for (const arch of [['--arch', 'jumprelu', '--target-l0', '3'], ['--arch', 'batchtopk', '--k', '2'], ['--arch', 'gated', '--l0-coeff', '0.01']]) {
  test(`${arch[1]}: ${STEPS} steps straight == ${STEPS / 2} steps + --resume, byte for byte`, async () => {
    const straight = join(dir, `${arch[1]}-straight`);
    const a = await captured(() => trainCommand.run([...common, ...arch, '--out', straight]));
    assert.equal(a.code, 0);
    assert.equal((JSON.parse(a.stdout) as { steps: number }).steps, STEPS);

    const split = join(dir, `${arch[1]}-split`);
    const first = await captured(() => trainCommand.run([...common, ...arch, '--out', split, '--max-steps', String(STEPS / 2)]));
    assert.equal(first.code, 0);
    const half = JSON.parse(first.stdout) as { steps: number; stopped?: boolean };
    assert.deepEqual([half.steps, half.stopped], [STEPS / 2, true]);
    assert.equal((JSON.parse(readFileSync(join(split, 'metrics.json'), 'utf8')) as { summary?: unknown }).summary, undefined, 'a stopped run has no summary yet');
    assert.notDeepEqual(runBytes(split).weights, runBytes(straight).weights);

    const rest = await captured(() => trainCommand.run(['--resume', split]));
    assert.equal(rest.code, 0);
    assert.equal((JSON.parse(rest.stdout) as { steps: number }).steps, STEPS);
    assert.deepEqual(runBytes(split), runBytes(straight));

    // Resuming a finished run changes nothing, not even its summary.
    const metricsBefore = readFileSync(join(split, 'metrics.json'), 'utf8');
    const again = await captured(() => trainCommand.run(['--resume', split]));
    assert.equal(again.code, 0);
    assert.equal((JSON.parse(again.stdout) as { steps: number }).steps, STEPS);
    assert.equal(readFileSync(join(split, 'metrics.json'), 'utf8'), metricsBefore);
    assert.deepEqual(runBytes(split), runBytes(straight));
  });
}

test('a run the extension started (its TrainJob), cancelled after its first checkpoint, is finished by --resume bit for bit', async () => {
  const job = (outDir: string): TrainJob => ({
    site: 'blocks.0.hook_resid_post', arch: 'topk', k: 2, dSae: 24, tokens: 128 * STEPS, batchSize: 128,
    data: { kind: 'acts', path: acts }, outDir, checkpointEvery: 5, seed: 4,
  });
  const quiet = { progress() {}, checkpoint() {}, log() {} };
  const straight = join(dir, 'job-straight');
  const whole = await runTrainJob({ kind: 'start', job: job(straight) }, new AbortController().signal, quiet);
  assert.equal(whole.steps, STEPS);

  const split = join(dir, 'job-split');
  const controller = new AbortController();
  const first = await runTrainJob({ kind: 'start', job: job(split) }, controller.signal, { ...quiet, checkpoint: () => controller.abort() });
  assert.deepEqual([first.steps, first.cancelled], [5, true]);
  const rest = await captured(() => trainCommand.run(['--resume', split]));
  assert.equal(rest.code, 0, rest.stderr);
  assert.equal((JSON.parse(rest.stdout) as { steps: number }).steps, STEPS);
  assert.deepEqual(runBytes(split), runBytes(straight));
  // The folder keeps the extension's job, so Resume Training… still reads it.
  const stored = JSON.parse(readFileSync(join(split, 'trainer_state.json'), 'utf8')) as { scalars: { job: TrainJob } };
  assert.deepEqual(stored.scalars.job, job(split));
  const cfg = JSON.parse(readFileSync(join(split, 'cfg.json'), 'utf8')) as { metadata: { hook_name: string } };
  assert.equal(cfg.metadata.hook_name, 'blocks.0.hook_resid_post');
});

test('--resume refuses other run options, a folder without a run and --max-steps 0', async () => {
  await assert.rejects(trainCommand.run(['--resume', dir, '--arch', 'topk']), /drop --arch/);
  await assert.rejects(trainCommand.run(['--resume', join(dir, 'missing')]), Error);
  await assert.rejects(trainCommand.run(['--max-steps', '0', '--resume', dir]), /--max-steps/);
});
