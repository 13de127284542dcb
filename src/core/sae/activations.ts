// The activation rules that turn pre-activations into sparse codes, shared by the trainable SAEs and the
// inference SAE: a per-latent threshold (JumpReLU, BatchTopK at inference), a per-row top k (TopK,
// JumpReLU's TopK warm-up) and a whole-batch top k (BatchTopK while training).
import { SparseBuilder, type Matrix, type SparseRows } from '../tensor';

/** Entries with pre > θ (per latent), values = pre. */
export function activeAbove(pre: Matrix, theta: ArrayLike<number>): SparseRows {
  const n = pre.cols;
  const b = new SparseBuilder(pre.rows, n);
  for (let r = 0; r < pre.rows; r++) {
    const base = r * n;
    for (let j = 0; j < n; j++) {
      const p = pre.data[base + j];
      if (p > theta[j]) b.push(j, p);
    }
    b.endRow();
  }
  return b.finish();
}

/**
 * Per row, the k largest positive pre-activations (ReLU after TopK), restricted to latents with
 * mask[j] !== 0 when a mask is given. Columns come out in ascending order.
 */
export function rowTopK(pre: Matrix, k: number, mask: Uint8Array | undefined): SparseRows {
  const n = pre.cols;
  const out = new SparseBuilder(pre.rows, n, pre.rows * k);
  const heapVal = new Float32Array(k);
  const heapIdx = new Int32Array(k);
  const picked: number[] = [];
  for (let r = 0; r < pre.rows; r++) {
    const base = r * n;
    let size = 0;
    for (let j = 0; j < n; j++) {
      if (mask && mask[j] === 0) continue;
      const v = pre.data[base + j];
      if (!(v > 0)) continue;
      if (size < k) {
        heapPush(heapVal, heapIdx, size++, v, j);
      } else if (v > heapVal[0]) {
        heapVal[0] = v;
        heapIdx[0] = j;
        siftDown(heapVal, heapIdx, size, 0);
      }
    }
    picked.length = 0;
    for (let i = 0; i < size; i++) picked.push(heapIdx[i]);
    picked.sort((a, b) => a - b);
    for (const j of picked) out.push(j, pre.data[base + j]);
    out.endRow();
  }
  return out.finish();
}

// Min-heap on values (ties broken towards the larger index leaving first, so results are deterministic).
function less(v: Float32Array, idx: Int32Array, a: number, b: number): boolean {
  return v[a] < v[b] || (v[a] === v[b] && idx[a] > idx[b]);
}

function heapPush(v: Float32Array, idx: Int32Array, at: number, value: number, j: number): void {
  v[at] = value;
  idx[at] = j;
  let i = at;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    if (!less(v, idx, i, parent)) break;
    swap(v, idx, i, parent);
    i = parent;
  }
}

function siftDown(v: Float32Array, idx: Int32Array, size: number, start: number): void {
  let i = start;
  for (;;) {
    const l = 2 * i + 1;
    const r = l + 1;
    let m = i;
    if (l < size && less(v, idx, l, m)) m = l;
    if (r < size && less(v, idx, r, m)) m = r;
    if (m === i) return;
    swap(v, idx, i, m);
    i = m;
  }
}

function swap(v: Float32Array, idx: Int32Array, a: number, b: number): void {
  const tv = v[a];
  v[a] = v[b];
  v[b] = tv;
  const ti = idx[a];
  idx[a] = idx[b];
  idx[b] = ti;
}

/** The k·B largest positive pre-activations across the batch; minKept is the smallest kept value. */
export function batchTopK(pre: Matrix, k: number): { features: SparseRows; minKept: number } {
  const total = k * pre.rows;
  const positives: number[] = [];
  for (let i = 0; i < pre.data.length; i++) if (pre.data[i] > 0) positives.push(pre.data[i]);
  let cut = 0;
  let keepTies = Infinity;
  if (positives.length > total) {
    const vals = Float32Array.from(positives);
    cut = kthLargest(vals, total);
    // Count how many strictly above the cut; ties at the cut fill the remainder in index order.
    let above = 0;
    for (const v of positives) if (v > cut) above++;
    keepTies = total - above;
  }
  const n = pre.cols;
  const b = new SparseBuilder(pre.rows, n, total);
  let minKept = Number.POSITIVE_INFINITY;
  for (let r = 0; r < pre.rows; r++) {
    for (let j = 0; j < n; j++) {
      const v = pre.data[r * n + j];
      if (!(v > 0)) continue;
      let keep = v > cut || (cut === 0 && v > 0);
      if (!keep && v === cut && keepTies > 0) {
        keep = true;
        keepTies--;
      }
      if (keep) {
        b.push(j, v);
        if (v < minKept) minKept = v;
      }
    }
    b.endRow();
  }
  return { features: b.finish(), minKept: Number.isFinite(minKept) ? minKept : Number.NaN };
}

/** The m-th largest value (1-based) by quickselect; reorders vals. */
function kthLargest(vals: Float32Array, m: number): number {
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
