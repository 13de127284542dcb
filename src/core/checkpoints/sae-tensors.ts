// Shape checks shared by every reader: the tensors each internal architecture needs, with their shapes.

import type { SaeArchitecture } from '../sae/weights';
import { formatError } from './limits';

export type NamedTensor = { readonly shape: readonly number[]; readonly data: Float32Array };

/** `dOut`: a transcoder's output width (W_dec [d_sae, d_out], b_dec [d_out]); an SAE's is d_in. */
export function requiredTensors(arch: SaeArchitecture, dIn: number, dSae: number, dOut = dIn): Record<string, readonly number[]> {
  const common = { W_enc: [dIn, dSae], W_dec: [dSae, dOut], b_dec: [dOut] };
  switch (arch) {
    case 'gated':
      return { ...common, b_gate: [dSae], b_mag: [dSae], r_mag: [dSae] };
    case 'jumprelu':
      return { ...common, b_enc: [dSae], threshold: [dSae] };
    default:
      return { ...common, b_enc: [dSae] };
  }
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** Throws unless every tensor the architecture needs is present with the right shape. */
export function checkSaeTensors(
  where: string,
  arch: SaeArchitecture,
  dIn: number,
  dSae: number,
  tensors: ReadonlyMap<string, NamedTensor>,
  dOut = dIn,
): void {
  for (const [name, shape] of Object.entries(requiredTensors(arch, dIn, dSae, dOut))) {
    const t = tensors.get(name);
    if (!t) throw formatError(where, `missing tensor "${name}" (a ${arch} SAE needs ${JSON.stringify(shape)})`);
    if (!sameShape(t.shape, shape)) {
      throw formatError(where, `tensor "${name}" has shape ${JSON.stringify(t.shape)}, expected ${JSON.stringify(shape)}`);
    }
    if (t.data.length !== shape.reduce((a, b) => a * b, 1)) throw formatError(where, `tensor "${name}" has the wrong length`);
  }
  const skip = tensors.get('W_skip');
  if (skip && !sameShape(skip.shape, [dOut, dIn])) {
    throw formatError(where, `tensor "W_skip" has shape ${JSON.stringify(skip.shape)}, expected [${dOut}, ${dIn}]`);
  }
}

/** [rows, cols] row-major → [cols, rows] row-major. */
export function transpose(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    for (let c = 0; c < cols; c++) out[c * rows + r] = data[base + c];
  }
  return out;
}

/** θ' = max(θ, 0): for libraries computing ReLU(pre)·[pre > θ], this equals pre·[pre > θ'] exactly. */
export function clampThreshold(theta: Float32Array): Float32Array {
  const out = new Float32Array(theta.length);
  for (let i = 0; i < theta.length; i++) out[i] = theta[i] > 0 || Number.isNaN(theta[i]) ? theta[i] : 0;
  return out;
}

/** Names of tensors holding NaN or ±Inf (reported as a warning: such an SAE loads but misbehaves). */
export function nonFiniteTensors(tensors: ReadonlyMap<string, NamedTensor>): string[] {
  const bad: string[] = [];
  for (const [name, t] of tensors) {
    for (let i = 0; i < t.data.length; i++) {
      if (!Number.isFinite(t.data[i])) {
        bad.push(name);
        break;
      }
    }
  }
  return bad;
}
