// WebAssembly SIMD (f32x4) passes over dense per-parameter arrays: Adam, and Adam fused with the unit-norm
// decoder's row work. AssemblyScript, compiled by tools/build-wasm.mjs into
// src/core/tensor/wasm/densePassesWasm.ts; src/core/tensor/wasmAdam.ts lays the arrays out in the
// (imported, unshared) memory and passes byte offsets. No allocation here. Arrays are float32; the
// arithmetic is float64 (f64x2), operation for operation and in the order of src/core/train/adam.ts and
// src/core/sae/model.ts, so the results are the JavaScript ones bit for bit (IEEE-754 operations are
// exactly rounded and neither side fuses multiply-adds).

/** Two float32 at a as float64 lanes. */
function load2(a: usize): v128 {
  return f64x2.promote_low_f32x4(v128.load64_zero(a));
}

/** Two float64 lanes rounded to float32 at a. */
function store2(a: usize, x: v128): void {
  v128.store64_lane(a, f32x4.demote_f64x2_zero(x), 0);
}

/**
 * One Adam update of n floats: m = β1·m + (1 − β1)·g; v = β2·v + (1 − β2)·g·g; p −= step·m / (√v / √c2 + ε),
 * with m and v used unrounded in p's update (as adam.ts does).
 */
export function adam(p: usize, g: usize, m: usize, v: usize, n: i32, beta1: f64, beta2: f64, stepSize: f64, sqrtC2: f64, eps: f64): void {
  const b1 = f64x2.splat(beta1);
  const a1 = f64x2.splat(1 - beta1);
  const b2 = f64x2.splat(beta2);
  const a2 = f64x2.splat(1 - beta2);
  const st = f64x2.splat(stepSize);
  const sq = f64x2.splat(sqrtC2);
  const ep = f64x2.splat(eps);
  const end2 = (<usize>(n & ~1)) << 2;
  let i: usize = 0;
  for (; i < end2; i += 8) {
    const gi = load2(g + i);
    const mi = f64x2.add(f64x2.mul(b1, load2(m + i)), f64x2.mul(a1, gi));
    const vi = f64x2.add(f64x2.mul(b2, load2(v + i)), f64x2.mul(f64x2.mul(a2, gi), gi));
    store2(m + i, mi);
    store2(v + i, vi);
    store2(p + i, f64x2.sub(load2(p + i), f64x2.div(f64x2.mul(st, mi), f64x2.add(f64x2.div(f64x2.sqrt(vi), sq), ep))));
  }
  const end = (<usize>n) << 2;
  for (; i < end; i += 4) {
    const gi = <f64>load<f32>(g + i);
    const mi = beta1 * <f64>load<f32>(m + i) + (1 - beta1) * gi;
    const vi = beta2 * <f64>load<f32>(v + i) + (1 - beta2) * gi * gi;
    store<f32>(m + i, <f32>mi);
    store<f32>(v + i, <f32>vi);
    store<f32>(p + i, <f32>(<f64>load<f32>(p + i) - (stepSize * mi) / (Math.sqrt(vi) / sqrtC2 + eps)));
  }
}

/** Σ a[i]·b[i] over n floats, summed in float64 in index order. */
function dot(a: usize, b: usize, n: i32): f64 {
  let s: f64 = 0;
  const end = (<usize>n) << 2;
  for (let i: usize = 0; i < end; i += 4) s += <f64>load<f32>(a + i) * <f64>load<f32>(b + i);
  return s;
}

/**
 * A unit-norm decoder's step, row by row ([rows × cols] p, g, m, v): the gradient loses its component
 * along the (unit) row, the row takes its Adam update, and is scaled back to unit norm (a zero row stays
 * zero). Row by row this is model.ts removeParallelComponent, Adam, then normalizeRows.
 */
export function adamUnitRows(p: usize, g: usize, m: usize, v: usize, rows: i32, cols: i32, beta1: f64, beta2: f64, stepSize: f64, sqrtC2: f64, eps: f64): void {
  const rowBytes = (<usize>cols) << 2;
  const end2 = (<usize>(cols & ~1)) << 2;
  for (let r = 0; r < rows; r++) {
    const pr = p + <usize>r * rowBytes;
    const gr = g + <usize>r * rowBytes;
    const d = dot(pr, gr, cols);
    const dv = f64x2.splat(d);
    let j: usize = 0;
    for (; j < end2; j += 8) store2(gr + j, f64x2.sub(load2(gr + j), f64x2.mul(dv, load2(pr + j))));
    for (; j < rowBytes; j += 4) store<f32>(gr + j, <f32>(<f64>load<f32>(gr + j) - d * <f64>load<f32>(pr + j)));
    adam(pr, gr, m + <usize>r * rowBytes, v + <usize>r * rowBytes, cols, beta1, beta2, stepSize, sqrtC2, eps);
    const s = dot(pr, pr, cols);
    const inv: f64 = s > 0 ? 1 / Math.sqrt(s) : 0;
    const iv = f64x2.splat(inv);
    j = 0;
    for (; j < end2; j += 8) store2(pr + j, f64x2.mul(load2(pr + j), iv));
    for (; j < rowBytes; j += 4) store<f32>(pr + j, <f32>(<f64>load<f32>(pr + j) * inv));
  }
}
