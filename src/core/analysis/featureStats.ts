// Corpus statistics of one feature for its dashboard: strongest examples with context, and the
// distribution of its non-zero activations.
import type { FeatureExample, Histogram } from '../../protocol/analysis';

/** Keeps the n strongest examples seen so far (one per window, at its peak token). */
export class TopExamples {
  private readonly kept: FeatureExample[] = [];

  constructor(private readonly capacity: number) {}

  get floor(): number {
    return this.kept.length < this.capacity ? -Infinity : this.kept[this.kept.length - 1].maxActivation;
  }

  /** acts: the feature's activation at each token of a window; context: tokens kept each side of the peak. */
  offer(source: string, tokenTexts: readonly string[], acts: ArrayLike<number>, context: number): void {
    let peak = -1;
    for (let i = 0; i < acts.length; i++) if (acts[i] > 0 && (peak < 0 || acts[i] > acts[peak])) peak = i;
    if (peak < 0 || acts[peak] <= this.floor) return;
    const from = Math.max(0, peak - context);
    const to = Math.min(acts.length, peak + context + 1);
    const example: FeatureExample = {
      source,
      tokens: tokenTexts.slice(from, to),
      activations: Array.from({ length: to - from }, (_, i) => acts[from + i]),
      peak: peak - from,
      maxActivation: acts[peak],
    };
    this.kept.push(example);
    this.kept.sort((a, b) => b.maxActivation - a.maxActivation);
    if (this.kept.length > this.capacity) this.kept.pop();
  }

  examples(): readonly FeatureExample[] {
    return this.kept;
  }
}

/** Equal-width bins from 0 to the largest value; zeros (feature off) are not counted. */
export function activationHistogram(values: ArrayLike<number>, bins: number): Histogram {
  let max = 0;
  for (let i = 0; i < values.length; i++) if (values[i] > max) max = values[i];
  const edges = Array.from({ length: bins + 1 }, (_, i) => (max * i) / bins);
  const counts = new Array<number>(bins).fill(0);
  if (max <= 0) return { edges, counts };
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v <= 0) continue;
    counts[Math.min(bins - 1, Math.floor((v / max) * bins))]++;
  }
  return { edges, counts };
}

export function firingDensity(values: ArrayLike<number>): number {
  if (values.length === 0) return 0;
  let on = 0;
  for (let i = 0; i < values.length; i++) if (values[i] > 0) on++;
  return on / values.length;
}
