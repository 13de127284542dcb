// Shared initialisation: unit-norm random decoder rows, encoder = decoder transpose (untied afterwards).
import type { Rng } from '../util/rng';

export function initTiedDictionary(rng: Rng, dIn: number, dSae: number): { wEnc: Float32Array; wDec: Float32Array } {
  const wDec = new Float32Array(dSae * dIn);
  // Kaiming-uniform, then scaled to unit norm: the bound cancels, only the direction is kept.
  for (let i = 0; i < wDec.length; i++) wDec[i] = 2 * rng.next() - 1;
  for (let r = 0; r < dSae; r++) {
    let s = 0;
    for (let j = 0; j < dIn; j++) s += wDec[r * dIn + j] ** 2;
    const inv = 1 / Math.sqrt(s);
    for (let j = 0; j < dIn; j++) wDec[r * dIn + j] *= inv;
  }
  const wEnc = new Float32Array(dIn * dSae);
  for (let r = 0; r < dSae; r++) for (let j = 0; j < dIn; j++) wEnc[j * dSae + r] = wDec[r * dIn + j];
  return { wEnc, wDec };
}
