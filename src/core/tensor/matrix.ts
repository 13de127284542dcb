// The core's own dense tensor: row-major float32. ORT and file formats convert to and from this.

export interface Matrix {
  readonly data: Float32Array;
  readonly rows: number;
  readonly cols: number;
}

export function matrix(rows: number, cols: number, data?: Float32Array): Matrix {
  if (data && data.length !== rows * cols) {
    throw new Error(`matrix: ${data.length} values cannot fill ${rows}×${cols}`);
  }
  return { data: data ?? new Float32Array(rows * cols), rows, cols };
}

/** A view of row i (no copy). */
export function row(m: Matrix, i: number): Float32Array {
  return m.data.subarray(i * m.cols, (i + 1) * m.cols);
}
