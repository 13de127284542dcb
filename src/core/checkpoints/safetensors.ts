// safetensors: u64 LE header length N, N bytes of JSON, then raw little-endian row-major data.
// The header is validated against the file size before any tensor is read; tensors are read lazily.

import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { DTYPE_BYTES, isDType, toFloat32, type DType } from './dtypes';
import { checkShape, DEFAULT_LIMITS, formatError, type LoadLimits } from './limits';

export interface SafetensorsEntry {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
  /** Byte range relative to the first byte after the header. */
  readonly begin: number;
  readonly end: number;
}

/** What the writer accepts and what `readNative` returns: exact, no conversion. */
export type StoredArray = Float32Array | Float64Array | Int32Array | Uint32Array;
export interface StoredTensor {
  readonly shape: readonly number[];
  readonly data: StoredArray;
}

export interface SafetensorsReader {
  readonly where: string;
  readonly entries: ReadonlyMap<string, SafetensorsEntry>;
  readonly metadata: Readonly<Record<string, string>>;
  has(name: string): boolean;
  /** Any numeric dtype converted to float32 (bf16/f16 exactly, f64 rounded). */
  readF32(name: string): { shape: readonly number[]; data: Float32Array };
  /** F32/F64/I32/U32 as stored, for bit-exact round trips. */
  readNative(name: string): StoredTensor;
  close(): void;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Parses and validates a header for a data section of `dataLength` bytes. */
export function parseSafetensorsHeader(
  where: string,
  headerBytes: Uint8Array,
  dataLength: number,
  limits: LoadLimits = DEFAULT_LIMITS,
): { entries: Map<string, SafetensorsEntry>; metadata: Record<string, string> } {
  let json: unknown;
  try {
    json = JSON.parse(utf8.decode(headerBytes));
  } catch (err) {
    throw formatError(where, `header is not valid UTF-8 JSON (${(err as Error).message})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw formatError(where, 'header must be a JSON object');
  }
  const entries = new Map<string, SafetensorsEntry>();
  let metadata: Record<string, string> = {};
  for (const [name, raw] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw formatError(where, '__metadata__ must be an object');
      for (const [k, v] of Object.entries(raw)) {
        if (typeof v !== 'string') throw formatError(where, `__metadata__.${k} must be a string`);
      }
      metadata = raw as Record<string, string>;
      continue;
    }
    const at = `${where}: tensor "${name}"`;
    if (typeof raw !== 'object' || raw === null) throw formatError(at, 'entry must be an object');
    const { dtype, shape, data_offsets: offsets } = raw as Record<string, unknown>;
    if (!isDType(dtype)) throw formatError(at, `unknown dtype ${JSON.stringify(dtype)}`);
    const count = checkShape(at, shape, limits);
    if (
      !Array.isArray(offsets) ||
      offsets.length !== 2 ||
      !offsets.every((o) => typeof o === 'number' && Number.isSafeInteger(o) && o >= 0)
    ) {
      throw formatError(at, `data_offsets must be two non-negative integers, got ${JSON.stringify(offsets)}`);
    }
    const [begin, end] = offsets as [number, number];
    if (end < begin) throw formatError(at, `data_offsets [${begin}, ${end}] end before they begin`);
    if (end > dataLength) {
      throw formatError(at, `data_offsets [${begin}, ${end}] run past the end of the data (${dataLength} bytes)`);
    }
    const expected = count * DTYPE_BYTES[dtype];
    if (end - begin !== expected) {
      throw formatError(at, `holds ${end - begin} bytes but ${dtype}${JSON.stringify(shape)} needs ${expected}`);
    }
    entries.set(name, { name, dtype, shape: shape as number[], begin, end });
  }
  const sorted = [...entries.values()].filter((e) => e.end > e.begin).sort((a, b) => a.begin - b.begin);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i].begin < sorted[i - 1].end) {
      throw formatError(where, `tensors "${sorted[i - 1].name}" and "${sorted[i].name}" overlap`);
    }
  }
  return { entries, metadata };
}

function readHeaderLength(where: string, prefix: Uint8Array, fileLength: number, limits: LoadLimits): number {
  if (fileLength < 8) throw formatError(where, `file is ${fileLength} bytes, too short for a safetensors header`);
  const n = new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(fileLength - 8)) throw formatError(where, `header length ${n} is larger than the file (${fileLength} bytes)`);
  if (n > BigInt(limits.maxHeaderBytes)) throw formatError(where, `header length ${n} exceeds the limit ${limits.maxHeaderBytes}`);
  if (n < 2n) throw formatError(where, `header length ${n} is too small`);
  return Number(n);
}

function nativeView(dtype: DType, bytes: Uint8Array, count: number, where: string): StoredArray {
  // Copy into a fresh, aligned buffer: the caller owns the result.
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  switch (dtype) {
    case 'F32':
      return new Float32Array(copy.buffer, 0, count);
    case 'F64':
      return new Float64Array(copy.buffer, 0, count);
    case 'I32':
      return new Int32Array(copy.buffer, 0, count);
    case 'U32':
      return new Uint32Array(copy.buffer, 0, count);
    default:
      throw formatError(where, `dtype ${dtype} has no exact native reading (use readF32)`);
  }
}

function makeReader(
  where: string,
  entries: Map<string, SafetensorsEntry>,
  metadata: Record<string, string>,
  readRange: (begin: number, end: number) => Uint8Array,
  close: () => void,
): SafetensorsReader {
  const entry = (name: string): SafetensorsEntry => {
    const e = entries.get(name);
    if (!e) throw formatError(where, `has no tensor "${name}" (it has: ${[...entries.keys()].join(', ') || 'none'})`);
    return e;
  };
  const count = (e: SafetensorsEntry) => e.shape.reduce((a, b) => a * b, 1);
  return {
    where,
    entries,
    metadata,
    has: (name) => entries.has(name),
    readF32(name) {
      const e = entry(name);
      return { shape: e.shape, data: toFloat32(e.dtype, readRange(e.begin, e.end), count(e)) };
    },
    readNative(name) {
      const e = entry(name);
      return { shape: e.shape, data: nativeView(e.dtype, readRange(e.begin, e.end), count(e), `${where}: tensor "${name}"`) };
    },
    close,
  };
}

/** A safetensors file already in memory. */
export function readSafetensorsBytes(bytes: Uint8Array, where = 'safetensors', limits: LoadLimits = DEFAULT_LIMITS): SafetensorsReader {
  const n = readHeaderLength(where, bytes, bytes.byteLength, limits);
  const dataStart = 8 + n;
  const { entries, metadata } = parseSafetensorsHeader(where, bytes.subarray(8, dataStart), bytes.byteLength - dataStart, limits);
  return makeReader(where, entries, metadata, (b, e) => bytes.subarray(dataStart + b, dataStart + e), () => {});
}

/** A safetensors file on disk: only the header is read now, each tensor when asked for. */
export function openSafetensors(path: string, limits: LoadLimits = DEFAULT_LIMITS): SafetensorsReader {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const prefix = new Uint8Array(8);
    readSync(fd, prefix, 0, Math.min(8, size), 0);
    const n = readHeaderLength(path, prefix, size, limits);
    const header = new Uint8Array(n);
    readFully(fd, header, 8);
    const dataStart = 8 + n;
    const { entries, metadata } = parseSafetensorsHeader(path, header, size - dataStart, limits);
    let open = true;
    return makeReader(
      path,
      entries,
      metadata,
      (b, e) => {
        if (!open) throw formatError(path, 'read after close');
        const buf = new Uint8Array(e - b);
        readFully(fd, buf, dataStart + b);
        return buf;
      },
      () => {
        if (open) closeSync(fd);
        open = false;
      },
    );
  } catch (err) {
    closeSync(fd);
    throw err;
  }
}

function readFully(fd: number, into: Uint8Array, position: number): void {
  let done = 0;
  while (done < into.byteLength) {
    const chunk = Math.min(into.byteLength - done, 1 << 30);
    const got = readSync(fd, into, done, chunk, position + done);
    if (got === 0) throw new Error(`unexpected end of file at byte ${position + done}`);
    done += got;
  }
}

function dtypeOf(data: StoredArray): DType {
  if (data instanceof Float32Array) return 'F32';
  if (data instanceof Float64Array) return 'F64';
  if (data instanceof Int32Array) return 'I32';
  return 'U32';
}

const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function leBytes(data: StoredArray): Uint8Array {
  const view = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (littleEndian) return view;
  const out = new Uint8Array(view.byteLength);
  const width = data.BYTES_PER_ELEMENT;
  for (let i = 0; i < view.byteLength; i += width) for (let j = 0; j < width; j++) out[i + j] = view[i + width - 1 - j];
  return out;
}

/**
 * Encodes tensors (sorted by name, contiguous) as a list of chunks: the header, then views of the
 * tensors' own memory, so a multi-GB SAE is never copied into one buffer.
 */
export function encodeSafetensors(tensors: ReadonlyMap<string, StoredTensor>, metadata?: Record<string, string>): Uint8Array[] {
  const names = [...tensors.keys()].sort();
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const name of names) {
    const t = tensors.get(name)!;
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (count !== t.data.length) {
      throw new Error(`safetensors writer: tensor "${name}" has ${t.data.length} values for shape ${JSON.stringify(t.shape)}`);
    }
    header[name] = { dtype: dtypeOf(t.data), shape: [...t.shape], data_offsets: [offset, offset + t.data.byteLength] };
    offset += t.data.byteLength;
  }
  let json = JSON.stringify(header);
  // Pad with spaces so the data starts 8-byte aligned (as the reference writer does).
  json += ' '.repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8);
  const jsonBytes = new TextEncoder().encode(json);
  const head = new Uint8Array(8 + jsonBytes.byteLength);
  new DataView(head.buffer).setBigUint64(0, BigInt(jsonBytes.byteLength), true);
  head.set(jsonBytes, 8);
  return [head, ...names.map((n) => leBytes(tensors.get(n)!.data))];
}

/** Convenience for small files and tests: one contiguous buffer. */
export function concatChunks(chunks: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((a, c) => a + c.byteLength, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}
