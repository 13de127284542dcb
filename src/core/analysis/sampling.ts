// Choosing the next token from logits: greedy (temperature 0) or sampled with a temperature and nucleus
// (top-p) cut, from a seeded generator so a run can be repeated exactly.
import type { SamplingOptions } from '../../protocol/steering';
import type { Rng } from '../util/rng';
import { AnalysisError } from './ports';

export type { SamplingOptions };

export const GREEDY: SamplingOptions = { temperature: 0, topP: 1, seed: 0 };

export function validateSampling(s: SamplingOptions): void {
  if (!Number.isFinite(s.temperature) || s.temperature < 0 || s.temperature > 10) {
    throw new AnalysisError(`temperature must be in 0..10 (0 = greedy), got ${s.temperature}`, 'badSampling');
  }
  if (!Number.isFinite(s.topP) || s.topP <= 0 || s.topP > 1) throw new AnalysisError(`top-p must be in (0, 1], got ${s.topP}`, 'badSampling');
  if (!Number.isInteger(s.seed)) throw new AnalysisError(`the seed must be an integer, got ${s.seed}`, 'badSampling');
}

/** The next token. Draws exactly one number from `rng` when sampling (none when greedy), so two runs with
 * the same seed stay in step even when they pick different tokens. */
export function chooseToken(logits: Float32Array, s: SamplingOptions, rng: Rng): number {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
  if (s.temperature === 0) return best;
  const u = rng.next();
  const p = new Float64Array(logits.length);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) {
    p[i] = Math.exp((logits[i] - logits[best]) / s.temperature);
    sum += p[i];
  }
  const order = Array.from(p.keys()).sort((a, b) => p[b] - p[a] || a - b);
  // The nucleus: most likely first until the kept mass reaches topP.
  let kept = 0;
  let n = 0;
  while (n < order.length && (n === 0 || kept < s.topP * sum)) kept += p[order[n++]];
  let r = u * kept;
  for (let k = 0; k < n; k++) {
    r -= p[order[k]];
    if (r < 0) return order[k];
  }
  return order[n - 1];
}
