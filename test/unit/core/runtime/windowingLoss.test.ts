// Pure parts of the runtime: the windowing plan and the cross-entropy / KL helpers.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { crossEntropySum, meanCrossEntropy, planWindows, rowKl, tokenCrossEntropy } from '../../../../src/core/runtime';
import { matrix } from '../../../../src/core/tensor';

describe('planWindows', () => {
  test('every token is taken exactly once, from the earliest window that holds it', () => {
    for (const [n, w, s] of [
      [1, 8, 4],
      [8, 8, 4],
      [9, 8, 4],
      [100, 16, 8],
      [101, 16, 5],
      [50, 10, 10],
      [1000, 256, 128],
    ]) {
      const plan = planWindows(n, w, s);
      const owner = new Array<number>(n).fill(-1);
      plan.forEach((win, k) => {
        assert.ok(win.end - win.start <= w && win.start >= 0 && win.end <= n);
        for (let t = win.takeFrom; t < win.end; t++) {
          assert.equal(owner[t], -1, `token ${t} taken twice`);
          owner[t] = k;
        }
      });
      owner.forEach((k, t) => {
        assert.notEqual(k, -1, `token ${t} of ${n} never taken`);
        const earliest = plan.findIndex((win) => win.start <= t && t < win.end);
        assert.equal(k, earliest);
        if (t >= w) assert.ok(t - plan[k].start >= w - s, `token ${t} sees only ${t - plan[k].start} tokens of context`);
      });
    }
  });

  test('rejects nonsense parameters', () => {
    assert.throws(() => planWindows(10, 0, 1), RangeError);
    assert.throws(() => planWindows(10, 4, 5), RangeError);
    assert.deepEqual(planWindows(0, 4, 2), []);
  });
});

describe('cross-entropy and KL', () => {
  test('uniform logits give log(vocab) per predicted position; the first token is not scored', () => {
    const logits = matrix(3, 4);
    const ce = tokenCrossEntropy(logits, [0, 1, 2]);
    assert.equal(ce.length, 2);
    for (const v of ce) assert.ok(Math.abs(v - Math.log(4)) < 1e-12);
    assert.deepEqual(crossEntropySum(logits, [0, 1, 2]).count, 2);
  });

  test('a hand-computed case', () => {
    // Row 0 predicts token 1 with logits [0, ln 3] → p = 3/4.
    const logits = matrix(2, 2, Float32Array.of(0, Math.log(3), 0, 0));
    assert.ok(Math.abs(meanCrossEntropy([logits], [[0, 1]]) - -Math.log(0.75)) < 1e-6);
  });

  test('KL is zero for equal rows, positive otherwise, and shift-invariant', () => {
    const p = matrix(2, 3, Float32Array.of(1, 2, 3, 0, 0, 0));
    const q = matrix(2, 3, Float32Array.of(11, 12, 13, 0, 5, 0));
    const kl = rowKl(p, q);
    assert.ok(kl[0] < 1e-9);
    assert.ok(kl[1] > 0.1);
    assert.equal(rowKl(p, q, 1).length, 1);
  });
});
