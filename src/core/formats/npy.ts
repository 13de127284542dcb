// Strict .npy parsing: the header dict is matched field by field (never evaluated), only little-endian
// C-order floats are accepted, and the declared shape is checked before the data is converted.

import { checkShape, DEFAULT_LIMITS, formatError, type LoadLimits } from '../checkpoints/limits';
import { toFloat32, type DType } from '../checkpoints/dtypes';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];

const DESCR: Record<string, DType> = { '<f4': 'F32', '<f2': 'F16', '<f8': 'F64', '<i4': 'I32', '<i8': 'I64', '|u1': 'U8' };
const ITEM: Record<DType, number> = { F32: 4, F16: 2, F64: 8, I32: 4, I64: 8, U8: 1 } as Record<DType, number>;

export interface NpyHeader {
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly dataOffset: number;
}

export function parseNpyHeader(bytes: Uint8Array, where: string, limits: LoadLimits = DEFAULT_LIMITS): NpyHeader {
  const maxHeader = Math.min(1 << 20, limits.maxHeaderBytes);
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) throw formatError(where, 'is not a .npy file (bad magic)');
  const major = bytes[6];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLen: number;
  let start: number;
  if (major === 1) {
    headerLen = view.getUint16(8, true);
    start = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) throw formatError(where, 'truncated .npy header');
    headerLen = view.getUint32(8, true);
    start = 12;
  } else throw formatError(where, `unsupported .npy version ${major}`);
  if (start + headerLen > bytes.length || headerLen > maxHeader) throw formatError(where, `.npy header length ${headerLen} runs past the file`);
  const text = new TextDecoder('latin1').decode(bytes.subarray(start, start + headerLen));

  const descr = /'descr'\s*:\s*'([^']*)'/.exec(text);
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(text);
  const shape = /'shape'\s*:\s*\(([^()]*)\)/.exec(text);
  if (!descr || !fortran || !shape) throw formatError(where, `.npy header is not a plain {descr, fortran_order, shape} dict: ${text.trim()}`);
  const rest = text.replace(descr[0], '').replace(fortran[0], '').replace(shape[0], '');
  if (!/^\s*\{[\s,]*\}\s*$/.test(rest)) throw formatError(where, `.npy header has unexpected content: ${text.trim()}`);
  if (fortran[1] === 'True') throw formatError(where, '.npy data is in Fortran (column-major) order, which is not supported; save it C-ordered');
  if (descr[1].startsWith('>')) throw formatError(where, `.npy data is big-endian (${descr[1]}), which is not supported; save it little-endian`);
  const dtype = DESCR[descr[1]];
  if (!dtype) throw formatError(where, `.npy dtype ${descr[1]} is not supported (float32, float16, float64 are)`);
  const dimsText = shape[1].trim();
  const dims = dimsText === '' ? [] : dimsText.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (!dims.every((d) => /^\d+$/.test(d))) throw formatError(where, `.npy shape (${shape[1]}) is not a tuple of integers`);
  const shapeNums = dims.map(Number);
  checkShape(where, shapeNums, limits);
  return { dtype, shape: shapeNums, dataOffset: start + headerLen };
}

export function parseNpy(bytes: Uint8Array, where: string, limits: LoadLimits = DEFAULT_LIMITS): { shape: number[]; data: Float32Array } {
  const h = parseNpyHeader(bytes, where, limits);
  const count = checkShape(where, h.shape, limits);
  const need = count * ITEM[h.dtype];
  const have = bytes.length - h.dataOffset;
  if (have !== need) throw formatError(where, `.npy declares shape (${h.shape.join(', ')}) = ${need} bytes but holds ${have}`);
  return { shape: [...h.shape], data: toFloat32(h.dtype, bytes.subarray(h.dataOffset), count) };
}
