// IEEE half-precision conversion, the one copy: f16 checkpoints and .npy files are read into float32,
// fp16 models' activations reach the SAE (which runs in fp32) as float32, and splice replacements go back
// into the graph as float16.

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** float16 bits → number (exact: every f16 value is representable in f32). */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** number → float16 bits, rounding to nearest even (overflow gives ±Infinity). */
export function floatToHalf(v: number): number {
  f32[0] = v;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >> shift;
    const rest = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rest > mid || (rest === mid && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && half & 1)) half++;
  e = half >> 10;
  return sign | (e >= 31 ? 0x7c00 : half);
}

/** float32 copy of float16 tensor data (Uint16Array bits, or a Float16Array where the runtime has one). */
export function halfDataToFloat32(data: ArrayLike<number>, start: number, end: number): Float32Array {
  const out = new Float32Array(end - start);
  if (data instanceof Uint16Array) for (let i = start; i < end; i++) out[i - start] = halfToFloat(data[i]);
  else for (let i = start; i < end; i++) out[i - start] = data[i];
  return out;
}
