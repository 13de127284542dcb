import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  concatChunks,
  encodeSafetensors,
  openSafetensors,
  readSafetensorsBytes,
} from '../../../../src/core/checkpoints/safetensors';
import { CheckpointFormatError } from '../../../../src/core/checkpoints/limits';
import { bf16Bytes, exactValues, f16Bytes, f32Bytes, f32Tensor, f64Bytes, i32Bytes, safetensorsFile } from '../fixtures/bytes';

test('reads hand-written F32, F16, BF16, F64 and I32 tensors as float32', () => {
  const v = exactValues(12, 1, 4);
  const file = safetensorsFile(
    {
      a: f32Tensor([3, 4], v),
      h: { dtype: 'F16', shape: [12], bytes: f16Bytes(v) },
      b: { dtype: 'BF16', shape: [2, 6], bytes: bf16Bytes(v) },
      d: { dtype: 'F64', shape: [12], bytes: f64Bytes(v) },
      i: { dtype: 'I32', shape: [3], bytes: i32Bytes([-7, 0, 12]) },
    },
    { metadata: { format: 'pt' } },
  );
  const r = readSafetensorsBytes(file);
  assert.deepEqual(r.metadata, { format: 'pt' });
  for (const name of ['a', 'h', 'b', 'd']) assert.deepEqual(Array.from(r.readF32(name).data), Array.from(v), name);
  assert.deepEqual(r.readF32('a').shape, [3, 4]);
  assert.deepEqual(Array.from(r.readF32('i').data), [-7, 0, 12]);
  assert.deepEqual(Array.from(r.readNative('i').data), [-7, 0, 12]);
});

test('bf16 and f16 special values convert exactly', () => {
  const file = safetensorsFile({
    b: { dtype: 'BF16', shape: [4], bytes: new Uint8Array([0x80, 0x3f, 0x80, 0xff, 0xc0, 0x7f, 0x00, 0x80]) },
    h: { dtype: 'F16', shape: [4], bytes: new Uint8Array([0x00, 0x3c, 0x00, 0xfc, 0x01, 0x00, 0xff, 0x7b]) },
  });
  const r = readSafetensorsBytes(file);
  const b = r.readF32('b').data;
  assert.equal(b[0], 1);
  assert.equal(b[1], -Infinity);
  assert.ok(Number.isNaN(b[2]));
  assert.ok(Object.is(b[3], -0));
  assert.deepEqual(Array.from(r.readF32('h').data), [1, -Infinity, 2 ** -24, 65504]);
});

test('writer output parses with an independent reading of the layout, and round-trips exactly', () => {
  const w = exactValues(6, 2);
  const d = new Float64Array([Math.PI, -1e300, 5e-324]);
  const u = new Uint32Array([0, 1, 0xffffffff]);
  const chunks = encodeSafetensors(
    new Map<string, { shape: number[]; data: Float32Array | Float64Array | Uint32Array }>([
      ['z', { shape: [2, 3], data: w }],
      ['d', { shape: [3], data: d }],
      ['u', { shape: [3], data: u }],
    ]),
    { k: 'v' },
  );
  const bytes = concatChunks(chunks);
  const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  assert.equal((8 + n) % 8, 0, 'data starts 8-byte aligned');
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
  assert.deepEqual(header.__metadata__, { k: 'v' });
  assert.deepEqual(header.z, { dtype: 'F32', shape: [2, 3], data_offsets: [header.z.data_offsets[0], header.z.data_offsets[0] + 24] });
  const zStart = 8 + n + header.z.data_offsets[0];
  assert.deepEqual(bytes.subarray(zStart, zStart + 24), f32Bytes(w));
  const r = readSafetensorsBytes(bytes);
  assert.deepEqual(r.readNative('z').data, w);
  assert.deepEqual(r.readNative('d').data, d);
  assert.deepEqual(r.readNative('u').data, u);
});

test('a file on disk is read lazily and validated against its real size', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fl-st-'));
  const path = join(dir, 'x.safetensors');
  writeFileSync(path, safetensorsFile({ a: f32Tensor([2], [1.5, -2]) }));
  const r = openSafetensors(path);
  assert.deepEqual(Array.from(r.readF32('a').data), [1.5, -2]);
  assert.throws(() => r.readF32('missing'), /has no tensor "missing"/);
  r.close();
  const truncated = join(dir, 'short.safetensors');
  const full = safetensorsFile({ a: f32Tensor([4], [1, 2, 3, 4]) });
  writeFileSync(truncated, full.subarray(0, full.length - 4));
  assert.throws(() => openSafetensors(truncated), /run past the end of the data/);
});

function refuses(file: Uint8Array, pattern: RegExp): void {
  assert.throws(
    () => readSafetensorsBytes(file),
    (err: unknown) => err instanceof CheckpointFormatError && pattern.test(err.message),
  );
}

test('refuses headers that lie', () => {
  const ok = { a: f32Tensor([2], [1, 2]), b: f32Tensor([2], [3, 4]) };
  refuses(safetensorsFile(ok, { headerLength: 1n << 40n }), /header length \d+ is larger than the file/);
  refuses(safetensorsFile(ok, { headerLength: 0xffffffffffffffffn }), /larger than the file/);
  refuses(
    safetensorsFile(ok, { patchHeader: (h) => ((h.b as { data_offsets: number[] }).data_offsets = [8, 1 << 30]) }),
    /run past the end/,
  );
  refuses(safetensorsFile(ok, { patchHeader: (h) => ((h.b as { data_offsets: number[] }).data_offsets = [4, 12]) }), /overlap/);
  refuses(safetensorsFile(ok, { patchHeader: (h) => ((h.a as { dtype: string }).dtype = 'F12') }), /unknown dtype "F12"/);
  refuses(safetensorsFile(ok, { patchHeader: (h) => ((h.a as { shape: number[] }).shape = [3]) }), /holds 8 bytes but F32\[3\] needs 12/);
  refuses(
    safetensorsFile(ok, { patchHeader: (h) => ((h.a as { shape: number[] }).shape = [1e9, 1e9]) }),
    /refusing to allocate|exceeds the limit/,
  );
  refuses(safetensorsFile(ok, { patchHeader: (h) => ((h.a as { shape: unknown[] }).shape = [-1]) }), /invalid dimension/);
  refuses(safetensorsFile(ok, { patchHeader: (h) => ((h.a as { data_offsets: number[] }).data_offsets = [8, 0]) }), /end before/);
  refuses(safetensorsFile(ok, { patchHeader: (h) => (h.__metadata__ = { n: 3 }) }), /must be a string/);
  refuses(new Uint8Array([1, 2, 3]), /too short/);
  const garbage = safetensorsFile(ok);
  garbage[8] = 0x5b; // '[' — not an object
  refuses(garbage, /header/);
});
