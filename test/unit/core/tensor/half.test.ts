// float16 ↔ float conversion used for fp16 models' activations and splices.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { floatToHalf, halfDataToFloat32, halfToFloat } from '../../../../src/core/tensor/half';

test('known float16 bit patterns', () => {
  const cases: [number, number][] = [
    [0, 0x0000],
    [1, 0x3c00],
    [-2, 0xc000],
    [65504, 0x7bff],
    [2 ** -24, 0x0001],
    [2 ** -14, 0x0400],
    [0.333251953125, 0x3555],
  ];
  for (const [v, h] of cases) {
    assert.equal(floatToHalf(v), h, `${v}`);
    assert.equal(halfToFloat(h), v, `0x${h.toString(16)}`);
  }
  assert.equal(floatToHalf(1e6), 0x7c00, 'overflow is +Infinity');
  assert.equal(halfToFloat(0x7c00), Infinity);
  assert.ok(Number.isNaN(halfToFloat(floatToHalf(NaN))));
});

test('rounds to nearest even and round-trips every half value', () => {
  assert.equal(floatToHalf(1 + 2 ** -11), 0x3c00, 'a tie rounds to the even mantissa');
  assert.equal(floatToHalf(1 + 3 * 2 ** -11), 0x3c02);
  for (let h = 0; h < 0x7c00; h += 7) assert.equal(floatToHalf(halfToFloat(h)), h);
  assert.deepEqual(Array.from(halfDataToFloat32(Uint16Array.of(0x3c00, 0xc000, 0x3555), 1, 3)), [-2, 0.333251953125]);
});
