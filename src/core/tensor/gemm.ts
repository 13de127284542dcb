// x·W for an SAE encoder in plain JavaScript, with W given transposed ([outputs, inputs]) so every inner
// loop is a contiguous dot product. Two rows × two columns per pass: each load feeds two multiply-adds,
// about 3× faster than the one-row axpy form. The runtime's ONNX GEMM is faster still; this is the
// synchronous path (splice edits, tests) and the fallback.
import type { Matrix } from './matrix';

/** The transpose of a row-major [rows, cols] matrix. */
export function transpose(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c];
  return out;
}

/** x [n, k] · Wᵀ, with wT [m, k] → [n, m]. */
export function matmulTransposed(x: Matrix, wT: Float32Array, m: number): Matrix {
  const n = x.rows;
  const k = x.cols;
  if (wT.length !== m * k) throw new Error(`matmulTransposed: weight has ${wT.length} values, expected ${m}×${k}`);
  const X = x.data;
  const out = new Float32Array(n * m);
  const evenRows = n - (n % 2);
  const evenCols = m - (m % 2);
  for (let i = 0; i < evenRows; i += 2) {
    const x0 = i * k;
    const x1 = x0 + k;
    for (let j = 0; j < evenCols; j += 2) {
      const w0 = j * k;
      const w1 = w0 + k;
      let a = 0;
      let b = 0;
      let c = 0;
      let d = 0;
      for (let p = 0; p < k; p++) {
        const u = X[x0 + p];
        const v = X[x1 + p];
        const s = wT[w0 + p];
        const t = wT[w1 + p];
        a += u * s;
        b += u * t;
        c += v * s;
        d += v * t;
      }
      out[i * m + j] = a;
      out[i * m + j + 1] = b;
      out[(i + 1) * m + j] = c;
      out[(i + 1) * m + j + 1] = d;
    }
    if (evenCols < m) {
      out[i * m + evenCols] = dot(X, x0, wT, evenCols * k, k);
      out[(i + 1) * m + evenCols] = dot(X, x1, wT, evenCols * k, k);
    }
  }
  if (evenRows < n) {
    const x0 = evenRows * k;
    for (let j = 0; j < m; j++) out[evenRows * m + j] = dot(X, x0, wT, j * k, k);
  }
  return { data: out, rows: n, cols: m };
}

function dot(a: Float32Array, ao: number, b: Float32Array, bo: number, k: number): number {
  let s = 0;
  for (let p = 0; p < k; p++) s += a[ao + p] * b[bo + p];
  return s;
}
