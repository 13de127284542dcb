// feature-lens compare: the table and the matching counts on SAEs whose answer is known.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compareCommand } from '../../../src/cli/commands/compare';
import { writeSaeLensFolder } from '../../../src/core/checkpoints/saelens';
import { writeNpyMatrix } from '../../../src/core/npy';
import { SyntheticSource } from '../../../src/core/train/syntheticData';
import type { CheckpointComparison } from '../../../src/protocol/compare';
import { D_IN, D_SAE, permuted, randomSae } from '../core/compare/fixtureSaes';
import { captured } from './captureOutput';

const dir = mkdtempSync(join(tmpdir(), 'fl-cli-compare-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('compare --acts prints the table and the matching; --json carries the same numbers', async () => {
  const acts = join(dir, 'acts.npy');
  writeNpyMatrix(acts, new SyntheticSource({ dIn: D_IN, nFeatures: 32, firingProb: 0.1, noiseStd: 0.01, seed: 4 }).nextBatch(300));
  const base = randomSae(1);
  await writeSaeLensFolder(join(dir, 'a'), base);
  await writeSaeLensFolder(join(dir, 'b'), permuted(base, Array.from({ length: D_SAE }, (_, i) => (i * 5 + 1) % D_SAE)));
  const text = await captured(() => compareCommand.run([join(dir, 'a'), join(dir, 'b'), '--acts', acts, '--tokens', '200']));
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, new RegExp(`cos ≥ 0.99: ${D_SAE}`));
  assert.match(text.stdout, /unmatched \(below 0.5\): 0 of a, 0 of b/);
  const json = await captured(() => compareCommand.run([join(dir, 'a'), join(dir, 'b'), '--acts', acts, '--tokens', '200', '--json']));
  const c = JSON.parse(json.stdout) as CheckpointComparison;
  assert.deepEqual(c.checkpoints.map((x) => [x.metrics.tokens, x.metrics.l0, x.cached]), [[200, 4, true], [200, 4, true]]);
  await assert.rejects(() => compareCommand.run([join(dir, 'a'), '--acts', acts]), /two or more/);
});
