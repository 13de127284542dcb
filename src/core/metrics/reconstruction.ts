// Reconstruction metrics, each defined where it is computed below. Accumulators stream over batches so the
// CLI, the worker and the UI compute the same numbers from the same code.
import type { Matrix } from '../tensor';

function sameShape(x: Matrix, xHat: Matrix): void {
  if (x.rows !== xHat.rows || x.cols !== xHat.cols) {
    throw new Error(`shape mismatch: ${x.rows}×${x.cols} vs ${xHat.rows}×${xHat.cols}`);
  }
}

/** Mean over rows of ‖x − x̂‖² (summed over dims). */
export function mse(x: Matrix, xHat: Matrix): number {
  sameShape(x, xHat);
  let s = 0;
  for (let i = 0; i < x.data.length; i++) s += (x.data[i] - xHat.data[i]) ** 2;
  return x.rows === 0 ? Number.NaN : s / x.rows;
}

/** Mean over rows and dims of (x − x̂)². */
export function perDimMse(x: Matrix, xHat: Matrix): number {
  return mse(x, xHat) / x.cols;
}

/** Σ‖x − x̂‖² / Σ‖x − x̄‖², x̄ the mean row of x. */
export function fvu(x: Matrix, xHat: Matrix): number {
  const acc = new ReconstructionAccumulator(x.cols);
  acc.add(x, xHat);
  return acc.fvu();
}

export function explainedVariance(x: Matrix, xHat: Matrix): number {
  return 1 - fvu(x, xHat);
}

/**
 * Streams Σ‖x − x̂‖², Σx and Σ‖x‖² per dim so FVU over many batches uses the mean of all rows:
 * Σ‖x − x̄‖² = Σ‖x‖² − N‖x̄‖².
 */
export class ReconstructionAccumulator {
  private rows = 0;
  private sqErr = 0;
  private readonly sum: Float64Array;
  private readonly sumSq: Float64Array;

  constructor(readonly dims: number) {
    this.sum = new Float64Array(dims);
    this.sumSq = new Float64Array(dims);
  }

  add(x: Matrix, xHat: Matrix): void {
    sameShape(x, xHat);
    if (x.cols !== this.dims) throw new Error(`expected ${this.dims} dims, got ${x.cols}`);
    const d = this.dims;
    for (let r = 0; r < x.rows; r++) {
      const base = r * d;
      for (let j = 0; j < d; j++) {
        const v = x.data[base + j];
        const e = v - xHat.data[base + j];
        this.sqErr += e * e;
        this.sum[j] += v;
        this.sumSq[j] += v * v;
      }
    }
    this.rows += x.rows;
  }

  get count(): number {
    return this.rows;
  }

  mse(): number {
    return this.rows === 0 ? Number.NaN : this.sqErr / this.rows;
  }

  perDimMse(): number {
    return this.mse() / this.dims;
  }

  /** Total variance Σ‖x − x̄‖². */
  variance(): number {
    let v = 0;
    for (let j = 0; j < this.dims; j++) v += this.sumSq[j] - (this.sum[j] * this.sum[j]) / this.rows;
    return v;
  }

  fvu(): number {
    if (this.rows === 0) return Number.NaN;
    const v = this.variance();
    return v > 0 ? this.sqErr / v : Number.NaN;
  }

  explainedVariance(): number {
    return 1 - this.fvu();
  }
}
