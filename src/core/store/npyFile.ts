// Streaming access to float32 [N, d] .npy files: only the header is parsed up front, rows are read
// with positioned reads, so a file larger than RAM works. Writing streams too (header, then rows).
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

export interface NpyMatrixInfo {
  readonly rows: number;
  readonly cols: number;
  /** Byte offset of the first value. */
  readonly dataOffset: number;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

export function readNpyMatrixInfo(path: string): NpyMatrixInfo {
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(12);
    const n = readSync(fd, head, 0, 12, 0);
    if (n < 10 || MAGIC.some((b, i) => head[i] !== b)) throw new Error(`${path} is not a .npy file`);
    const major = head[6];
    const headerLen = major === 1 ? head.readUInt16LE(8) : head.readUInt32LE(8);
    const prefix = major === 1 ? 10 : 12;
    if (headerLen > 1 << 20) throw new Error(`${path}: .npy header of ${headerLen} bytes is implausible`);
    const headerBytes = Buffer.alloc(headerLen);
    readSync(fd, headerBytes, 0, headerLen, prefix);
    const header = headerBytes.toString('latin1');
    const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
    const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
    const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
    if (descr !== '<f4' && descr !== '=f4') throw new Error(`${path}: expected float32 ('<f4') data, found ${descr ?? 'no dtype'}`);
    if (fortran !== 'False') throw new Error(`${path}: Fortran-ordered arrays are not supported; save it C-ordered`);
    const shape = (shapeText ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s.length > 0)
      .map(Number);
    if (shape.length !== 2 || !shape.every((v) => Number.isInteger(v) && v >= 0)) {
      throw new Error(`${path}: expected a 2-D [N, d] array, found shape (${shapeText ?? '?'})`);
    }
    const [rows, cols] = shape;
    const dataOffset = prefix + headerLen;
    const size = fstatSync(fd).size;
    if (size < dataOffset + rows * cols * 4) {
      throw new Error(`${path}: header promises ${rows}×${cols} float32 values but the file holds ${size - dataOffset} data bytes`);
    }
    return { rows, cols, dataOffset };
  } finally {
    closeSync(fd);
  }
}

/** A version-1 .npy header for a C-ordered little-endian float32 array, padded to 64 bytes. */
export function npyFloat32Header(shape: readonly number[]): Uint8Array {
  const dims = shape.length === 1 ? `${shape[0]},` : shape.join(', ');
  let dict = `{'descr': '<f4', 'fortran_order': False, 'shape': (${dims}), }`;
  const total = 10 + dict.length + 1;
  dict += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const out = new Uint8Array(10 + dict.length);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, dict.length, true);
  for (let i = 0; i < dict.length; i++) out[10 + i] = dict.charCodeAt(i);
  return out;
}
