// Step-indexed schedules (step counts from 0). Pure functions so resume needs only the step number.

/** lr factor: warm-up from `start`× to 1× over `warmupSteps` (cosine or linear), then flat, then linear
 *  decay to 0 over the last `decayFraction` of `totalSteps`. */
export function lrFactor(
  step: number,
  o: { warmupSteps: number; warmupShape: 'cosine' | 'linear'; warmupStart: number; decayFraction: number; totalSteps: number },
): number {
  let f = 1;
  if (step < o.warmupSteps) {
    const t = step / o.warmupSteps;
    const ramp = o.warmupShape === 'cosine' ? 0.5 * (1 - Math.cos(Math.PI * t)) : t;
    f = o.warmupStart + (1 - o.warmupStart) * ramp;
  }
  const decaySteps = Math.floor(o.decayFraction * o.totalSteps);
  const decayStart = o.totalSteps - decaySteps;
  if (decaySteps > 0 && step >= decayStart) f *= Math.max(0, (o.totalSteps - step) / decaySteps);
  return f;
}

/** Linear warm-up from 0 to 1 over `warmupSteps` (1 throughout when warmupSteps is 0). */
export function linearWarmup(step: number, warmupSteps: number): number {
  return warmupSteps <= 0 ? 1 : Math.min(1, step / warmupSteps);
}

/** Geometric interpolation from `start` to `end` over `steps`, then `end`. */
export function geometricDecay(step: number, start: number, end: number, steps: number): number {
  if (steps <= 0 || step >= steps) return end;
  return start * Math.pow(end / start, step / steps);
}
