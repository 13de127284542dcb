// Everything about numpy .npy files, in one place: the strict header parser, float decoding (any float
// dtype, either byte order, C or Fortran order) for activations files and the arrays inside Gemma Scope
// npz checkpoints, streamed row access to large [N, d] files, and the writers (whole arrays and streamed).
// The header dict is matched field by field and never evaluated; every declared size is checked against
// the data and the caller's limits before anything is allocated.
import { closeSync, fstatSync, fsyncSync, openSync, readFileSync, readSync, writeFileSync, writeSync } from 'node:fs';
import { checkShape, type LoadLimits } from './checkpoints/limits';
import { halfToFloat, matrix, type Matrix } from './tensor';

const MAGIC = Uint8Array.of(0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59); // \x93NUMPY
/** Headers numpy writes are a few hundred bytes; anything near this is not an array header. */
const MAX_HEADER_BYTES = 1 << 20;

export class NpyError extends Error {
  constructor(
    readonly where: string,
    readonly problem: string,
  ) {
    super(`${where}: ${problem}`);
    this.name = 'NpyError';
  }
}

// ---------------------------------------------------------------------------------------------- writing

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

export function writeNpyMatrix(path: string, m: Matrix): void {
  writeFileSync(path, encodeNpy(m.data, [m.rows, m.cols]));
}

/**
 * Writes a float32 [rows, cols] .npy whose body arrives in pieces (so it may be larger than memory):
 * `fill` receives a function that appends raw little-endian float32 bytes. The byte count is checked and
 * the file fsynced before returning.
 */
export function writeNpyStreamed(path: string, rows: number, cols: number, fill: (append: (bytes: Uint8Array) => void) => void): void {
  const out = openSync(path, 'w');
  try {
    writeSync(out, encodeNpyHeader([rows, cols]));
    let written = 0;
    fill((bytes) => {
      writeSync(out, bytes);
      written += bytes.length;
    });
    if (written !== rows * cols * 4) throw new Error(`${path}: wrote ${written} data bytes, the header promises ${rows * cols * 4}`);
    fsyncSync(out);
  } finally {
    closeSync(out);
  }
}

// ---------------------------------------------------------------------------------------------- header

/** Element types read as float32. '=' (native) is little-endian on every platform Node runs this on. */
const FLOAT_TYPES: Readonly<Record<string, { readonly kind: 'f2' | 'f4' | 'f8'; readonly bytes: number }>> = {
  f2: { kind: 'f2', bytes: 2 },
  f4: { kind: 'f4', bytes: 4 },
  f8: { kind: 'f8', bytes: 8 },
};

export interface NpyHeader {
  /** numpy dtype string as written, e.g. '<f4'. */
  readonly descr: string;
  readonly shape: number[];
  /** Column-major data (numpy's fortran_order True): element [i, j] of an [r, c] array is at j·r + i. */
  readonly fortranOrder: boolean;
  /** Byte offset of the data section. */
  readonly dataOffset: number;
}

/**
 * The header of a .npy (versions 1–3): the dict is matched field by field, never evaluated. The data
 * section is not looked at: callers check its size against the shape (and their own bounds) before
 * allocating anything.
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
  const maxHeader = options.maxHeaderBytes ?? MAX_HEADER_BYTES;
  if (headerLen > maxHeader) throw new NpyError(where, `the header declares ${headerLen} bytes, more than the ${maxHeader} accepted`);
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
  if (!descr.startsWith("'")) throw new NpyError(where, `descr ${descr} is not a simple dtype string (structured arrays are not supported)`);
  const inner = shapeText.slice(1, -1).trim();
  const parts = inner === '' ? [] : inner.split(',').map((p) => p.trim());
  if (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  const shape = parts.map((p) => {
    if (!/^\d+$/.test(p)) throw new NpyError(where, `bad shape entry "${p}" in ${shapeText}: the shape is not a tuple of integers`);
    return Number(p);
  });
  return { descr: descr.slice(1, -1), shape, fortranOrder: fortran === 'True', dataOffset: headerStart + headerLen };
}

interface FloatLayout {
  readonly kind: 'f2' | 'f4' | 'f8';
  readonly bytes: number;
  readonly littleEndian: boolean;
}

/** The float layout of a descr ('<f4', '>f8', '=f2', …); anything else is refused by name. */
function floatLayout(descr: string, where: string): FloatLayout {
  const order = descr[0];
  const type = FLOAT_TYPES[descr.slice(1)];
  if (!type || (order !== '<' && order !== '>' && order !== '=')) {
    throw new NpyError(where, `dtype '${descr}' is not supported; float16, float32 and float64 ('<f2', '<f4', '<f8', either byte order) are`);
  }
  return { ...type, littleEndian: order !== '>' };
}

function readFloat(view: DataView, layout: FloatLayout, index: number): number {
  switch (layout.kind) {
    case 'f4':
      return view.getFloat32(index * 4, layout.littleEndian);
    case 'f8':
      return view.getFloat64(index * 8, layout.littleEndian);
    case 'f2':
      return halfToFloat(view.getUint16(index * 2, layout.littleEndian));
  }
}


// ---------------------------------------------------------------------------------------------- decoding

export interface NpyArray {
  readonly shape: number[];
  /** Row-major (C order) float32, whatever the file's dtype, byte order and order were. */
  readonly data: Float32Array;
}

export interface NpyDecodeOptions {
  /** Bounds on the declared shape, checked before anything is allocated (checkpoints pass theirs). */
  readonly limits?: LoadLimits;
}

/**
 * A float .npy as row-major float32. float16 and float32 convert exactly, float64 is rounded. Big-endian
 * data is byte-swapped. A Fortran-order array is transposed while it is read (one output array, no
 * intermediate copy), so an array numpy saved from a transposed view reads as the same matrix.
 */
export function decodeNpy(bytes: Uint8Array, where = '.npy', options: NpyDecodeOptions = {}): NpyArray {
  const header = parseNpyHeader(bytes, where);
  const layout = floatLayout(header.descr, where);
  const { shape, dataOffset } = header;
  let count: number;
  if (options.limits) {
    try {
      count = checkShape(where, shape, options.limits);
    } catch (err) {
      throw new NpyError(where, (err as Error).message.replace(`${where}: `, ''));
    }
  } else {
    count = shape.reduce((a, b) => a * b, 1);
  }
  const need = count * layout.bytes;
  const available = bytes.length - dataOffset;
  if (available !== need) {
    throw new NpyError(
      where,
      `shape (${shape.join(', ')}) needs ${need} bytes of data but the file has ${available}: ${available < need ? 'truncated' : 'the header does not match the data'}`,
    );
  }
  const data = new Float32Array(count);
  const view = new DataView(bytes.buffer, bytes.byteOffset + dataOffset, need);
  if (!header.fortranOrder || shape.length < 2) {
    for (let i = 0; i < count; i++) data[i] = readFloat(view, layout, i);
  } else {
    // Fortran order: the first index varies fastest. Walk the file in order and place each element at its
    // row-major position (strides of the reversed shape).
    const strides = rowMajorStrides(shape);
    const index = new Array<number>(shape.length).fill(0);
    let dest = 0;
    for (let i = 0; i < count; i++) {
      data[dest] = readFloat(view, layout, i);
      for (let axis = 0; axis < shape.length; axis++) {
        index[axis]++;
        dest += strides[axis];
        if (index[axis] < shape[axis]) break;
        dest -= strides[axis] * shape[axis];
        index[axis] = 0;
      }
    }
  }
  return { shape: [...shape], data };
}

function rowMajorStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let axis = shape.length - 1; axis >= 0; axis--) {
    strides[axis] = s;
    s *= shape[axis];
  }
  return strides;
}

/** A 2-D float .npy file as a Matrix (a 1-D array is refused: say which axis is which). */
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

// ---------------------------------------------------------------------------------------------- streamed rows

export interface NpyMatrixInfo {
  readonly rows: number;
  readonly cols: number;
  /** Byte offset of the first value. */
  readonly dataOffset: number;
}

/**
 * The layout of a float32 [N, d] .npy read row by row with positioned reads (training and evaluation
 * stream files larger than RAM). Only the header is read. Rows must be contiguous, so only C-order
 * little-endian float32 is streamed; other layouts get a message saying how to convert them.
 */
export function readNpyMatrixInfo(path: string): NpyMatrixInfo {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    // Version 1 stores the header length in 2 bytes, versions 2–3 in 4; parseNpyHeader checks the rest.
    const prefix = Buffer.alloc(12);
    const got = readSync(fd, prefix, 0, 12, 0);
    const headerEnd = got < 10 ? got : prefix[6] === 1 ? 10 + prefix.readUInt16LE(8) : 12 + prefix.readUInt32LE(8);
    const headBytes = Buffer.alloc(Math.min(size, headerEnd, 12 + MAX_HEADER_BYTES));
    readSync(fd, headBytes, 0, headBytes.length, 0);
    const header = parseNpyHeader(headBytes, path);
    if (header.descr !== '<f4' && header.descr !== '=f4') {
      throw new NpyError(path, `expected little-endian float32 ('<f4') data to stream, found '${header.descr}' (convert with arr.astype('<f4'))`);
    }
    if (header.shape.length !== 2) throw new NpyError(path, `expected a 2-D [N, d] array, found shape (${header.shape.join(', ')})`);
    if (header.fortranOrder && header.shape[0] > 1 && header.shape[1] > 1) {
      throw new NpyError(path, 'is in Fortran (column-major) order, so its rows cannot be streamed; save it with np.save(path, np.ascontiguousarray(arr))');
    }
    const [rows, cols] = header.shape;
    const { dataOffset } = header;
    if (size < dataOffset + rows * cols * 4) {
      throw new NpyError(path, `header promises ${rows}×${cols} float32 values but the file holds ${size - dataOffset} data bytes`);
    }
    return { rows, cols, dataOffset };
  } finally {
    closeSync(fd);
  }
}
