// A small SAELens-format SAE for the bundled model, made for tests and benchmarks until a trained one is
// bundled. Random unit-norm directions (tied encoder), thresholds set from real activations so each
// feature fires on about `firingRate` of the sample tokens: valid weights, not a trained dictionary.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { writeSaeLensFolder } from '../../../../src/core/checkpoints/saelens';
import { loadModel } from '../../../../src/core/runtime/model';
import type { SaeWeights } from '../../../../src/core/sae/weights';
import { rng } from '../../../fixtures/onnxBuilder';

export const TEST_SITE = 'blocks.2.hook_resid_post';

const SAMPLE = [
  'The quick brown fox jumps over the lazy dog. It was a bright cold day in April, and the clocks were striking thirteen.',
  'function add(a: number, b: number): number { return a + b; } // adds two numbers',
  'In the beginning the Universe was created. This has made a lot of people very angry and been widely regarded as a bad move.',
];

export async function makeTestSae(dir: string, modelDir: string, options: { dSae?: number; firingRate?: number; seed?: number; site?: string } = {}): Promise<string> {
  if (existsSync(join(dir, 'cfg.json'))) return dir;
  const siteName = options.site ?? TEST_SITE;
  const dSae = options.dSae ?? 512;
  const rate = options.firingRate ?? 0.03;
  const rand = rng(options.seed ?? 1);
  const lm = await loadModel(modelDir);
  try {
    const site = lm.sites().find((s) => s.name === siteName);
    if (!site) throw new Error(`the model has no ${siteName}`);
    const dIn = site.dim;
    const ids = SAMPLE.map((t) => lm.tokenizer!.encode(t).ids);
    const acts = (await lm.activations(ids, [siteName])).get(siteName)!;
    const rows = acts.flatMap((m) => Array.from({ length: m.rows }, (_, r) => m.data.subarray(r * m.cols, (r + 1) * m.cols)));
    const mean = new Float32Array(dIn);
    for (const r of rows) for (let d = 0; d < dIn; d++) mean[d] += r[d] / rows.length;

    const wDec = new Float32Array(dSae * dIn);
    for (let j = 0; j < dSae; j++) {
      let n = 0;
      for (let d = 0; d < dIn; d++) {
        const g = Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
        wDec[j * dIn + d] = g;
        n += g * g;
      }
      for (let d = 0; d < dIn; d++) wDec[j * dIn + d] /= Math.sqrt(n);
    }
    const wEnc = new Float32Array(dIn * dSae);
    for (let j = 0; j < dSae; j++) for (let d = 0; d < dIn; d++) wEnc[d * dSae + j] = wDec[j * dIn + d];
    const threshold = new Float32Array(dSae);
    for (let j = 0; j < dSae; j++) {
      const pre = rows.map((r) => {
        let s = 0;
        for (let d = 0; d < dIn; d++) s += (r[d] - mean[d]) * wEnc[d * dSae + j];
        return s;
      });
      pre.sort((a, b) => b - a);
      threshold[j] = Math.max(1e-3, pre[Math.max(0, Math.floor(rate * pre.length) - 1)]);
    }
    const weights: SaeWeights = {
      config: { architecture: 'jumprelu', dIn, dSae, applyBDecToInput: true, hookName: siteName, modelName: 'tiny-lm' },
      tensors: new Map([
        ['W_enc', { shape: [dIn, dSae], data: wEnc }],
        ['W_dec', { shape: [dSae, dIn], data: wDec }],
        ['b_enc', { shape: [dSae], data: new Float32Array(dSae) }],
        ['b_dec', { shape: [dIn], data: mean }],
        ['threshold', { shape: [dSae], data: threshold }],
      ]),
    };
    await writeSaeLensFolder(dir, weights, { metadata: { note: 'test fixture: random directions, data-calibrated thresholds' } });
    return dir;
  } finally {
    await lm.dispose();
  }
}
