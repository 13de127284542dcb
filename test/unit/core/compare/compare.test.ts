// Compare Checkpoints on SAEs built here, where the answer is known: a copy with its latents permuted is
// the same dictionary (every feature matched at cosine 1, identical metrics); an independent random one
// is not; SAEs of different sites are refused naming both; metrics are cached beside each checkpoint.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeSaeLensFolder } from '../../../../src/core/checkpoints/saelens';
import { compareCheckpoints } from '../../../../src/core/compare/compareCheckpoints';
import { activationsEvalSet } from '../../../../src/core/compare/evalSets';
import { matchFeatures } from '../../../../src/core/compare/matchFeatures';
import { EVALUATIONS_FILE } from '../../../../src/core/compare/metricsCache';
import { writeNpyMatrix } from '../../../../src/core/npy';
import type { SaeWeights } from '../../../../src/core/sae/weights';
import { D_IN, D_SAE, permuted, randomSae, SITE } from './fixtureSaes';
import { SyntheticSource } from '../../../../src/core/train/syntheticData';

const dir = mkdtempSync(join(tmpdir(), 'fl-compare-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const perm = Array.from({ length: D_SAE }, (_, i) => (i * 7 + 3) % D_SAE); // 7 is coprime with 48
const base = randomSae(1);
const acts = join(dir, 'acts.npy');
writeNpyMatrix(acts, new SyntheticSource({ dIn: D_IN, nFeatures: 32, firingProb: 0.1, noiseStd: 0.01, seed: 9 }).nextBatch(600));

test('a permuted copy matches every feature at cosine 1, to its permuted index; an independent SAE does not', () => {
  const dec = (w: SaeWeights) => ({ wDec: w.tensors.get('W_dec')!.data, dSae: D_SAE, d: D_IN });
  const same = matchFeatures(dec(base), dec(permuted(base, perm)), { a: 'a', b: 'b' });
  assert.equal(same.pairs.length, D_SAE);
  for (const p of same.pairs) {
    assert.equal(p.b, perm[p.a]);
    assert.ok(p.cos > 0.9999, String(p.cos));
  }
  assert.deepEqual(same.matchedAbove.map((m) => m.count), [D_SAE, D_SAE, D_SAE, D_SAE]);
  assert.deepEqual([same.unmatchedA, same.unmatchedB], [[], []]);
  assert.equal(same.bestCosHistogram.counts.at(-1), D_SAE);

  const other = matchFeatures(dec(base), dec(randomSae(2)), { a: 'a', b: 'b' });
  const above = Object.fromEntries(other.matchedAbove.map((m) => [m.threshold, m.count]));
  // 48 random directions in 16 dimensions: best cosines are around 0.5–0.8, never ≈ 1.
  assert.equal(above[0.99], 0);
  assert.ok(above[0.9] < D_SAE / 4, JSON.stringify(above));
  assert.ok(other.unmatchedA.length > 0);
  assert.equal(other.bestCosHistogram.counts.reduce((s, c) => s + c, 0), D_SAE);
});

test('compare: metrics table through the one loader, permuted copy identical, cache reused, matching counted', async () => {
  const a = join(dir, 'run-a', 'sae');
  const b = join(dir, 'run-b', 'sae');
  const c = join(dir, 'random');
  await writeSaeLensFolder(a, base);
  await writeSaeLensFolder(b, permuted(base, perm));
  await writeSaeLensFolder(c, randomSae(2));
  const set = activationsEvalSet(acts, 500);
  const first = await compareCheckpoints([a, b, c], set);
  assert.equal(first.site, SITE);
  assert.deepEqual(first.checkpoints.map((x) => x.label), ['run-a/sae', 'run-b/sae', 'random']);
  assert.deepEqual(first.checkpoints.map((x) => x.cached), [false, false, false]);
  const [ma, mb, mc] = first.checkpoints.map((x) => x.metrics);
  assert.equal(ma.tokens, 500);
  assert.equal(ma.l0, 4);
  assert.ok(Math.abs(ma.fvu - mb.fvu) < 1e-6, `${ma.fvu} vs ${mb.fvu}`);
  assert.equal(ma.deadFeatures, mb.deadFeatures);
  assert.notEqual(ma.fvu, mc.fvu);
  assert.equal(first.matching?.matchedAbove.find((m) => m.threshold === 0.99)?.count, D_SAE);
  assert.ok(existsSync(join(a, EVALUATIONS_FILE)));

  const again = await compareCheckpoints([a, b, c], set);
  assert.deepEqual(again.checkpoints.map((x) => x.cached), [true, true, true]);
  assert.deepEqual(again.checkpoints.map((x) => x.metrics), first.checkpoints.map((x) => x.metrics));
  // Another evaluation set is another cache key.
  const other = await compareCheckpoints([a, b], activationsEvalSet(acts, 300));
  assert.deepEqual(other.checkpoints.map((x) => [x.cached, x.metrics.tokens]), [[false, 300], [false, 300]]);
  // New weights in the same folder are not served stale metrics.
  await writeSaeLensFolder(b, randomSae(5), { keep: ['feature_labels.json', EVALUATIONS_FILE] });
  const rewritten = await compareCheckpoints([a, b], set);
  assert.deepEqual(rewritten.checkpoints.map((x) => x.cached), [true, false]);
});

test('SAEs of different sites or input widths are refused, naming both', async () => {
  const a = join(dir, 'site-a');
  const b = join(dir, 'site-b');
  await writeSaeLensFolder(a, base);
  await writeSaeLensFolder(b, randomSae(3, 'blocks.1.hook_resid_post'));
  await assert.rejects(() => compareCheckpoints([a, b], activationsEvalSet(acts, 100)), (err: Error) => err.message.includes(a) && err.message.includes(b) && err.message.includes('blocks.1.hook_resid_post'));
  await assert.rejects(() => compareCheckpoints([a], activationsEvalSet(acts, 100)), /two or more/);
});
