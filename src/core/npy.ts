// Float32 .npy files ([rows, cols] or any C-order shape), the interchange format for activations between
// the CLI (`activations --out acts.npy`) and the SAE trainer. The reader is strict: version 1–3, dtype
// '<f4', fortran_order False, a plain header dict, and a data section whose size matches the shape exactly.
import { readFileSync, writeFileSync } from 'node:fs';
import { matrix, type Matrix } from './tensor';

const MAGIC = Uint8Array.of(0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59); // \x93NUMPY

export class NpyError extends Error {
  constructor(
    readonly where: string,
    readonly problem: string,
  ) {
    super(`${where}: ${problem}`);
    this.name = 'NpyError';
  }
}

/** A version-1.0 .npy header (magic through padding) for C-ordered little-endian float32 data of `shape`. */
export function encodeNpyHeader(shape: readonly number[]): Uint8Array {
  if (shape.some((d) => !Number.isInteger(d) || d < 0)) throw new Error(`npy: bad shape [${shape.join(', ')}]`);
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shapeText}, }`;
  // Magic (6) + version (2) + length (2) + header + '\n' must be a multiple of 64.
  const pad = 64 - ((10 + header.length + 1) % 64);
  header += ' '.repeat(pad % 64) + '\n';
  const out = new Uint8Array(10 + header.length);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  return out;
}

/** The bytes of a version-1.0 .npy file holding `data` (float32, little-endian, C order) with `shape`. */
export function encodeNpy(data: Float32Array, shape: readonly number[]): Uint8Array {
  const header = encodeNpyHeader(shape);
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== data.length) throw new Error(`npy: ${data.length} values do not fill shape [${shape.join(', ')}]`);
  const out = new Uint8Array(header.length + data.length * 4);
  out.set(header, 0);
  const body = new DataView(out.buffer, header.length);
  for (let i = 0; i < data.length; i++) body.setFloat32(4 * i, data[i], true);
  return out;
}

export interface NpyArray {
  readonly shape: number[];
  readonly data: Float32Array;
}

export interface NpyHeader {
  /** numpy dtype string as written, e.g. '<f4'. */
  readonly descr: string;
  readonly shape: number[];
  /** Byte offset of the data section. */
  readonly dataOffset: number;
}

/**
 * The header of any C-order little-endian .npy (versions 1–3): the dict is matched field by field, never
 * evaluated; Fortran order and big-endian data are refused. The data section is not looked at: callers
 * check its size against the shape (and their own bounds) before allocating anything.
 */
export function parseNpyHeader(bytes: Uint8Array, where = '.npy', options: { maxHeaderBytes?: number } = {}): NpyHeader {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) throw new NpyError(where, 'not a .npy file (bad magic bytes)');
  const major = bytes[6];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerStart: number;
  let headerLen: number;
  if (major === 1) {
    headerStart = 10;
    headerLen = view.getUint16(8, true);
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) throw new NpyError(where, 'truncated .npy header');
    headerStart = 12;
    headerLen = view.getUint32(8, true);
  } else {
    throw new NpyError(where, `unsupported .npy format version ${major}.${bytes[7]}`);
  }
  if (options.maxHeaderBytes !== undefined && headerLen > options.maxHeaderBytes) {
    throw new NpyError(where, `the header declares ${headerLen} bytes, more than the ${options.maxHeaderBytes} accepted`);
  }
  if (headerStart + headerLen > bytes.length) throw new NpyError(where, `the header (${headerLen} bytes) runs past the end of the file: truncated`);
  const header = new TextDecoder('latin1').decode(bytes.subarray(headerStart, headerStart + headerLen)).trim();
  const m = /^\{\s*(.*?)\s*,?\s*\}$/s.exec(header);
  if (!m) throw new NpyError(where, `the header is not a dict: ${header}`);
  const fields = new Map<string, string>();
  const fieldRe = /'(descr|fortran_order|shape)'\s*:\s*('[^']*'|True|False|\([^()]*\))\s*(,|$)/gy;
  let pos = 0;
  const body = m[1];
  while (pos < body.length) {
    fieldRe.lastIndex = pos;
    const f = fieldRe.exec(body);
    if (!f) throw new NpyError(where, `unexpected header content at "${body.slice(pos, pos + 30)}"`);
    if (fields.has(f[1])) throw new NpyError(where, `header field '${f[1]}' appears twice`);
    fields.set(f[1], f[2]);
    pos = fieldRe.lastIndex;
    while (pos < body.length && body[pos] === ' ') pos++;
  }
  const descr = fields.get('descr');
  const fortran = fields.get('fortran_order');
  const shapeText = fields.get('shape');
  if (!descr || !fortran || !shapeText) throw new NpyError(where, `the header lacks descr, fortran_order or shape: ${header}`);
  if (descr.startsWith("'>")) throw new NpyError(where, `big-endian data (${descr}) is not supported; save it little-endian`);
  if (fortran !== 'False') throw new NpyError(where, 'Fortran-order arrays are not supported; save in C order');
  const inner = shapeText.slice(1, -1).trim();
  const parts = inner === '' ? [] : inner.split(',').map((p) => p.trim());
  if (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  const shape = parts.map((p) => {
    if (!/^\d+$/.test(p)) throw new NpyError(where, `bad shape entry "${p}" in ${shapeText}: the shape is not a tuple of integers`);
    return Number(p);
  });
  return { descr: descr.slice(1, -1), shape, dataOffset: headerStart + headerLen };
}

/** Parse a float32 .npy; anything else (other dtype, big-endian, Fortran order, size mismatch) is refused. */
export function decodeNpy(bytes: Uint8Array, where = '.npy'): NpyArray {
  const { descr, shape, dataOffset } = parseNpyHeader(bytes, where);
  if (descr !== '<f4') throw new NpyError(where, `dtype '${descr}' is not supported; only float32 '<f4'`);
  const count = shape.reduce((a, b) => a * b, 1);
  const available = bytes.length - dataOffset;
  if (available !== count * 4) {
    throw new NpyError(
      where,
      `shape (${shape.join(', ')}) needs ${count * 4} bytes of data but the file has ${available}: ${available < count * 4 ? 'truncated' : 'the header does not match the data'}`,
    );
  }
  const data = new Float32Array(count);
  const dv = new DataView(bytes.buffer, bytes.byteOffset + dataOffset, count * 4);
  for (let i = 0; i < count; i++) data[i] = dv.getFloat32(4 * i, true);
  return { shape, data };
}

export function writeNpyMatrix(path: string, m: Matrix): void {
  writeFileSync(path, encodeNpy(m.data, [m.rows, m.cols]));
}

/** A 2-D float32 .npy as a Matrix (a 1-D array is refused: say which axis is which). */
export function readNpyMatrix(path: string): Matrix {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new NpyError(path, `cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  const a = decodeNpy(bytes, path);
  if (a.shape.length !== 2) throw new NpyError(path, `expected a 2-D [rows, cols] array, got shape (${a.shape.join(', ')})`);
  return matrix(a.shape[0], a.shape[1], a.data);
}
