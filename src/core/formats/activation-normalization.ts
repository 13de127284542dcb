// Run-time per-token input normalisation some SAELens SAEs use (SaeConfig.normalizeActivations).
// Apply `normalizeInput` before encoding and `restoreOutput` after decoding, per token.

import type { SaeConfig } from '../sae/weights';

export interface NormalizedToken {
  readonly x: Float32Array;
  /** Maps a reconstruction in normalised space back to the caller's space (in place). */
  restoreOutput(y: Float32Array): Float32Array;
}

export function normalizeInput(config: SaeConfig, x: Float32Array): NormalizedToken {
  const d = x.length;
  switch (config.normalizeActivations) {
    case 'constant_norm_rescale': {
      let sq = 0;
      for (let j = 0; j < d; j++) sq += x[j] * x[j];
      const coeff = Math.sqrt(d) / Math.sqrt(sq);
      return { x: x.map((v) => v * coeff), restoreOutput: (y) => inPlace(y, (v) => v / coeff) };
    }
    case 'layer_norm': {
      let mu = 0;
      for (let j = 0; j < d; j++) mu += x[j];
      mu /= d;
      let ss = 0;
      for (let j = 0; j < d; j++) ss += (x[j] - mu) ** 2;
      const std = Math.sqrt(ss / (d - 1)); // torch.std is unbiased
      return { x: x.map((v) => (v - mu) / (std + 1e-5)), restoreOutput: (y) => inPlace(y, (v) => v * std + mu) };
    }
    default:
      return { x, restoreOutput: (y) => y };
  }
}

function inPlace(y: Float32Array, f: (v: number) => number): Float32Array {
  for (let j = 0; j < y.length; j++) y[j] = f(y[j]);
  return y;
}
