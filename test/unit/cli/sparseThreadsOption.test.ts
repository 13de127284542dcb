// The sparse kernels' thread count reaches the backend from `feature-lens train --sparse-threads` and
// from the worker's train job options (the featureLens.sparseThreads setting), defaults per architecture
// (auto), and the log line names it. A bad value is a usage error on the command line and a reported
// fallback to auto in the worker (a setting's typo must not stop a run).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { trainCommand } from '../../../src/cli/commands/train';
import { writeNpyMatrix } from '../../../src/core/npy';
import { SyntheticSource } from '../../../src/core/train/syntheticData';
import { runTrainJob } from '../../../src/worker/training/trainJob';
import type { TrainJob } from '../../../src/protocol/training';
import { captured } from './captureOutput';

const dir = mkdtempSync(join(tmpdir(), 'fl-sparse-threads-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const acts = join(dir, 'acts.npy');
writeNpyMatrix(acts, new SyntheticSource({ dIn: 8, nFeatures: 16, firingProb: 0.15, noiseStd: 0.01, seed: 2 }).nextBatch(2048));
const autoSparse = availableParallelism() >= 2 ? '2 threads' : '1 thread';

for (const [flag, arch, want] of [
  ['2', 'topk', '2 threads'],
  ['1', 'jumprelu', '1 thread'],
  [undefined, 'jumprelu', autoSparse],
  [undefined, 'topk', autoSparse],
  [undefined, 'relu', '1 thread'],
] as const) {
  test(`train ${flag === undefined ? '(auto)' : `--sparse-threads ${flag}`} --arch ${arch}: the log line says ${want}`, async () => {
    const out = join(dir, `cli-${arch}-${flag ?? 'auto'}`);
    const archFlags = arch === 'topk' ? ['--k', '2'] : arch === 'jumprelu' ? ['--target-l0', '2'] : [];
    const r = await captured(() =>
      trainCommand.run([
        '--acts', acts, '--arch', arch, ...archFlags, '--d-sae', '32', '--tokens', '512', '--batch', '128', '--out', out,
        '--backend', 'fast', ...(flag !== undefined ? ['--sparse-threads', flag] : []),
      ]),
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`sparse kernels on ${want}\\) backend`));
  });
}

test('train --sparse-threads refuses anything but auto, 1 and 2; it is allowed with --resume', async () => {
  await assert.rejects(
    trainCommand.run(['--acts', acts, '--arch', 'topk', '--k', '2', '--d-sae', '8', '--tokens', '128', '--out', join(dir, 'x'), '--sparse-threads', '4']),
    /--sparse-threads: .*auto, 1, 2/,
  );
  const out = join(dir, 'cli-resume');
  const first = await captured(() =>
    trainCommand.run(['--acts', acts, '--arch', 'topk', '--k', '2', '--d-sae', '32', '--tokens', '1024', '--batch', '128', '--max-steps', '2', '--out', out]),
  );
  assert.equal(first.code, 0, first.stderr);
  const again = await captured(() => trainCommand.run(['--resume', out, '--sparse-threads', '2', '--backend', 'fast']));
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stderr, /sparse kernels on 2 threads\) backend/);
});

test('the worker job takes sparseThreads from its options, and reports an unknown value and uses auto', async () => {
  const job = (name: string): TrainJob => ({
    site: 'blocks.0.hook_resid_post', arch: 'topk', k: 2, dSae: 24, tokens: 128 * 3, batchSize: 128,
    data: { kind: 'acts', path: acts }, outDir: join(dir, name), checkpointEvery: 0, seed: 4,
  });
  for (const [value, want, note] of [
    ['2', 'on 2 threads', undefined],
    ['1', 'on 1 thread', undefined],
    ['many', autoSparse === '2 threads' ? 'on 2 threads' : 'on 1 thread', /unknown sparse thread count "many".*; using auto/],
  ] as const) {
    const logs: string[] = [];
    await runTrainJob({ kind: 'start', job: job(`job-${value}`) }, new AbortController().signal, { progress() {}, checkpoint() {}, log: (m) => logs.push(m) }, {
      backend: 'fast',
      intraOpThreads: 1,
      sparseThreads: value,
    });
    const line = logs.find((l) => l.startsWith('numeric backend: '));
    assert.ok(line?.includes(want), `${value}: ${logs.join(' | ')}`);
    if (note) assert.ok(logs.some((l) => note.test(l)), `${value}: the bad value is reported (${logs.join(' | ')})`);
  }
});
