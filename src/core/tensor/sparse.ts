// Row-compressed sparse matrices: SAE codes are sparse (a few active latents per token), so encoders
// return them in CSR form and decoders and gradients touch only the stored entries.
import type { Matrix } from './matrix';

/** Row-compressed sparse matrix (CSR): the entries of row r are rowPtr[r] .. rowPtr[r+1]-1. */
export interface SparseRows {
  readonly rows: number;
  readonly cols: number;
  readonly rowPtr: Int32Array;
  readonly colIdx: Int32Array;
  readonly values: Float32Array;
}

/** Grows a CSR matrix row by row. */
export class SparseBuilder {
  private colIdx: Int32Array;
  private values: Float32Array;
  private readonly rowPtr: Int32Array;
  private nnz = 0;
  private row = 0;

  constructor(
    readonly rows: number,
    readonly cols: number,
    capacityHint = rows * 8,
  ) {
    this.rowPtr = new Int32Array(rows + 1);
    const cap = Math.max(16, capacityHint);
    this.colIdx = new Int32Array(cap);
    this.values = new Float32Array(cap);
  }

  push(col: number, value: number): void {
    if (this.nnz === this.colIdx.length) {
      const bigger = this.colIdx.length * 2;
      const c = new Int32Array(bigger);
      c.set(this.colIdx);
      const v = new Float32Array(bigger);
      v.set(this.values);
      this.colIdx = c;
      this.values = v;
    }
    this.colIdx[this.nnz] = col;
    this.values[this.nnz] = value;
    this.nnz++;
  }

  endRow(): void {
    this.row++;
    this.rowPtr[this.row] = this.nnz;
  }

  finish(): SparseRows {
    if (this.row !== this.rows) throw new Error(`SparseBuilder: ${this.row} of ${this.rows} rows ended`);
    return {
      rows: this.rows,
      cols: this.cols,
      rowPtr: this.rowPtr,
      colIdx: this.colIdx.slice(0, this.nnz),
      values: this.values.slice(0, this.nnz),
    };
  }
}

/** Same pattern, new values. */
export function withValues(s: SparseRows, values: Float32Array): SparseRows {
  if (values.length !== s.colIdx.length) throw new Error('withValues: length mismatch');
  return { rows: s.rows, cols: s.cols, rowPtr: s.rowPtr, colIdx: s.colIdx, values };
}

export function sparseToDense(s: SparseRows): Matrix {
  const data = new Float32Array(s.rows * s.cols);
  for (let r = 0; r < s.rows; r++) {
    for (let e = s.rowPtr[r]; e < s.rowPtr[r + 1]; e++) data[r * s.cols + s.colIdx[e]] = s.values[e];
  }
  return { data, rows: s.rows, cols: s.cols };
}

/** Σ over rows of each column's values. */
export function sparseColumnSums(s: SparseRows): Float64Array {
  const out = new Float64Array(s.cols);
  for (let e = 0; e < s.colIdx.length; e++) out[s.colIdx[e]] += s.values[e];
  return out;
}
