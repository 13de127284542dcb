// Test helpers for steering and attribution on the models built in tests: an analysis port over a runtime
// model whose "text" is token ids written as numbers ("4 8 15"), and a small JumpReLU SAE with random unit
// decoder rows (tied encoder), so every decoder direction is known to the test.
import type { AnalysisModel, AnalysisSae } from '../../../../src/core/analysis/ports';
import { InferenceSae } from '../../../../src/core/inference/inferenceSae';
import type { OnnxLanguageModel } from '../../../../src/core/runtime';
import type { SaeWeights } from '../../../../src/core/sae/weights';
import { rng } from '../../../fixtures/onnxBuilder';

export function idsModel(lm: OnnxLanguageModel): AnalysisModel {
  const last = (m: { data: Float32Array; rows: number; cols: number }) => m.data.slice((m.rows - 1) * m.cols);
  return {
    name: 'fixture',
    sites: lm.sites(),
    contextLength: lm.info.contextLength,
    tokenize(text) {
      const ids = Int32Array.from(text.split(/\s+/).filter(Boolean).map(Number));
      return { ids, offsets: new Int32Array(2 * ids.length) };
    },
    tokenText: (id) => `<${id}>`,
    decode: (ids) => Array.from(ids).join(' '),
    activations: async (ids, site) => (await lm.activations([ids], [site])).get(site)![0],
    async lastLogits(ids, _signal, splice) {
      if (!splice) return last((await lm.logits([ids]))[0]);
      return last((await lm.spliced([ids], splice.site, (a) => splice.edit(a))).logits[0]);
    },
    cutAtSite: (ids, site) => lm.cutAtSite(ids, site),
    unembedding: () => undefined,
  };
}

/** `writes`: a transcoder (d_out = d_in) predicting that site from the one it reads. */
export function fixtureSae(dIn: number, dSae: number, threshold: number, seed = 3, writes?: string): AnalysisSae {
  const rand = rng(seed);
  const wDec = new Float32Array(dSae * dIn);
  for (let j = 0; j < dSae; j++) {
    let n = 0;
    for (let d = 0; d < dIn; d++) {
      const v = rand() - 0.5;
      wDec[j * dIn + d] = v;
      n += v * v;
    }
    for (let d = 0; d < dIn; d++) wDec[j * dIn + d] /= Math.sqrt(n);
  }
  const wEnc = new Float32Array(dIn * dSae);
  for (let j = 0; j < dSae; j++) for (let d = 0; d < dIn; d++) wEnc[d * dSae + j] = wDec[j * dIn + d];
  const weights: SaeWeights = {
    config: { architecture: 'jumprelu', dIn, dSae, applyBDecToInput: false, ...(writes ? { dOut: dIn, hookNameOut: writes } : {}) },
    tensors: new Map([
      ['W_enc', { shape: [dIn, dSae], data: wEnc }],
      ['W_dec', { shape: [dSae, dIn], data: wDec }],
      ['b_enc', { shape: [dSae], data: new Float32Array(dSae) }],
      ['b_dec', { shape: [dIn], data: new Float32Array(dIn) }],
      ['threshold', { shape: [dSae], data: new Float32Array(dSae).fill(threshold) }],
    ]),
  };
  const inference = new InferenceSae(weights);
  return {
    name: 'fixture-sae',
    inference,
    weights: inference.weights,
    encode: async (x) => inference.encode(x),
    labels: new Map([[0, 'feature zero']]),
    ...(writes ? { outputSite: writes } : {}),
  };
}
