// WebAssembly SIMD (f32x4) versions of the products over sparse codes in src/core/tensor/sparseKernels.ts.
// AssemblyScript, compiled by tools/build-wasm.mjs into src/core/tensor/wasm/sparseKernelsWasm.ts. No
// allocation here: the caller lays every operand out in the (imported) memory and passes byte offsets.
// Each kernel works on a range of output groups [g0, g1) so two threads can split one call by rows.
// Rows are d floats; the f32x4 loops cover the first d − d % 4, a scalar loop the rest.

/**
 * out[g·d + j] (+)= Σ over entries e of group g (ptr[g] ≤ e < ptr[g+1]) of val[e]·M[idx[e]·d + j].
 * init ≠ 0: the group's row starts from init[0..d) (a bias) instead of its current contents.
 * Decoding (groups = token rows, M = W_dec) and the weight gradients (groups = latents, M = the rows of
 * dX̂ or xin) are both this. Eight entries share one pass over the output row.
 */
export function gatherAxpy(ptr: usize, idx: usize, val: usize, m: usize, d: i32, out: usize, init: usize, g0: i32, g1: i32): void {
  const d4 = d & ~3;
  const rowBytes = (<usize>d) << 2;
  for (let g = g0; g < g1; g++) {
    const o = out + <usize>g * rowBytes;
    if (init != 0) memory.copy(o, init, rowBytes);
    let e = load<i32>(ptr + (<usize>g << 2));
    const end = load<i32>(ptr + (<usize>(g + 1) << 2));
    for (; e + 7 < end; e += 8) {
      const ie = idx + (<usize>e << 2);
      const ve = val + (<usize>e << 2);
      const m0 = m + <usize>load<i32>(ie) * rowBytes;
      const m1 = m + <usize>load<i32>(ie, 4) * rowBytes;
      const m2 = m + <usize>load<i32>(ie, 8) * rowBytes;
      const m3 = m + <usize>load<i32>(ie, 12) * rowBytes;
      const m4 = m + <usize>load<i32>(ie, 16) * rowBytes;
      const m5 = m + <usize>load<i32>(ie, 20) * rowBytes;
      const m6 = m + <usize>load<i32>(ie, 24) * rowBytes;
      const m7 = m + <usize>load<i32>(ie, 28) * rowBytes;
      const s0 = load<f32>(ve);
      const s1 = load<f32>(ve, 4);
      const s2 = load<f32>(ve, 8);
      const s3 = load<f32>(ve, 12);
      const s4 = load<f32>(ve, 16);
      const s5 = load<f32>(ve, 20);
      const s6 = load<f32>(ve, 24);
      const s7 = load<f32>(ve, 28);
      const v0 = f32x4.splat(s0);
      const v1 = f32x4.splat(s1);
      const v2 = f32x4.splat(s2);
      const v3 = f32x4.splat(s3);
      const v4 = f32x4.splat(s4);
      const v5 = f32x4.splat(s5);
      const v6 = f32x4.splat(s6);
      const v7 = f32x4.splat(s7);
      let j: usize = 0;
      const end4 = <usize>d4 << 2;
      for (; j < end4; j += 16) {
        const a = f32x4.add(
          f32x4.add(f32x4.mul(v0, v128.load(m0 + j)), f32x4.mul(v1, v128.load(m1 + j))),
          f32x4.add(f32x4.mul(v2, v128.load(m2 + j)), f32x4.mul(v3, v128.load(m3 + j))),
        );
        const b = f32x4.add(
          f32x4.add(f32x4.mul(v4, v128.load(m4 + j)), f32x4.mul(v5, v128.load(m5 + j))),
          f32x4.add(f32x4.mul(v6, v128.load(m6 + j)), f32x4.mul(v7, v128.load(m7 + j))),
        );
        v128.store(o + j, f32x4.add(v128.load(o + j), f32x4.add(a, b)));
      }
      for (; j < rowBytes; j += 4) {
        const a = s0 * load<f32>(m0 + j) + s1 * load<f32>(m1 + j) + s2 * load<f32>(m2 + j) + s3 * load<f32>(m3 + j);
        const b = s4 * load<f32>(m4 + j) + s5 * load<f32>(m5 + j) + s6 * load<f32>(m6 + j) + s7 * load<f32>(m7 + j);
        store<f32>(o + j, load<f32>(o + j) + (a + b));
      }
    }
    for (; e < end; e++) {
      const s = load<f32>(val + (<usize>e << 2));
      const v = f32x4.splat(s);
      const m0 = m + <usize>load<i32>(idx + (<usize>e << 2)) * rowBytes;
      let j: usize = 0;
      const end4 = <usize>d4 << 2;
      for (; j < end4; j += 16) v128.store(o + j, f32x4.add(v128.load(o + j), f32x4.mul(v, v128.load(m0 + j))));
      for (; j < rowBytes; j += 4) store<f32>(o + j, load<f32>(o + j) + s * load<f32>(m0 + j));
    }
  }
}

/** out[e] = A[r,:]·B[colIdx[e],:] for the entries e of rows r0 ≤ r < r1 (rowPtr/colIdx: the pattern's CSR). */
export function sampledDots(rowPtr: usize, colIdx: usize, a: usize, b: usize, d: i32, out: usize, r0: i32, r1: i32): void {
  const rowBytes = (<usize>d) << 2;
  const end16 = (<usize>(d & ~15)) << 2;
  const end4 = (<usize>(d & ~3)) << 2;
  for (let r = r0; r < r1; r++) {
    const x = a + <usize>r * rowBytes;
    const eEnd = load<i32>(rowPtr + (<usize>(r + 1) << 2));
    for (let e = load<i32>(rowPtr + (<usize>r << 2)); e < eEnd; e++) {
      const y = b + <usize>load<i32>(colIdx + (<usize>e << 2)) * rowBytes;
      let c0 = f32x4.splat(0);
      let c1 = f32x4.splat(0);
      let c2 = f32x4.splat(0);
      let c3 = f32x4.splat(0);
      let j: usize = 0;
      for (; j < end16; j += 64) {
        c0 = f32x4.add(c0, f32x4.mul(v128.load(x + j), v128.load(y + j)));
        c1 = f32x4.add(c1, f32x4.mul(v128.load(x + j, 16), v128.load(y + j, 16)));
        c2 = f32x4.add(c2, f32x4.mul(v128.load(x + j, 32), v128.load(y + j, 32)));
        c3 = f32x4.add(c3, f32x4.mul(v128.load(x + j, 48), v128.load(y + j, 48)));
      }
      for (; j < end4; j += 16) c0 = f32x4.add(c0, f32x4.mul(v128.load(x + j), v128.load(y + j)));
      const c = f32x4.add(f32x4.add(c0, c1), f32x4.add(c2, c3));
      let s = f32x4.extract_lane(c, 0) + f32x4.extract_lane(c, 1) + (f32x4.extract_lane(c, 2) + f32x4.extract_lane(c, 3));
      for (; j < rowBytes; j += 4) s += load<f32>(x + j) * load<f32>(y + j);
      store<f32>(out + (<usize>e << 2), s);
    }
  }
}

/**
 * Rows r0 ≤ r < r1 of k unordered candidates (columns idx, values val, scores score: [rows × k]) to
 * ascending columns, keeping those with score > 0: row r's kept entries go to outCols/outVals at r·k and
 * their number to count[r]. Insertion sort per row (k is a few dozen to a few hundred, columns distinct).
 */
export function sortCandidates(idx: usize, val: usize, score: usize, k: i32, r0: i32, r1: i32, outCols: usize, outVals: usize, count: usize): void {
  for (let r = r0; r < r1; r++) {
    const base = (<usize>r * <usize>k) << 2;
    const oc = outCols + base;
    const ov = outVals + base;
    let m = 0;
    for (let e = 0; e < k; e++) {
      const at = base + (<usize>e << 2);
      if (!(load<f32>(score + at) > 0)) continue;
      const c = load<i32>(idx + at);
      const v = load<f32>(val + at);
      let i = m++;
      while (i > 0) {
        const prev = load<i32>(oc + (<usize>(i - 1) << 2));
        if (prev <= c) break;
        store<i32>(oc + (<usize>i << 2), prev);
        store<f32>(ov + (<usize>i << 2), load<f32>(ov + (<usize>(i - 1) << 2)));
        i--;
      }
      store<i32>(oc + (<usize>i << 2), c);
      store<f32>(ov + (<usize>i << 2), v);
    }
    store<i32>(count + (<usize>r << 2), m);
  }
}

/**
 * The nonzero entries of a CSR matrix (rows, rowPtr, colIdx, values) grouped by column: colPtr [cols + 1]
 * (must come in zeroed), rowOf and valueOf in row order within each column; next: cols ints of scratch.
 * Returns the number of entries kept (stored zeros are dropped, as sparseKernels.ts byColumn).
 */
export function byColumn(rows: i32, cols: i32, rowPtr: usize, colIdx: usize, values: usize, colPtr: usize, rowOf: usize, valueOf: usize, next: usize): i32 {
  const nnz = load<i32>(rowPtr + (<usize>rows << 2));
  for (let e = 0; e < nnz; e++) {
    if (load<f32>(values + (<usize>e << 2)) == 0) continue;
    const at = colPtr + (<usize>(load<i32>(colIdx + (<usize>e << 2)) + 1) << 2);
    store<i32>(at, load<i32>(at) + 1);
  }
  let run = 0;
  for (let c = 0; c < cols; c++) {
    store<i32>(next + (<usize>c << 2), run);
    run += load<i32>(colPtr + (<usize>(c + 1) << 2));
    store<i32>(colPtr + (<usize>(c + 1) << 2), run);
  }
  for (let r = 0; r < rows; r++) {
    const end = load<i32>(rowPtr + (<usize>(r + 1) << 2));
    for (let e = load<i32>(rowPtr + (<usize>r << 2)); e < end; e++) {
      const v = load<f32>(values + (<usize>e << 2));
      if (v == 0) continue;
      const slot = next + (<usize>load<i32>(colIdx + (<usize>e << 2)) << 2);
      const at = load<i32>(slot);
      store<i32>(slot, at + 1);
      store<i32>(rowOf + (<usize>at << 2), r);
      store<f32>(valueOf + (<usize>at << 2), v);
    }
  }
  return run;
}

/**
 * dst [cols × rows] = src [rows × cols]ᵀ (float32, no overlap): 4 × 4 tiles transposed in registers, a
 * scalar loop for the edges. Walking the source by rows keeps the 4·cols destination lines of a tile row
 * in cache while consecutive tiles fill them.
 */
export function transpose(src: usize, rows: i32, cols: i32, dst: usize): void {
  const r4 = rows & ~3;
  const c4 = cols & ~3;
  const srcRow = (<usize>cols) << 2;
  const dstRow = (<usize>rows) << 2;
  for (let r = 0; r < r4; r += 4) {
    const s0 = src + <usize>r * srcRow;
    const s1 = s0 + srcRow;
    const s2 = s1 + srcRow;
    const s3 = s2 + srcRow;
    const dr = dst + (<usize>r << 2);
    for (let c = 0; c < c4; c += 4) {
      const off = <usize>c << 2;
      const a = v128.load(s0 + off);
      const b = v128.load(s1 + off);
      const e = v128.load(s2 + off);
      const f = v128.load(s3 + off);
      const ab0 = v128.shuffle<i32>(a, b, 0, 4, 1, 5); // a0 b0 a1 b1
      const ab1 = v128.shuffle<i32>(a, b, 2, 6, 3, 7); // a2 b2 a3 b3
      const ef0 = v128.shuffle<i32>(e, f, 0, 4, 1, 5);
      const ef1 = v128.shuffle<i32>(e, f, 2, 6, 3, 7);
      const d0 = dr + <usize>c * dstRow;
      v128.store(d0, v128.shuffle<i64>(ab0, ef0, 0, 2));
      v128.store(d0 + dstRow, v128.shuffle<i64>(ab0, ef0, 1, 3));
      v128.store(d0 + 2 * dstRow, v128.shuffle<i64>(ab1, ef1, 0, 2));
      v128.store(d0 + 3 * dstRow, v128.shuffle<i64>(ab1, ef1, 1, 3));
    }
    for (let c = c4; c < cols; c++) {
      const d0 = dr + <usize>c * dstRow;
      const off = <usize>c << 2;
      store<f32>(d0, load<f32>(s0 + off));
      store<f32>(d0, load<f32>(s1 + off), 4);
      store<f32>(d0, load<f32>(s2 + off), 8);
      store<f32>(d0, load<f32>(s3 + off), 12);
    }
  }
  for (let r = r4; r < rows; r++) {
    const s = src + <usize>r * srcRow;
    for (let c = 0; c < cols; c++) store<f32>(dst + <usize>c * dstRow + (<usize>r << 2), load<f32>(s + (<usize>c << 2)));
  }
}
