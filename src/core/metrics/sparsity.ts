// Sparsity metrics: L0, dead features over a token window, dense features, firing-frequency histogram.
import type { Matrix, SparseRows } from '../tensor';

/** Mean over rows of the number of latents with f > 0. */
export function l0(features: SparseRows | Matrix): number {
  if ('rowPtr' in features) {
    let n = 0;
    for (let e = 0; e < features.values.length; e++) if (features.values[e] > 0) n++;
    return features.rows === 0 ? Number.NaN : n / features.rows;
  }
  let n = 0;
  for (let i = 0; i < features.data.length; i++) if (features.data[i] > 0) n++;
  return features.rows === 0 ? Number.NaN : n / features.rows;
}

/**
 * A batch's firing per latent without its codes (what a fused dense training step returns): how many rows
 * each latent fired on, and the last such row counted from 1 (0: none).
 */
export interface FiringCounts {
  readonly rows: number;
  readonly fireCount: ArrayLike<number>;
  readonly lastRow: ArrayLike<number>;
}

/**
 * Tracks, per latent, how many tokens it fired on and the token index of its last firing.
 * Dead: not fired within the last `window` tokens (only meaningful once that many were seen).
 */
export class FiringTracker {
  readonly fireCount: Float64Array;
  readonly lastFired: Float64Array;
  tokens = 0;

  constructor(readonly dSae: number) {
    this.fireCount = new Float64Array(dSae);
    this.lastFired = new Float64Array(dSae); // "fired at token 0": nothing is dead before a window has passed
  }

  add(features: SparseRows | Matrix | FiringCounts): void {
    const rows = features.rows;
    if ('fireCount' in features) {
      for (let j = 0; j < this.dSae; j++) {
        this.fireCount[j] += features.fireCount[j];
        if (features.lastRow[j] > 0) this.lastFired[j] = this.tokens + features.lastRow[j];
      }
    } else if ('rowPtr' in features) {
      for (let e = 0; e < features.values.length; e++) {
        if (features.values[e] > 0) this.fireCount[features.colIdx[e]]++;
      }
      for (let r = 0; r < rows; r++) {
        for (let e = features.rowPtr[r]; e < features.rowPtr[r + 1]; e++) {
          if (features.values[e] > 0) this.lastFired[features.colIdx[e]] = this.tokens + r + 1;
        }
      }
    } else {
      const n = features.cols;
      for (let r = 0; r < rows; r++) {
        for (let j = 0; j < n; j++) {
          if (features.data[r * n + j] > 0) {
            this.fireCount[j]++;
            this.lastFired[j] = this.tokens + r + 1;
          }
        }
      }
    }
    this.tokens += rows;
  }

  /** 1 where the latent has not fired in the last `window` tokens. */
  deadMask(window: number): Uint8Array {
    const out = new Uint8Array(this.dSae);
    for (let j = 0; j < this.dSae; j++) out[j] = this.tokens - this.lastFired[j] >= window ? 1 : 0;
    return out;
  }

  deadFraction(window: number): number {
    const m = this.deadMask(window);
    let n = 0;
    for (const v of m) n += v;
    return n / this.dSae;
  }

  /** Firing frequency per latent over everything added. */
  frequencies(): Float64Array {
    return this.fireCount.map((c) => (this.tokens > 0 ? c / this.tokens : 0));
  }

  /** Fraction of latents active on more than `threshold` of tokens (default 10%). */
  denseFraction(threshold = 0.1): number {
    return denseFraction(this.frequencies(), threshold);
  }

  /** Latents that never fired among everything added. */
  neverFiredFraction(): number {
    let n = 0;
    for (const c of this.fireCount) if (c === 0) n++;
    return n / this.dSae;
  }
}

export function denseFraction(frequencies: ArrayLike<number>, threshold = 0.1): number {
  let n = 0;
  for (let j = 0; j < frequencies.length; j++) if (frequencies[j] > threshold) n++;
  return frequencies.length === 0 ? Number.NaN : n / frequencies.length;
}

export interface DensityHistogram {
  /** Bin edges in log10(frequency), length bins + 1. */
  readonly edges: number[];
  readonly counts: number[];
  /** Latents that never fired (log10 0 = −∞, kept out of the bins). */
  readonly neverFired: number;
}

/** Histogram of log10 firing frequency over [minLog10, 0]; values below minLog10 go to the first bin. */
export function densityHistogram(frequencies: ArrayLike<number>, bins = 40, minLog10 = -8): DensityHistogram {
  const edges = Array.from({ length: bins + 1 }, (_, i) => minLog10 + (i * -minLog10) / bins);
  const counts = new Array<number>(bins).fill(0);
  let neverFired = 0;
  for (let j = 0; j < frequencies.length; j++) {
    const f = frequencies[j];
    if (!(f > 0)) {
      neverFired++;
      continue;
    }
    const lg = Math.log10(f);
    const bin = Math.min(bins - 1, Math.max(0, Math.floor(((lg - minLog10) / -minLog10) * bins)));
    counts[bin]++;
  }
  return { edges, counts, neverFired };
}

/** log10 firing frequency per latent (SAELens sparsity.safetensors); never-fired latents get −∞ clipped to −10. */
export function log10Frequencies(frequencies: ArrayLike<number>, floor = -10): Float32Array {
  return Float32Array.from({ length: frequencies.length }, (_, j) =>
    frequencies[j] > 0 ? Math.max(floor, Math.log10(frequencies[j])) : floor,
  );
}
