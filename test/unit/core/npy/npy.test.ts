// The float32 .npy writer/reader: round trip, the exact header numpy writes, and strict refusals.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeNpy, encodeNpy, NpyError, readNpyMatrix, writeNpyMatrix } from '../../../../src/core/npy';
import { matrix } from '../../../../src/core/tensor';
import { tempDir } from '../../../fixtures/tempModel';

/** A .npy with a hand-written header (version 1.0, padded to 64 bytes) and raw body bytes. */
function handMade(header: string, body: Uint8Array, version = 1): Uint8Array {
  const pre = version === 1 ? 10 : 12;
  let h = header;
  h += ' '.repeat((64 - ((pre + h.length + 1) % 64)) % 64) + '\n';
  const out = new Uint8Array(pre + h.length + body.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  const dv = new DataView(out.buffer);
  if (version === 1) dv.setUint16(8, h.length, true);
  else dv.setUint32(8, h.length, true);
  for (let i = 0; i < h.length; i++) out[pre + i] = h.charCodeAt(i);
  out.set(body, pre + h.length);
  return out;
}

const f32 = (...v: number[]) => new Uint8Array(Float32Array.from(v).buffer);

describe('npy', () => {
  test('round trip through a file, with the header numpy itself writes', () => {
    const tmp = tempDir();
    try {
      const m = matrix(2, 3, Float32Array.of(1, -2.5, 3, 1e-30, Infinity, -0));
      writeNpyMatrix(tmp.path('a.npy'), m);
      const back = readNpyMatrix(tmp.path('a.npy'));
      assert.deepEqual([back.rows, back.cols], [2, 3]);
      assert.deepEqual(Array.from(back.data), Array.from(m.data));
      const bytes = encodeNpy(m.data, [2, 3]);
      const headerLen = new DataView(bytes.buffer).getUint16(8, true);
      assert.equal((10 + headerLen) % 64, 0);
      const header = new TextDecoder().decode(bytes.subarray(10, 10 + headerLen));
      assert.match(header, /^\{'descr': '<f4', 'fortran_order': False, 'shape': \(2, 3\), \} *\n$/);
    } finally {
      tmp.cleanup();
    }
  });

  test('reads version 2 headers, 1-D and 0-row shapes', () => {
    const a = decodeNpy(handMade("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", f32(1, 2), 2));
    assert.deepEqual(a.shape, [2]);
    assert.deepEqual(Array.from(a.data), [1, 2]);
    assert.deepEqual(decodeNpy(encodeNpy(new Float32Array(0), [0, 128])).shape, [0, 128]);
  });

  test('refuses other dtypes, structured arrays, lying headers and garbage', () => {
    const cases: [Uint8Array, RegExp][] = [
      [handMade("{'descr': '<i8', 'fortran_order': False, 'shape': (1,), }", new Uint8Array(8)), /dtype '<i8' is not supported/],
      [handMade("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }", f32(1)), /unexpected header content|not a simple dtype/],
      [handMade("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }", f32(1, 2, 3)), /needs 24 bytes .* has 12: truncated/],
      [handMade("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", f32(1, 2)), /header does not match the data/],
      [handMade("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }", f32(1)), /bad shape entry/],
      [handMade("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': __import__('os') }", f32(1)), /unexpected header content/],
      [handMade("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", f32(1)), /appears twice/],
      [new TextEncoder().encode('not an npy file at all'), /bad magic/],
    ];
    for (const [bytes, re] of cases) {
      assert.throws(() => decodeNpy(bytes, 'x.npy'), (e: Error) => e instanceof NpyError && e.message.startsWith('x.npy: ') && re.test(e.message), String(re));
    }
    const full = encodeNpy(Float32Array.of(1, 2, 3, 4), [2, 2]);
    assert.throws(() => decodeNpy(full.subarray(0, 20), 'cut.npy'), /runs past the end/);
    assert.throws(() => readNpyMatrix('/nonexistent.npy'), /cannot read/);
  });
});
