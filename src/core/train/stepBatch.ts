// A training step's batch in one pass over the raw rows: rows with a non-finite value are dropped, the rest
// scaled by 1/C into a buffer the trainer reuses from step to step, and the per-column sums the FVU's total
// variance needs are taken on the way. Three passes did this before (finiteRows, scaling into a fresh
// array, totalVariance), and writing into freshly allocated pages every step cost about as much as the
// arithmetic (docs/performance.md). Same values and same sums in the same order as those passes.
import type { Matrix } from '../tensor';

export interface StepBatch {
  /** The finite rows times `factor` (a view of the reused buffer). */
  readonly x: Matrix;
  /** Rows dropped for a NaN or ±∞. */
  readonly skipped: number;
  /** Σ_j Σ_rows (x_rj − mean_j)² of x, as Σ x² − (Σ x)²/rows per column (float64). */
  readonly variance: number;
}

/**
 * `raw`'s finite rows times `factor`, written into `buffer` when it holds raw.rows·raw.cols floats (else into
 * a new one, returned as the buffer for next time).
 */
export function scaledFiniteBatch(raw: Matrix, factor: number, buffer: Float32Array | undefined): StepBatch & { buffer: Float32Array } {
  const d = raw.cols;
  const src = raw.data;
  const out = buffer && buffer.length >= raw.rows * d ? buffer : new Float32Array(raw.rows * d);
  const s = new Float64Array(d);
  const sq = new Float64Array(d);
  let kept = 0;
  for (let r = 0; r < raw.rows; r++) {
    const base = r * d;
    // NaN·0 = ∞·0 = NaN: the row is finite exactly when this sum is 0.
    let z0 = 0;
    let z1 = 0;
    let j = 0;
    for (; j + 1 < d; j += 2) {
      z0 += src[base + j] * 0;
      z1 += src[base + j + 1] * 0;
    }
    for (; j < d; j++) z0 += src[base + j] * 0;
    if (z0 + z1 !== 0) continue;
    const o = kept * d;
    for (let c = 0; c < d; c++) {
      out[o + c] = src[base + c] * factor;
      const a = out[o + c]; // the float32 value, as the variance of the stored batch
      s[c] += a;
      sq[c] += a * a;
    }
    kept++;
  }
  let variance = 0;
  for (let c = 0; c < d; c++) variance += sq[c] - (s[c] * s[c]) / kept;
  return { x: { data: out.subarray(0, kept * d), rows: kept, cols: d }, skipped: raw.rows - kept, variance, buffer: out };
}
