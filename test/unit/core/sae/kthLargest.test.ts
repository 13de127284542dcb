// The quickselect behind batch selections and the JumpReLU quantile threshold: the value a sort puts at that
// position, for any order, ties and lengths.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kthLargest } from '../../../../src/core/sae/activations';
import { Rng } from '../../../../src/core/util/rng';

test('kthLargest returns the m-th value of a descending sort, ties and repeats included', () => {
  const rng = new Rng(11);
  for (const n of [1, 2, 3, 7, 64, 1000]) {
    for (const levels of [0, 3]) {
      // levels 3: values from {−1, 0, 1}, so most entries tie; 0: continuous values.
      const vals = Float32Array.from({ length: n }, () => (levels ? rng.int(levels) - 1 : rng.normal()));
      const sorted = vals.slice().sort().reverse();
      for (const m of [1, Math.ceil(n / 2), n]) {
        assert.equal(kthLargest(vals.slice(), m), sorted[m - 1], `n ${n}, m ${m}, levels ${levels}`);
      }
    }
  }
});
