// The activation rules that turn pre-activations into sparse codes, shared by the trainable SAEs and the
// inference SAE: a per-latent threshold (JumpReLU, BatchTopK at inference), a per-row top k (TopK,
// JumpReLU's TopK warm-up) and a whole-batch top k (BatchTopK while training).
import { SparseBuilder, pickRows, replaceRows, selectAbove, type Matrix, type NumericBackend, type SparseRows } from '../tensor';

/** Entries with pre > θ (per latent), values = pre. Per-row top k: selectRowTopK. Both live with the backends. */
export { selectAbove as activeAbove, selectRowTopK as rowTopK } from '../tensor';

/** The k·B largest positive pre-activations across the batch; minKept is the smallest kept value. */
export function batchTopK(pre: Matrix, k: number): { features: SparseRows; minKept: number } {
  return batchTopKOf(selectAbove(pre, new Float32Array(pre.cols)), k);
}

/**
 * batchTopK of P = xin·W + bias without materialising P: each row's best 4k candidates come from the
 * backend, and rows whose candidates could hide entries above the batch's cut are fetched in full.
 * Exact: the cut over the candidates can only be lower than the true one, and every row that could
 * reach it contributes all its entries at or above it.
 */
export function batchTopKFromEncoder(backend: NumericBackend, xin: Matrix, w: Matrix, bias: Float32Array | undefined, k: number): { features: SparseRows; minKept: number } {
  const n = w.cols;
  const total = k * xin.rows;
  const perRow = Math.min(n, 4 * k);
  let cand = backend.matmulRowTopK(xin, w, bias, perRow);
  if (perRow < n) {
    const provisional = cand.colIdx.length > total ? kthLargest(cand.values.slice(), total) : 0;
    const truncated: number[] = [];
    for (let r = 0; r < cand.rows; r++) {
      if (cand.rowPtr[r + 1] - cand.rowPtr[r] < perRow) continue;
      let min = Number.POSITIVE_INFINITY;
      for (let e = cand.rowPtr[r]; e < cand.rowPtr[r + 1]; e++) min = Math.min(min, cand.values[e]);
      if (min >= provisional) truncated.push(r);
    }
    if (truncated.length > 0) {
      const lower = new Float32Array(n).fill(provisional > 0 ? nextBelow(provisional) : 0);
      cand = replaceRows(cand, truncated, backend.matmulAbove(pickRows(xin, truncated), w, bias, lower));
    }
  }
  return batchTopKOf(cand, k);
}

/** The largest float32 below a positive float32 x. */
function nextBelow(x: number): number {
  const f = Float32Array.of(x);
  const bits = new Int32Array(f.buffer);
  bits[0] -= 1;
  return f[0];
}

/** Batch top k·rows among the stored (positive) entries of cand; ties at the cut are kept in row-major order. */
function batchTopKOf(cand: SparseRows, k: number): { features: SparseRows; minKept: number } {
  const total = k * cand.rows;
  const nnz = cand.colIdx.length;
  let cut = 0;
  let keepTies = Infinity;
  if (nnz > total) {
    cut = kthLargest(cand.values.slice(), total);
    // Count how many strictly above the cut; ties at the cut fill the remainder in index order.
    let above = 0;
    for (let e = 0; e < nnz; e++) if (cand.values[e] > cut) above++;
    keepTies = total - above;
  }
  const b = new SparseBuilder(cand.rows, cand.cols, total);
  let minKept = Number.POSITIVE_INFINITY;
  for (let r = 0; r < cand.rows; r++) {
    for (let e = cand.rowPtr[r]; e < cand.rowPtr[r + 1]; e++) {
      const v = cand.values[e];
      if (!(v > 0)) continue;
      let keep = v > cut || (cut === 0 && v > 0);
      if (!keep && v === cut && keepTies > 0) {
        keep = true;
        keepTies--;
      }
      if (keep) {
        b.push(cand.colIdx[e], v);
        if (v < minKept) minKept = v;
      }
    }
    b.endRow();
  }
  return { features: b.finish(), minKept: Number.isFinite(minKept) ? minKept : Number.NaN };
}

/** The m-th largest value (1-based) by quickselect; reorders vals. */
export function kthLargest(vals: Float32Array, m: number): number {
  let lo = 0;
  let hi = vals.length - 1;
  const target = m - 1; // index in descending order
  while (lo < hi) {
    const pivot = vals[(lo + hi) >> 1];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (vals[i] > pivot) i++;
      while (vals[j] < pivot) j--;
      if (i <= j) {
        const t = vals[i];
        vals[i] = vals[j];
        vals[j] = t;
        i++;
        j--;
      }
    }
    if (target <= j) hi = j;
    else if (target >= i) lo = i;
    else return vals[target];
  }
  return vals[target];
}
