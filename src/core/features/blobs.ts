// Typed arrays as SQLite blobs (little-endian, as every platform VS Code runs on stores them).

export function blobOf(a: Float32Array | Float64Array | Int32Array | Uint32Array | Uint8Array): Uint8Array {
  return new Uint8Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength));
}

function copy(b: Uint8Array): ArrayBuffer {
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
}

export const f32 = (b: Uint8Array) => new Float32Array(copy(b));
export const f64 = (b: Uint8Array) => new Float64Array(copy(b));
export const i32 = (b: Uint8Array) => new Int32Array(copy(b));
export const u32 = (b: Uint8Array) => new Uint32Array(copy(b));
