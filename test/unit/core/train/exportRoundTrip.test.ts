// The new recipes export to SAELens folders and come back unchanged: Anthropic JumpReLU (free decoder
// norms, SAELens input scaling folded in) as "jumprelu", Matryoshka BatchTopK as "jumprelu" with one
// threshold and its prefix widths kept; the recipe name travels in cfg.json.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSaeLensFolder, writeSaeLensFolder } from '../../../../src/core/checkpoints/saelens';
import { saeFromWeights } from '../../../../src/core/sae/create';
import { presetConfig, type PresetName } from '../../../../src/core/train/presets';
import { SyntheticSource } from '../../../../src/core/train/syntheticData';
import { train, trainToEnd } from '../../../../src/core/train/driver';
import type { SaeArchitecture } from '../../../../src/core/sae/weights';

const spec = { dIn: 8, nFeatures: 24, firingProb: 0.08, noiseStd: 0.02, seed: 3 };

const cases: Array<[SaeArchitecture, PresetName, string]> = [
  ['jumprelu', 'anthropic', 'Anthropic'],
  ['batchtopk', 'matryoshka', 'Matryoshka'],
  ['jumprelu', 'default', 'TopK warm start'],
];

for (const [architecture, preset, name] of cases) {
  test(`${preset} ${architecture}: SAELens export → import gives the same features and reconstruction`, async () => {
    const config = { ...presetConfig({ architecture, preset, dSae: 32, totalTokens: 64 * 30, batchSize: 64, k: architecture === 'batchtopk' ? 3 : undefined, targetL0: preset === 'default' ? 3 : undefined, l0Coeff: preset === 'anthropic' ? 0.5 : undefined }), initRows: 256 };
    const { weights } = await trainToEnd(train(config, new SyntheticSource(spec), undefined, { progressIntervalMs: 1e9 }));
    const dir = join(mkdtempSync(join(tmpdir(), 'fl-recipe-')), 'sae');
    await writeSaeLensFolder(dir, weights);
    const cfg = JSON.parse(readFileSync(join(dir, 'cfg.json'), 'utf8')) as { architecture: string; feature_lens: { extra: Record<string, unknown> } };
    assert.equal(cfg.architecture, 'jumprelu');
    assert.match(String(cfg.feature_lens.extra.training_recipe), new RegExp(name));
    if (preset === 'matryoshka') {
      assert.equal(cfg.feature_lens.extra.trained_as, 'matryoshka_batchtopk');
      assert.deepEqual(cfg.feature_lens.extra.matryoshka_widths, [8, 16, 32]); // d_sae/4, d_sae/2, d_sae
    }
    const back = readSaeLensFolder(dir).weights;
    const x = new SyntheticSource({ ...spec, seed: 9 }).nextBatch(256);
    const a = saeFromWeights(weights).forward(x);
    const b = saeFromWeights(back).forward(x);
    assert.deepEqual(Array.from(b.features.colIdx), Array.from(a.features.colIdx));
    assert.ok(a.features.colIdx.length > 0, 'something fires');
    for (let i = 0; i < a.reconstruction.data.length; i++) {
      assert.ok(Math.abs(a.reconstruction.data[i] - b.reconstruction.data[i]) <= 1e-4 * (1 + Math.abs(a.reconstruction.data[i])), `x̂[${i}]`);
    }
    if (preset === 'anthropic') {
      // Decoder rows are free (not unit norm) in this recipe and survive the round trip as they are.
      const wDec = back.tensors.get('W_dec')?.data ?? assert.fail();
      const norms = Array.from({ length: 32 }, (_, r) => Math.hypot(...wDec.subarray(r * 8, r * 8 + 8)));
      assert.ok(norms.some((n) => Math.abs(n - 1) > 0.05), 'free decoder norms');
    }
  });
}
