// feature-lens train --config runs a *.featurelens-run.json: the same bytes as the equivalent options, and
// a file the schema refuses is refused before anything is written, with the schema's message.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trainCommand } from '../../../src/cli/commands/train';
import { writeNpyMatrix } from '../../../src/core/npy';
import { SyntheticSource } from '../../../src/core/train/syntheticData';
import { captured } from './captureOutput';

const dir = mkdtempSync(join(tmpdir(), 'fl-train-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));
writeNpyMatrix(join(dir, 'acts.npy'), new SyntheticSource({ dIn: 8, nFeatures: 16, firingProb: 0.15, noiseStd: 0.01, seed: 2 }).nextBatch(2000));
const config = { site: 'blocks.0.hook_resid_post', arch: 'topk', k: 2, dSae: 16, tokens: 1280, batchSize: 128, seed: 5, checkpointEvery: 4, outDir: 'from-config', data: { kind: 'acts', path: 'acts.npy' } };

test('a run file trains exactly what the same options train, paths relative to the file', async () => {
  const file = join(dir, 'small.featurelens-run.json');
  writeFileSync(file, JSON.stringify(config));
  const a = await captured(() => trainCommand.run(['--config', file]));
  assert.equal(a.code, 0, a.stderr);
  assert.equal((JSON.parse(a.stdout) as { steps: number }).steps, 10);
  const b = await captured(() =>
    trainCommand.run(['--acts', join(dir, 'acts.npy'), '--site', config.site, '--arch', 'topk', '--k', '2', '--d-sae', '16', '--tokens', '1280', '--batch', '128', '--seed', '5', '--checkpoint-every', '4', '--out', join(dir, 'from-options')]),
  );
  assert.equal(b.code, 0);
  const weights = (d: string) => readFileSync(join(dir, d, 'sae_weights.safetensors')).toString('base64');
  assert.equal(weights('from-config'), weights('from-options'));
  // The stored job is the TrainJob itself, so Resume Training… in the extension can continue it too.
  const state = JSON.parse(readFileSync(join(dir, 'from-config', 'trainer_state.json'), 'utf8')) as { scalars: { job: { outDir: string; arch: string } } };
  assert.deepEqual([state.scalars.job.arch, state.scalars.job.outDir], ['topk', join(dir, 'from-config')]);
});

test('unknown keys and out-of-range values are refused with the schema message, before any folder is made', async () => {
  for (const [bad, message] of [
    [{ ...config, learningRate: 0.1 }, 'Property learningRate is not allowed.'],
    [{ ...config, dSae: 0 }, 'dSae: Value is below the minimum of 1.'],
    [{ ...config, arch: 'lstm' }, 'arch must be one of'],
  ] as const) {
    const file = join(dir, 'bad.featurelens-run.json');
    writeFileSync(file, JSON.stringify({ ...bad, outDir: 'never' }));
    await assert.rejects(() => trainCommand.run(['--config', file]), (err: Error) => err.message.includes(message) && err.message.includes(file));
    assert.equal(existsSync(join(dir, 'never')), false);
  }
  await assert.rejects(() => trainCommand.run(['--config', join(dir, 'small.featurelens-run.json'), '--seed', '1']), /drop --seed/);
});
