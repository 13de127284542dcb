// .npy arrays inside checkpoints (Gemma Scope npz): the strict header parser of src/core/npy.ts, plus the
// checkpoint rules: several float dtypes converted to float32, shapes bounded by the load limits, and the
// data size checked against the shape before anything is converted.

import { checkShape, DEFAULT_LIMITS, formatError, type LoadLimits } from '../checkpoints/limits';
import { toFloat32, type DType } from '../checkpoints/dtypes';
import { NpyError, parseNpyHeader as parseHeader } from '../npy';

const DESCR: Record<string, DType> = { '<f4': 'F32', '<f2': 'F16', '<f8': 'F64', '<i4': 'I32', '<i8': 'I64', '|u1': 'U8' };
const ITEM: Record<DType, number> = { F32: 4, F16: 2, F64: 8, I32: 4, I64: 8, U8: 1 } as Record<DType, number>;

export interface NpyHeader {
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly dataOffset: number;
}

export function parseNpyHeader(bytes: Uint8Array, where: string, limits: LoadLimits = DEFAULT_LIMITS): NpyHeader {
  let header;
  try {
    header = parseHeader(bytes, where, { maxHeaderBytes: Math.min(1 << 20, limits.maxHeaderBytes) });
  } catch (err) {
    throw err instanceof NpyError ? formatError(where, err.problem) : err;
  }
  const dtype = DESCR[header.descr];
  if (!dtype) throw formatError(where, `.npy dtype ${header.descr} is not supported (float32, float16, float64 are)`);
  checkShape(where, header.shape, limits);
  return { dtype, shape: header.shape, dataOffset: header.dataOffset };
}

export function parseNpy(bytes: Uint8Array, where: string, limits: LoadLimits = DEFAULT_LIMITS): { shape: number[]; data: Float32Array } {
  const h = parseNpyHeader(bytes, where, limits);
  const count = checkShape(where, h.shape, limits);
  const need = count * ITEM[h.dtype];
  const have = bytes.length - h.dataOffset;
  if (have !== need) throw formatError(where, `.npy declares shape (${h.shape.join(', ')}) = ${need} bytes but holds ${have}`);
  return { shape: [...h.shape], data: toFloat32(h.dtype, bytes.subarray(h.dataOffset), count) };
}
