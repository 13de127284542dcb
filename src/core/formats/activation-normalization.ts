// Run-time per-token input normalisation some SAELens SAEs use (SaeConfig.normalizeActivations).
// Apply `normalizeInput` before encoding and `restoreOutput` after decoding, per token.
// A token with zero norm (constant_norm_rescale) or zero spread (layer_norm) has no defined scale:
// SAELens would produce NaN or divide by its epsilon. Here such a token normalises to zeros, its
// output is restored with scale 0 (plus the mean for layer_norm), and it is flagged `degenerate` so the
// caller can warn. Nothing becomes NaN.

import type { SaeConfig } from '../sae/weights';

export interface NormalizedToken {
  readonly x: Float32Array;
  /** Maps a reconstruction in normalised space back to the caller's space (in place). */
  restoreOutput(y: Float32Array): Float32Array;
  /** The token had no scale to normalise by (all zeros, or constant under layer_norm). */
  readonly degenerate?: true;
}

export function normalizeInput(config: Pick<SaeConfig, 'normalizeActivations'>, x: Float32Array): NormalizedToken {
  const d = x.length;
  switch (config.normalizeActivations) {
    case 'constant_norm_rescale': {
      let sq = 0;
      for (let j = 0; j < d; j++) sq += x[j] * x[j];
      if (!(sq > 0)) return { x: new Float32Array(d), restoreOutput: (y) => y.fill(0), degenerate: true };
      const coeff = Math.sqrt(d) / Math.sqrt(sq);
      return { x: x.map((v) => v * coeff), restoreOutput: (y) => inPlace(y, (v) => v / coeff) };
    }
    case 'layer_norm': {
      let mu = 0;
      for (let j = 0; j < d; j++) mu += x[j];
      mu /= d;
      let ss = 0;
      for (let j = 0; j < d; j++) ss += (x[j] - mu) ** 2;
      const std = d > 1 ? Math.sqrt(ss / (d - 1)) : 0; // torch.std is unbiased
      if (!(std > 0)) return { x: new Float32Array(d), restoreOutput: (y) => y.fill(mu), degenerate: true };
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
