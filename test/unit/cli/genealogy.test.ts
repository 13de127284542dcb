// feature-lens genealogy on a real (tiny) training run: training keeps each checkpoint in <run>.checkpoints/,
// thinned to a cap; the genealogy accounts for every feature of every transition, and a timeline follows one.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { genealogyCommand } from '../../../src/cli/commands/genealogy';
import { trainCommand } from '../../../src/cli/commands/train';
import { isHistoryCheckpoint, keepCheckpoint, listRunCheckpoints, runOfCheckpoint } from '../../../src/core/compare/runHistory';
import { writeNpyMatrix } from '../../../src/core/npy';
import { SyntheticSource } from '../../../src/core/train/syntheticData';
import type { FeatureTimeline, Genealogy } from '../../../src/protocol/compare';
import { captured } from './captureOutput';

const dir = mkdtempSync(join(tmpdir(), 'fl-genealogy-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const acts = join(dir, 'acts.npy');
writeNpyMatrix(acts, new SyntheticSource({ dIn: 8, nFeatures: 16, firingProb: 0.15, noiseStd: 0.01, seed: 2 }).nextBatch(3000));
const run = join(dir, 'run');

test('training keeps its checkpoints beside the run; genealogy --run accounts for every feature', async () => {
  const trained = await captured(() => trainCommand.run(['--acts', acts, '--arch', 'topk', '--k', '3', '--d-sae', '24', '--tokens', String(128 * 20), '--batch', '128', '--seed', '1', '--checkpoint-every', '5', '--out', run]));
  assert.equal(trained.code, 0, trained.stderr);
  assert.deepEqual(readdirSync(join(dir, 'run.checkpoints')).sort(), ['step-0000005', 'step-0000010', 'step-0000015', 'step-0000020']);
  assert.deepEqual(listRunCheckpoints(run).map((c) => c.step), [5, 10, 15, 20]);
  // Compare joins a run's checkpoints by these: the run folder and the step.
  const kept = join(dir, 'run.checkpoints', 'step-0000010');
  assert.ok(isHistoryCheckpoint(kept) && !isHistoryCheckpoint(run));
  assert.deepEqual(runOfCheckpoint(kept), { run, step: 10 });
  assert.deepEqual(runOfCheckpoint(run), { run, step: 20 });
  assert.deepEqual(runOfCheckpoint(dir), {});
  assert.deepEqual(listRunCheckpoints(kept).map((c) => c.step), [5, 10, 15, 20], 'a kept checkpoint leads to its whole run');

  const out = await captured(() => genealogyCommand.run(['--run', run, '--json']));
  assert.equal(out.code, 0, out.stderr);
  const g = JSON.parse(out.stdout) as Genealogy;
  assert.deepEqual(g.checkpoints.map((c) => c.step), [5, 10, 15, 20]);
  assert.equal(g.transitions.length, 3);
  for (const t of g.transitions) {
    // Every earlier feature continues, dies, splits or merges exactly once; every later one likewise.
    const earlier = [...t.continued.map((c) => c[0]), ...t.events.flatMap((e) => (e.kind === 'death' ? [e.feature] : e.kind === 'split' ? [e.parent] : e.kind === 'merge' ? e.parents : []))];
    const later = [...t.continued.map((c) => c[1]), ...t.events.flatMap((e) => (e.kind === 'birth' ? [e.feature] : e.kind === 'split' ? e.children : e.kind === 'merge' ? [e.child] : []))];
    assert.deepEqual([...earlier].sort((a, b) => a - b), Array.from({ length: 24 }, (_, i) => i));
    assert.deepEqual([...later].sort((a, b) => a - b), Array.from({ length: 24 }, (_, i) => i));
  }
  // Late in training most features have settled.
  assert.ok(g.transitions[2].continued.length >= 12, JSON.stringify(g.transitions[2].continued.length));

  const text = await captured(() => genealogyCommand.run(['--run', run]));
  assert.match(text.stdout, /^4 checkpoints; same feature at cos ≥ 0\.8/);
  assert.match(text.stdout, /step 15 → step 20: \d+ continued, \d+ born, \d+ died, \d+ split, \d+ merged/);

  const line = await captured(() => genealogyCommand.run(['--run', run, '--feature', '3', '--json']));
  const timeline = JSON.parse(line.stdout) as FeatureTimeline;
  assert.equal(timeline.ids[3], 3);
  assert.equal(timeline.ids.length, 4);

  await assert.rejects(genealogyCommand.run(['--run', run, '--same', '0.3']), /--related ≤ --same/);
});

test('the kept history is thinned to the cap, keeping the first and the last and spreading the rest', async () => {
  for (const step of [25, 30, 35, 40, 45, 50]) await keepCheckpoint(run, step, 5);
  const steps = listRunCheckpoints(run).map((c) => c.step);
  assert.equal(steps.length, 5);
  assert.equal(steps[0], 5);
  assert.equal(steps[4], 50);
  assert.ok(existsSync(join(dir, 'run.checkpoints', 'step-0000050', 'sae_weights.safetensors')));
});
