// Next-token cross-entropy and KL on logits matrices (pure; no ORT). Position t predicts token t+1, so a
// sequence of n tokens has n−1 predicted positions: the first token is never scored.
import type { Matrix } from '../tensor';

/** log Σ exp(row) for row r of m, computed stably (in float64). */
function logSumExp(m: Matrix, r: number): number {
  const base = r * m.cols;
  let max = -Infinity;
  for (let j = 0; j < m.cols; j++) if (m.data[base + j] > max) max = m.data[base + j];
  let sum = 0;
  for (let j = 0; j < m.cols; j++) sum += Math.exp(m.data[base + j] - max);
  return max + Math.log(sum);
}

/** Per-position next-token cross-entropy (nats): entry t is −log p(ids[t+1] | ids[..t]); length n−1. */
export function tokenCrossEntropy(logits: Matrix, ids: ArrayLike<number>): Float64Array {
  if (logits.rows !== ids.length) throw new Error(`crossEntropy: ${logits.rows} logit rows for ${ids.length} tokens`);
  const n = Math.max(0, ids.length - 1);
  const out = new Float64Array(n);
  for (let t = 0; t < n; t++) {
    const target = ids[t + 1];
    if (target < 0 || target >= logits.cols) throw new RangeError(`crossEntropy: token ${target} outside ${logits.cols} logits`);
    out[t] = logSumExp(logits, t) - logits.data[t * logits.cols + target];
  }
  return out;
}

/** Sum and count of next-token cross-entropy over the predicted positions of one sequence. */
export function crossEntropySum(logits: Matrix, ids: ArrayLike<number>): { sum: number; count: number } {
  const ce = tokenCrossEntropy(logits, ids);
  let sum = 0;
  for (const v of ce) sum += v;
  return { sum, count: ce.length };
}

/** Mean next-token cross-entropy over the predicted positions of all sequences (token-weighted). */
export function meanCrossEntropy(logits: readonly Matrix[], ids: readonly ArrayLike<number>[]): number {
  let sum = 0;
  let count = 0;
  logits.forEach((l, i) => {
    const r = crossEntropySum(l, ids[i]);
    sum += r.sum;
    count += r.count;
  });
  return count === 0 ? NaN : sum / count;
}

/** Per-row KL(p‖q) between softmax(p) and softmax(q) for rows [from, rows) (nats). */
export function rowKl(p: Matrix, q: Matrix, from = 0): Float64Array {
  if (p.rows !== q.rows || p.cols !== q.cols) throw new Error(`kl: shapes ${p.rows}×${p.cols} and ${q.rows}×${q.cols} differ`);
  const out = new Float64Array(Math.max(0, p.rows - from));
  for (let r = from; r < p.rows; r++) {
    const lp = logSumExp(p, r);
    const lq = logSumExp(q, r);
    const base = r * p.cols;
    let kl = 0;
    for (let j = 0; j < p.cols; j++) {
      const a = p.data[base + j] - lp;
      kl += Math.exp(a) * (a - (q.data[base + j] - lq));
    }
    out[r - from] = Math.max(0, kl);
  }
  return out;
}

/** Index of the largest value in row r. */
export function argmaxRow(m: Matrix, r: number): number {
  let best = 0;
  let bestV = -Infinity;
  for (let j = 0; j < m.cols; j++) {
    const v = m.data[r * m.cols + j];
    if (v > bestV) {
      bestV = v;
      best = j;
    }
  }
  return best;
}
