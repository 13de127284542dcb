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
