// Feature recovery on synthetic data with a known dictionary (sparse positive combinations of random unit
// directions, two correlated groups, a little noise), and the default JumpReLU's target-L0 control.
// Thresholds come from measurements at this size (150k tokens, seed-fixed): TopK mean max cos 0.943;
// default JumpReLU (80 % TopK warm start, docs/training.md) mean max cos 0.928 at L0 2.75 for a target of
// 2.77 (the earlier 50 % recipe: 0.904; 0.834 without the warm start). They leave room for float/order changes but fail if learning, the L0 control or the
// gradients break.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { presetConfig } from '../../../../src/core/train/presets';
import { SyntheticSource, dictionaryRecovery } from '../../../../src/core/train/syntheticData';
import { train, type TrainResult } from '../../../../src/core/train/driver';
import { saeFromWeights } from '../../../../src/core/sae/create';
import { l0 } from '../../../../src/core/metrics/sparsity';
import { ReconstructionAccumulator } from '../../../../src/core/metrics/reconstruction';
import type { TrainConfig } from '../../../../src/core/train/config';

const spec = { dIn: 16, nFeatures: 48, firingProb: 0.06, groupCount: 2, groupSize: 3, groupProb: 0.08, memberProb: 0.75, noiseStd: 0.02, seed: 1 };
const truth = new SyntheticSource(spec);
const trueL0 = truth.expectedL0;
const tokens = 150_000;

async function fit(config: TrainConfig): Promise<{ meanMaxCos: number; l0: number; fvu: number }> {
  const gen = train(config, new SyntheticSource(spec), undefined, { progressIntervalMs: 1e9 });
  let result: TrainResult;
  for (;;) {
    const it = await gen.next();
    if (it.done) {
      result = it.value;
      break;
    }
  }
  const wDec = result.weights.tensors.get('W_dec');
  assert.ok(wDec);
  const rec = dictionaryRecovery(wDec.data, config.dSae, truth.dictionary, spec.nFeatures, spec.dIn);
  const sae = saeFromWeights(result.weights);
  const held = new SyntheticSource(spec);
  held.setState([5, 6, 7, 8]);
  const x = held.nextBatch(8192);
  const out = sae.forward(x);
  const acc = new ReconstructionAccumulator(spec.dIn);
  acc.add(x, out.reconstruction);
  return { meanMaxCos: rec.meanMaxCos, l0: l0(out.features), fvu: acc.fvu() };
}

test('TopK at the true L0 recovers the true directions; the default JumpReLU reaches its target L0 and recovers them nearly as well', async () => {
  const common = { dSae: 96, totalTokens: tokens, batchSize: 256, seed: 0 };
  const topk = await fit(presetConfig({ architecture: 'topk', k: Math.round(trueL0), ...common }));
  const jump = await fit(presetConfig({ architecture: 'jumprelu', targetL0: trueL0, ...common }));
  console.log(`true L0 ${trueL0.toFixed(2)} | topk ${JSON.stringify(topk)} | jumprelu ${JSON.stringify(jump)}`);
  assert.ok(topk.meanMaxCos > 0.9, `topk mean max cos ${topk.meanMaxCos}`);
  assert.ok(Math.abs(jump.l0 / trueL0 - 1) < 0.25, `jumprelu L0 ${jump.l0} vs target ${trueL0}`);
  assert.ok(jump.meanMaxCos > 0.86, `jumprelu mean max cos ${jump.meanMaxCos}`);
  assert.ok(jump.meanMaxCos > topk.meanMaxCos - 0.08, `jumprelu ${jump.meanMaxCos} vs topk ${topk.meanMaxCos}`);
  assert.ok(jump.fvu < 0.3 && topk.fvu < 0.3, `FVU jumprelu ${jump.fvu}, topk ${topk.fvu}`);
});

test('the target-L0 loss, not only the quantile θ init, drives L0: from θ = 0.001 (L0 ≈ d_sae/2) towards the target', async () => {
  // No TopK warm start here, so only the sparsity loss moves θ. Measured at 150k tokens: L0 4.05 for a
  // target of 2.77 (from ≈ 48 at step 0).
  const base = presetConfig({ architecture: 'jumprelu', targetL0: trueL0, dSae: 96, totalTokens: tokens, batchSize: 256, seed: 0 });
  const jr = base.jumpRelu;
  assert.ok(jr);
  const r = await fit({ ...base, jumpRelu: { ...jr, thresholdInit: { kind: 'constant', value: 0.001 }, topKWarmupSteps: 0, bandwidthDecaySteps: 293 } });
  assert.ok(r.l0 < 1.6 * trueL0, `L0 ${r.l0} vs target ${trueL0}`);
});
