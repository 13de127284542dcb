// Presets: refusals before training, warnings about budgets a recipe cannot use, and recipe names that say
// what each preset does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { presetConfig, presetWarnings } from '../../../../src/core/train/presets';
import { validateTrainConfig } from '../../../../src/core/train/config';

test('a target L0 below 1 or above d_sae, or a k outside 1..d_sae, is refused', () => {
  for (const targetL0 of [0, 0.5, 2049, Number.NaN]) {
    assert.throws(() => presetConfig({ architecture: 'jumprelu', dSae: 2048, totalTokens: 1e6, targetL0 }), /target L0 must be between 1 and d_sae/);
    assert.throws(() => presetWarnings({ architecture: 'jumprelu', dSae: 2048, totalTokens: 1e6, targetL0 }), /target L0/);
  }
  assert.throws(() => presetConfig({ architecture: 'topk', dSae: 64, totalTokens: 1e6, k: 65 }), /k must be/);
  assert.doesNotThrow(() => presetConfig({ architecture: 'jumprelu', dSae: 2048, totalTokens: 1e6, targetL0: 1 }));
  const c = presetConfig({ architecture: 'jumprelu', dSae: 64, totalTokens: 1e6, targetL0: 8 });
  assert.throws(() => validateTrainConfig({ ...c, jumpRelu: { ...(c.jumpRelu ?? assert.fail()), targetL0: 65 } }), /target L0/);
});

test('Matryoshka level weights and the AuxK selection are checked before training', () => {
  const m = presetConfig({ architecture: 'batchtopk', dSae: 64, totalTokens: 1e6, preset: 'matryoshka', k: 4 });
  const topK = m.topK ?? assert.fail();
  assert.doesNotThrow(() => validateTrainConfig({ ...m, topK: { ...topK, matryoshkaWeights: [1, 1, 2] } }));
  assert.throws(() => validateTrainConfig({ ...m, topK: { ...topK, matryoshkaWeights: [1, 1] } }), /one positive weight per level/);
  assert.throws(() => validateTrainConfig({ ...m, topK: { ...topK, matryoshkaWeights: [1, 0, 1] } }), /one positive weight per level/);
  assert.throws(() => validateTrainConfig({ ...m, topK: { ...topK, auxKSelection: 'relu' as 'signed' } }), /AuxK selection/);
  assert.doesNotThrow(() => validateTrainConfig({ ...m, topK: { ...topK, matryoshkaAuxK: 'perLevel', auxKDeadScale: true } }));
  assert.throws(() => validateTrainConfig({ ...m, topK: { ...topK, matryoshkaAuxK: 'each' as 'perLevel' } }), /Matryoshka AuxK/);
  assert.throws(() => validateTrainConfig({ ...m, topK: { auxCoeff: 0.03, matryoshkaAuxK: 'perLevel' } }), /needs Matryoshka widths/);
  // The JumpReLU and Gated AuxK selections are checked the same way.
  const j = presetConfig({ architecture: 'jumprelu', dSae: 64, totalTokens: 1e6, targetL0: 8 });
  const jr = j.jumpRelu ?? assert.fail();
  assert.doesNotThrow(() => validateTrainConfig({ ...j, jumpRelu: { ...jr, auxK: { coeff: 0.03, selection: 'signed' } } }));
  assert.throws(() => validateTrainConfig({ ...j, jumpRelu: { ...jr, auxK: { coeff: 0.03, selection: 'relu' as 'signed' } } }), /AuxK selection/);
  const g = presetConfig({ architecture: 'gated', dSae: 64, totalTokens: 1e6 });
  assert.throws(() => validateTrainConfig({ ...g, gated: { auxK: { coeff: 0.03, selection: 'any' as 'signed' } } }), /AuxK selection/);
});

test('presets are tied to their architecture', () => {
  assert.throws(() => presetConfig({ architecture: 'topk', dSae: 64, totalTokens: 1e6, preset: 'anthropic' }), /anthropic preset is defined for jumprelu/);
  assert.throws(() => presetConfig({ architecture: 'jumprelu', dSae: 64, totalTokens: 1e6, preset: 'matryoshka' }), /matryoshka preset is defined for batchtopk/);
});

test('the paper preset warns when its 10k-step λ warm-up does not fit, and paper-scaled scales it to the budget', () => {
  const small = { architecture: 'jumprelu' as const, dSae: 2048, totalTokens: 10e6, preset: 'paper' as const };
  const warnings = presetWarnings(small); // 10M / 4096 = 2442 steps
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /does not fit this budget of 2,442 steps/);
  assert.match(warnings[0], /24 %/);
  assert.match(warnings[0], /paper-scaled/);
  const scaled = presetConfig({ ...small, preset: 'paper-scaled' });
  assert.equal(scaled.sparsityWarmupSteps, 244);
  assert.equal(presetConfig(small).sparsityWarmupSteps, 10_000);
  // Everything else is the paper's.
  const { sparsityWarmupSteps: _a, recipe: _b, ...restScaled } = scaled;
  const { sparsityWarmupSteps: _c, recipe: _d, ...restPaper } = presetConfig(small);
  assert.deepEqual(restScaled, restPaper);
  assert.deepEqual(presetWarnings({ ...small, totalTokens: 4096 * 20_000 }), []);
});

test('the default JumpReLU warns when too few steps follow its TopK warm start', () => {
  assert.equal(presetWarnings({ architecture: 'jumprelu', dSae: 256, totalTokens: 400_000, targetL0: 8 }).length, 1);
  assert.deepEqual(presetWarnings({ architecture: 'jumprelu', dSae: 256, totalTokens: 1e6, targetL0: 8 }), []);
});

test('recipe names say what the preset did (the TopK warm start is part of the default JumpReLU name)', () => {
  const d = presetConfig({ architecture: 'jumprelu', dSae: 2048, totalTokens: 2e6, targetL0: 32 });
  assert.match(d.recipe ?? '', /TopK warm start \(k 32, first 1563 steps\)/);
  assert.match(d.recipe ?? '', /AuxK/);
  assert.match(d.recipe ?? '', /frequency penalty/);
  assert.equal(d.jumpRelu?.topKWarmupSteps, 1563);
  // An abrupt switch: the blend is an option, not the default (docs/training.md §4e).
  assert.equal(d.jumpRelu?.switchBlendSteps, undefined);
  assert.doesNotMatch(d.recipe ?? '', /blended/);
  const a = presetConfig({ architecture: 'jumprelu', dSae: 2048, totalTokens: 2e6, preset: 'anthropic' });
  assert.match(a.recipe ?? '', /Anthropic/);
  assert.equal(a.jumpRelu?.sparsity, 'tanh');
  const m = presetConfig({ architecture: 'batchtopk', dSae: 2048, totalTokens: 2e6, preset: 'matryoshka', k: 32 });
  assert.deepEqual(m.topK?.matryoshkaWidths, [512, 1024, 2048]);
  assert.match(m.recipe ?? '', /Matryoshka BatchTopK \(k 32\): prefixes \[512, 1024, 2048\]/);
  // AuxK per group, damped as SAELens, over a fixed 50 k-token window, with the ReLU'd pick (docs/training.md
  // §8c: the signed pick with a short window made revival waves), and the recipe says so.
  assert.equal(m.topK?.auxKSelection, undefined);
  assert.equal(m.topK?.matryoshkaAuxK, 'perLevel');
  assert.equal(m.topK?.auxKDeadScale, true);
  assert.equal(presetConfig({ architecture: 'batchtopk', dSae: 2048, totalTokens: 10e6, preset: 'matryoshka', k: 32 }).deadWindowTokens, 50_000);
  assert.match(m.recipe ?? '', /AuxK per prefix group on its dead latents \(silent for 50,000 tokens\) over their ReLU'd pre-activations, weight damped by min\(n_dead\/k_aux, 1\)/);
  // Other presets keep AuxK undamped over the whole code.
  for (const arch of ['topk', 'batchtopk'] as const) {
    const t = presetConfig({ architecture: arch, dSae: 2048, totalTokens: 10e6, k: 32 });
    assert.equal(t.topK?.auxKDeadScale, undefined);
    assert.equal(t.topK?.matryoshkaAuxK, undefined);
  }
});

test('the default JumpReLU names its frequency cap and dead window, and the cap leaves room for the mean firing rate', () => {
  const d = presetConfig({ architecture: 'jumprelu', dSae: 2048, totalTokens: 10e6, targetL0: 32 });
  assert.equal(d.jumpRelu?.frequencyPenalty?.cap, 0.08);
  assert.match(d.recipe ?? '', /frequency penalty above 8 % \(from the start/);
  // No latent exempt by default: the exemption let nine latents fire almost always (docs/training.md §5f).
  assert.equal(d.jumpRelu?.frequencyPenalty?.exempt, undefined);
  assert.doesNotMatch(d.recipe ?? '', /exempt|most frequent/);
  assert.equal(d.deadWindowTokens, 20_000); // fixed, not a share of the 10 M budget
  assert.match(d.recipe ?? '', /silent for 20,000 tokens/);
  // L0 128 of 2048 latents is a mean firing rate of 6.25 %: the cap goes to twice that.
  const high = presetConfig({ architecture: 'jumprelu', dSae: 2048, totalTokens: 10e6, targetL0: 128 });
  assert.equal(high.jumpRelu?.frequencyPenalty?.cap, 0.125);
  assert.match(high.recipe ?? '', /frequency penalty above 12\.5 %/);
  // TopK keeps its budget-scaled window.
  assert.equal(presetConfig({ architecture: 'topk', dSae: 2048, totalTokens: 10e6, k: 32 }).deadWindowTokens, 1_000_000);
});
