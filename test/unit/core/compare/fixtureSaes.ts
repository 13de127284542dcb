// SAEs for the compare tests: random TopK dictionaries and latent-permuted copies of them.
import type { SaeWeights } from '../../../../src/core/sae/weights';
import { rng } from '../../../fixtures/onnxBuilder';

export const D_IN = 16;
export const D_SAE = 48;
export const SITE = 'blocks.0.hook_resid_post';

export function randomSae(seed: number, site = SITE): SaeWeights {
  const rand = rng(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
  const wDec = Float32Array.from({ length: D_SAE * D_IN }, gauss);
  const wEnc = new Float32Array(D_IN * D_SAE);
  for (let j = 0; j < D_SAE; j++) for (let d = 0; d < D_IN; d++) wEnc[d * D_SAE + j] = wDec[j * D_IN + d] * 0.3;
  return {
    config: { architecture: 'topk', k: 4, dIn: D_IN, dSae: D_SAE, applyBDecToInput: false, hookName: site },
    tensors: new Map([
      ['W_enc', { shape: [D_IN, D_SAE], data: wEnc }],
      ['W_dec', { shape: [D_SAE, D_IN], data: wDec }],
      ['b_enc', { shape: [D_SAE], data: Float32Array.from({ length: D_SAE }, () => 0.1 * gauss()) }],
      ['b_dec', { shape: [D_IN], data: new Float32Array(D_IN) }],
    ]),
  };
}

/** The same SAE with latent i moved to perm[i]. */
export function permuted(w: SaeWeights, perm: number[]): SaeWeights {
  const get = (n: string) => w.tensors.get(n)!.data;
  const wEnc = new Float32Array(D_IN * D_SAE);
  const wDec = new Float32Array(D_SAE * D_IN);
  const bEnc = new Float32Array(D_SAE);
  for (let i = 0; i < D_SAE; i++) {
    const p = perm[i];
    for (let d = 0; d < D_IN; d++) wEnc[d * D_SAE + p] = get('W_enc')[d * D_SAE + i];
    wDec.set(get('W_dec').subarray(i * D_IN, (i + 1) * D_IN), p * D_IN);
    bEnc[p] = get('b_enc')[i];
  }
  return { config: w.config, tensors: new Map([...w.tensors, ['W_enc', { shape: [D_IN, D_SAE], data: wEnc }], ['W_dec', { shape: [D_SAE, D_IN], data: wDec }], ['b_enc', { shape: [D_SAE], data: bEnc }]]) };
}

