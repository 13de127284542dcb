// Folding the trainer's fixed input scale C into stored weights for writers (paper / Gemma Scope recipe): with
// x̃ = x/C, scaling every bias and θ by C gives the same reconstruction on raw x and features C× larger,
// while the unit-norm decoder rows stay unit-norm. Exact when C is a power of two. Unlike
// src/core/sae/fold.ts's foldInputScale (which also removes the b_dec subtraction, Gemma Scope style) this
// keeps apply_b_dec_to_input as it is.

import type { SaeWeights } from '../sae/weights';

const SCALED_BY_C = ['b_enc', 'b_dec', 'threshold', 'b_gate', 'b_mag'];

export function foldInputScaleIntoBiases(weights: SaeWeights): SaeWeights {
  const c = weights.config.inputScale;
  if (c === undefined || c === 1) return withoutInputScale(weights);
  if (!Number.isFinite(c) || c <= 0) throw new Error(`input scale must be a positive finite number, got ${c}`);
  const tensors = new Map<string, { shape: readonly number[]; data: Float32Array }>();
  for (const [name, t] of weights.tensors) {
    if (!SCALED_BY_C.includes(name)) {
      tensors.set(name, t);
      continue;
    }
    const data = new Float32Array(t.data.length);
    for (let i = 0; i < data.length; i++) data[i] = t.data[i] * c;
    tensors.set(name, { shape: t.shape, data });
  }
  return { config: { ...weights.config, inputScale: undefined }, tensors };
}

function withoutInputScale(weights: SaeWeights): SaeWeights {
  if (weights.config.inputScale === undefined) return weights;
  return { config: { ...weights.config, inputScale: undefined }, tensors: weights.tensors };
}
