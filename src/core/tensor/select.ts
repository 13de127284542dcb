// Turning dense pre-activations into sparse codes: entries above a per-column bound, and per-row top k.
// Backends use these on dense products; the fast backend also on the rows its engine could not finish.
import type { Matrix } from './matrix';
import { SparseBuilder, type SparseRows } from './sparse';

/** Entries with value > lower[j] (per column), in column order. */
export function selectAbove(pre: Matrix, lower: ArrayLike<number>): SparseRows {
  const n = pre.cols;
  const b = new SparseBuilder(pre.rows, n);
  const P = pre.data;
  for (let r = 0; r < pre.rows; r++) {
    const base = r * n;
    for (let j = 0; j < n; j++) {
      const p = P[base + j];
      if (p > lower[j]) b.push(j, p);
    }
    b.endRow();
  }
  return b.finish();
}

/**
 * Per row, the k largest positive values, restricted to columns with mask[j] !== 0 when a mask is given.
 * Ties keep the lower column. Columns come out in ascending order.
 */
export function selectRowTopK(pre: Matrix, k: number, mask: Uint8Array | undefined): SparseRows {
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

// Min-heap on values (ties: the larger index leaves first, so results are deterministic).
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

/** The given rows of a (copies), as a matrix. */
export function pickRows(a: Matrix, rows: readonly number[]): Matrix {
  const d = a.cols;
  const data = new Float32Array(rows.length * d);
  rows.forEach((r, i) => data.set(a.data.subarray(r * d, (r + 1) * d), i * d));
  return { data, rows: rows.length, cols: d };
}

/** s with row rows[i] replaced by row i of sub. */
export function replaceRows(s: SparseRows, rows: readonly number[], sub: SparseRows): SparseRows {
  const at = new Map(rows.map((r, i) => [r, i]));
  let nnz = s.colIdx.length;
  for (const [r, i] of at) nnz += sub.rowPtr[i + 1] - sub.rowPtr[i] - (s.rowPtr[r + 1] - s.rowPtr[r]);
  const rowPtr = new Int32Array(s.rows + 1);
  const colIdx = new Int32Array(nnz);
  const values = new Float32Array(nnz);
  let w = 0;
  for (let r = 0; r < s.rows; r++) {
    const i = at.get(r);
    const src = i === undefined ? s : sub;
    const rr = i === undefined ? r : i;
    for (let e = src.rowPtr[rr]; e < src.rowPtr[rr + 1]; e++) {
      colIdx[w] = src.colIdx[e];
      values[w] = src.values[e];
      w++;
    }
    rowPtr[r + 1] = w;
  }
  return { rows: s.rows, cols: s.cols, rowPtr, colIdx, values };
}
