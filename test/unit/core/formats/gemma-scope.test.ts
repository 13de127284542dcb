import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import { readGemmaScope } from '../../../../src/core/formats/gemma-scope';
import { DEFAULT_LIMITS } from '../../../../src/core/checkpoints/limits';
import { decodeNpy } from '../../../../src/core/npy';
import { exactValues, f32Bytes, f64Bytes, npyFile, storedZip } from '../fixtures/bytes';
import { assertClose, coreEncode, internalDecode, internalEncode } from '../fixtures/internal-encode';

const D_IN = 5;
const D_SAE = 12;
const P = {
  W_enc: exactValues(D_IN * D_SAE, 21),
  W_dec: exactValues(D_SAE * D_IN, 22),
  b_enc: exactValues(D_SAE, 23, 0.3),
  b_dec: exactValues(D_IN, 24, 0.5),
  threshold: exactValues(D_SAE, 25, 0.4).map(Math.abs),
};
const SHAPES: Record<string, number[]> = { W_enc: [D_IN, D_SAE], W_dec: [D_SAE, D_IN], b_enc: [D_SAE], b_dec: [D_IN], threshold: [D_SAE] };

function npz(overrides: Record<string, Uint8Array | null> = {}, zip = storedZip): Uint8Array {
  const files: Record<string, Uint8Array> = {};
  for (const [k, v] of Object.entries(P)) files[`${k}.npy`] = npyFile('<f4', SHAPES[k], f32Bytes(v));
  for (const [k, v] of Object.entries(overrides)) {
    if (v === null) delete files[k];
    else files[k] = v;
  }
  return zip(files);
}

function place(bytes: Uint8Array, sub = 'gemma-scope-2b-pt-res/layer_3/width_16k/average_l0_20'): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'fl-gs-')), sub);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'params.npz'), bytes);
  return dir;
}

/** Gemma Scope's encode (Lieberum et al. 2024, App. A): no b_dec subtraction, f = pre·[pre > θ]. */
function gemmaReference(x: Float32Array) {
  const f = new Float64Array(D_SAE);
  for (let i = 0; i < D_SAE; i++) {
    let pre = P.b_enc[i];
    for (let j = 0; j < D_IN; j++) pre += x[j] * P.W_enc[j * D_SAE + i];
    f[i] = pre > P.threshold[i] ? pre : 0;
  }
  const y = Float64Array.from(P.b_dec);
  for (let i = 0; i < D_SAE; i++) for (let j = 0; j < D_IN; j++) y[j] += f[i] * P.W_dec[i * D_IN + j];
  return { f, y };
}

test('Gemma Scope params.npz: features and reconstruction match Gemma Scope semantics; site from the path', () => {
  for (const zip of [storedZip, (files: Record<string, Uint8Array>) => zipSync(files, { level: 6 })]) {
    const loaded = readGemmaScope(place(npz({}, zip)));
    assert.equal(loaded.format, 'gemma-scope');
    assert.equal(loaded.weights.config.hookName, 'blocks.3.hook_resid_post');
    assert.equal(loaded.weights.config.applyBDecToInput, false);
    assert.equal(loaded.weights.config.extra?.averageL0, 20);
    let active = 0;
    for (let s = 0; s < 4; s++) {
      const x = exactValues(D_IN, 30 + s, 2);
      const ref = gemmaReference(x);
      const f = internalEncode(loaded.weights, x);
      active += f.filter((v) => v !== 0).length;
      assertClose(f, ref.f, 1e-6, 'features');
      assertClose(coreEncode(loaded.weights, x), ref.f, 1e-5, 'src/core/sae features');
      assertClose(internalDecode(loaded.weights, f, x), ref.y, 1e-6, 'reconstruction');
    }
    assert.ok(active > 0, 'the fixture exercises active features');
  }
});

test('npz with a missing key or a wrong shape is refused', () => {
  assert.throws(() => readGemmaScope(place(npz({ 'threshold.npy': null }))), /missing array threshold/);
  assert.throws(
    () => readGemmaScope(place(npz({ 'threshold.npy': npyFile('<f4', [D_SAE + 1], f32Bytes(new Float32Array(D_SAE + 1))) }))),
    /"threshold" has shape \[13\], expected \[12\]/,
  );
  assert.throws(() => readGemmaScope(place(npz({ 'W_enc.npy': npyFile('<f4', [D_IN * D_SAE], f32Bytes(P.W_enc)) }))), /W_enc must be 2-D/);
});

test('npz entries declaring absurd sizes are refused before extraction', () => {
  const files: Record<string, Uint8Array> = {};
  for (const [k, v] of Object.entries(P)) files[`${k}.npy`] = npyFile('<f4', SHAPES[k], f32Bytes(v));
  assert.throws(() => readGemmaScope(place(storedZip(files, { lieAboutSize: 'W_enc.npy', declaredSize: 0xfffffff0 }))), /more than the archive holds/);
  const small = { ...DEFAULT_LIMITS, maxTensorElements: 16, maxTotalElements: 64 };
  assert.throws(() => readGemmaScope(place(npz()), small), /over the limit; refusing to extract/);
  const huge = npz({ 'W_enc.npy': npyFile('<f4', [4_000_000, 16384], new Uint8Array(16)) });
  assert.throws(() => readGemmaScope(place(huge)), /refusing to allocate|exceeds/);
});

test('.npy parsing: Fortran order is transposed, big-endian converted; unknown dtypes, lying lengths and odd headers are refused', () => {
  const data = f32Bytes([1, 2, 3, 4, 5, 6]);
  const parseNpy = (bytes: Uint8Array, where: string) => decodeNpy(bytes, where, { limits: DEFAULT_LIMITS });
  assert.deepEqual(Array.from(parseNpy(npyFile('<f4', [2, 3], data), 'x').data), [1, 2, 3, 4, 5, 6]);
  assert.deepEqual(Array.from(parseNpy(npyFile('<f8', [2], f64Bytes([0.5, -2])), 'x').data), [0.5, -2]);
  // Column-major [2, 3]: the file lists column 0 (1, 2), column 1 (3, 4), column 2 (5, 6).
  assert.deepEqual(Array.from(parseNpy(npyFile('<f4', [2, 3], data, { fortran: true }), 'x').data), [1, 3, 5, 2, 4, 6]);
  const bigEndian = new Uint8Array(24);
  [1, 2, 3, 4, 5, 6].forEach((v, i) => new DataView(bigEndian.buffer).setFloat32(4 * i, v, false));
  assert.deepEqual(Array.from(parseNpy(npyFile('>f4', [2, 3], bigEndian), 'x').data), [1, 2, 3, 4, 5, 6]);
  assert.throws(() => parseNpy(npyFile('<c8', [3], data), 'x'), /dtype '<c8' is not supported/);
  assert.throws(() => parseNpy(npyFile('<f4', [2, 4], data), 'x'), /shape \(2, 4\) needs 32 bytes of data but the file has 24/);
  assert.throws(() => parseNpy(npyFile('<f4', [1 << 20, 1 << 20], data), 'x'), /refusing to allocate/);
  assert.throws(() => parseNpy(npyFile('', [], data, { headerText: "{'descr': '<f4', 'fortran_order': False, 'shape': (6,), 'x': __import__('os')}" }), 'x'), /unexpected header content/);
  assert.throws(() => parseNpy(npyFile('', [], data, { headerText: "{'descr': '<f4', 'fortran_order': False, 'shape': (-6,), }" }), 'x'), /not a tuple of integers/);
  assert.throws(() => parseNpy(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]), 'x'), /bad magic/);
});
