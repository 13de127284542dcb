// The synthetic source's true codes: nextBatchWithCodes must draw the same rows as nextBatch (benches compare
// codes with what SAEs learn on the very same stream), and its codes must add up to the rows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SyntheticSource } from '../../../../src/core/train/syntheticData';

const spec = { dIn: 16, nFeatures: 48, firingProb: 0.06, groupCount: 2, groupSize: 3, groupProb: 0.2, memberProb: 0.75, noiseStd: 0.02, seed: 3 };

test('nextBatchWithCodes draws exactly the rows nextBatch draws, and leaves the stream in the same place', () => {
  const a = new SyntheticSource(spec);
  const b = new SyntheticSource(spec);
  const plain = a.nextBatch(300);
  const { x, codes } = b.nextBatchWithCodes(300);
  assert.deepEqual(x.data, plain.data);
  assert.equal(codes.length, 300);
  assert.deepEqual(b.nextBatch(50).data, a.nextBatch(50).data);
});

test('the codes rebuild the rows exactly without noise, one entry per active feature, at the expected L0', () => {
  const src = new SyntheticSource({ ...spec, noiseStd: 0 });
  const { x, codes } = src.nextBatchWithCodes(2000);
  let maxErr = 0;
  let active = 0;
  for (let r = 0; r < x.rows; r++) {
    const rebuilt = new Float64Array(spec.dIn);
    for (const { feature, magnitude } of codes[r]) {
      assert.ok(feature >= 0 && feature < spec.nFeatures && magnitude > 0);
      for (let j = 0; j < spec.dIn; j++) rebuilt[j] += magnitude * src.dictionary[feature * spec.dIn + j];
    }
    for (let j = 0; j < spec.dIn; j++) maxErr = Math.max(maxErr, Math.abs(rebuilt[j] - x.data[r * spec.dIn + j]));
    active += codes[r].length;
    const features = codes[r].map((c) => c.feature);
    assert.equal(new Set(features).size, features.length, 'a feature appears at most once per row');
  }
  assert.ok(maxErr < 1e-5, `codes rebuild the rows (max error ${maxErr})`);
  const meanL0 = active / x.rows;
  assert.ok(Math.abs(meanL0 - src.expectedL0) < 0.15 * src.expectedL0, `mean L0 ${meanL0} near expected ${src.expectedL0}`);
});
