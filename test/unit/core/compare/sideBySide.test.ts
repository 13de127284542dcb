// Side-by-side decomposition rows from two hand-made analyses: a matched pair where both fire shares a row
// (even when B's partner is below B's top rows), unmatched or silent partners get rows of their own.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sideBySide } from '../../../../src/core/compare/sideBySide';
import type { AnalysisResult } from '../../../../src/protocol/analysis';

/** One token per entry; each token: [feature, activation] strongest first (all of them active). */
function analysis(tokens: [number, number][][]): AnalysisResult {
  const rowStart = [0];
  const ids: number[] = [];
  const values: number[] = [];
  for (const t of tokens) {
    for (const [f, v] of t) {
      ids.push(f);
      values.push(v);
    }
    rowStart.push(ids.length);
  }
  return {
    text: 'ab',
    model: 'm',
    site: 's',
    sae: 'x',
    dSae: 10,
    tokens: tokens.map((t, i) => ({ text: 'ab'[i], start: i, end: i + 1, maxActivation: t[0]?.[1] ?? 0, l0: t.length, reconError: 0.1, features: t.map(([id, activation]) => ({ id, activation, share: 0 })) })),
    active: { rowStart: Int32Array.from(rowStart), featureIds: Int32Array.from(ids), values: Float32Array.from(values) },
    meanL0: 2,
    meanReconError: 0.1,
    maxActivation: 5,
    elapsedMs: 0,
  };
}

const names = { a: { label: 'A', path: '/a' }, b: { label: 'B', path: '/b' } };
const matching = { pairs: [{ a: 1, b: 7, cos: 0.95 }, { a: 2, b: 8, cos: 0.9 }, { a: 3, b: 9, cos: 0.3 }] };

test('matched features that both fire share a row; the rest stand alone', () => {
  const a = analysis([[[1, 3], [2, 2], [3, 1]], [[5, 4]]]);
  const b = analysis([[[7, 2.5], [9, 1], [4, 0.5], [8, 0.1]], [[8, 2]]]);
  const r = sideBySide(a, b, matching, names, { minCos: 0.5, topK: 3 });
  assert.deepEqual(r.tokens[0].rows, [
    { a: { feature: 1, activation: 3 }, b: { feature: 7, activation: 2.5 }, cos: 0.95 },
    { a: { feature: 2, activation: 2 }, b: { feature: 8, activation: Math.fround(0.1) }, cos: 0.9 },
    { a: { feature: 3, activation: 1 } }, // its partner 9 fires, but the pair is below minCos
    { b: { feature: 9, activation: 1 } },
    { b: { feature: 4, activation: 0.5 } },
  ]);
  // Token 1: B's feature 8 is matched to A's 2, which is silent there.
  assert.deepEqual(r.tokens[1].rows, [{ a: { feature: 5, activation: 4 } }, { b: { feature: 8, activation: 2 } }]);
  assert.deepEqual([r.alignedRows, r.totalRows], [2, 7]);
  assert.throws(() => sideBySide(a, analysis([[[7, 1]]]), matching, names, { minCos: 0.5, topK: 3 }), /saw 2 and 1 tokens/);
});
