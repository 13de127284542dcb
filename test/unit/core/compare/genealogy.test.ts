// Feature genealogy on checkpoints built so that the answer is known: directions that continue (with noise
// and shuffled ids), a two-way and a three-way split, a merge, deaths and births; then a third checkpoint
// where one split child dies. Every event must be found, with the right ids, and nothing else.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { eventCounts, featureGenealogy, featureTimeline, featureTransition } from '../../../../src/core/compare/genealogy';
import type { DecoderDirections } from '../../../../src/core/compare/matchFeatures';
import type { GenealogyEvent } from '../../../../src/protocol/compare';
import { rng } from '../../../fixtures/onnxBuilder';

const D = 96;
const rand = rng(14);
const gauss = () => Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
const unit = (v: Float64Array) => {
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
};
const random = () => unit(Float64Array.from({ length: D }, gauss));
const dot = (a: Float64Array, b: Float64Array) => a.reduce((s, x, i) => s + x * b[i], 0);
/** A random unit direction orthogonal to all of `others` (assumed orthonormal). */
const orthogonalTo = (...others: Float64Array[]) => {
  const v = random();
  for (const o of others) {
    const p = dot(v, o);
    for (let i = 0; i < D; i++) v[i] -= p * o[i];
  }
  return unit(v);
};
const mix = (terms: [number, Float64Array][]) => unit(Float64Array.from({ length: D }, (_, i) => terms.reduce((s, [w, v]) => s + w * v[i], 0)));
const noisy = (v: Float64Array) => unit(v.map((x) => x + 0.02 * gauss()));
/** Decoder rows scaled by arbitrary norms: genealogy must only look at directions. */
const decoder = (rows: Float64Array[]): DecoderDirections => {
  const wDec = new Float32Array(rows.length * D);
  rows.forEach((r, i) => r.forEach((x, j) => (wDec[i * D + j] = x * (0.5 + (i % 5)))));
  return { wDec, dSae: rows.length, d: D };
};
/** Shuffles rows; returns the new rows and where each old row went. */
const shuffle = (rows: Float64Array[]): { rows: Float64Array[]; at: number[] } => {
  const order = rows.map((_, i) => i).sort(() => rand() - 0.5);
  const at = new Array<number>(rows.length);
  order.forEach((old, neu) => (at[old] = neu));
  return { rows: order.map((old) => rows[old]), at };
};

const g = Array.from({ length: 20 }, random);
// Checkpoint 1, before shuffling: rows 0..13 continue g0..g11, g18, g19; then the events.
const q = orthogonalTo(g[12]);
const q3 = [orthogonalTo(g[13])];
q3.push(orthogonalTo(g[13], q3[0]));
q3.push(orthogonalTo(g[13], q3[0], q3[1]));
const born = [random(), random()];
const before1: Float64Array[] = [
  ...[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 18, 19].map((i) => noisy(g[i])), // rows 0..13
  mix([[1, g[12]], [1, q]]), // 14: split of 12
  mix([[1, g[12]], [-1, q]]), // 15: split of 12
  ...q3.map((qq) => mix([[0.7, g[13]], [0.714, qq]])), // 16, 17, 18: three-way split of 13
  mix([[1, g[14]], [1, g[15]]]), // 19: merge of 14 and 15
  ...born, // 20, 21: births (16 and 17 die)
];
const c1 = shuffle(before1);
// Checkpoint 2: everything continues except split child 15, which dies.
const before2 = c1.rows.filter((_, i) => i !== c1.at[15]).map(noisy);
const c2 = shuffle(before2);
const at2 = (row1: number) => {
  const idx = c1.at[row1];
  return c2.at[idx > c1.at[15] ? idx - 1 : idx];
};

const checkpoints = [
  { path: '/run/step-0', label: 'step 0', step: 0, dSae: 20 },
  { path: '/run/step-1', label: 'step 1', step: 100, dSae: 22 },
  { path: '/run/step-2', label: 'step 2', step: 200, dSae: 21 },
];
const genealogy = featureGenealogy(checkpoints, [decoder(g), decoder(c1.rows), decoder(c2.rows)]);

const ofKind = <K extends GenealogyEvent['kind']>(events: readonly GenealogyEvent[], kind: K) => events.filter((e): e is Extract<GenealogyEvent, { kind: K }> => e.kind === kind);

test('constructed continuations, splits, a merge, deaths and births are all found between two checkpoints', () => {
  const t = genealogy.transitions[0];
  assert.deepEqual(eventCounts(t), { continued: 14, birth: 2, death: 2, split: 2, merge: 1 });
  const continued = new Map(t.continued.map(([a, b]) => [a, b]));
  [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 18, 19].forEach((i, row) => assert.equal(continued.get(i), c1.at[row], `g${i} continues`));
  for (const [, , cos] of t.continued) assert.ok(cos > 0.9, String(cos));

  const splits = ofKind(t.events, 'split').sort((x, y) => x.parent - y.parent);
  assert.deepEqual(splits.map((s) => [s.parent, [...s.children].sort((x, y) => x - y)]), [
    [12, [c1.at[14], c1.at[15]].sort((x, y) => x - y)],
    [13, [c1.at[16], c1.at[17], c1.at[18]].sort((x, y) => x - y)],
  ]);
  assert.ok(splits[0].fit > 0.99, `two-way split rebuilds its parent: ${splits[0].fit}`);
  assert.ok(splits[1].fit > 0.8, `three-way split: ${splits[1].fit}`);
  for (const s of splits) for (const c of s.cos) assert.ok(c > 0.6 && c < 0.8, String(c));

  const [merge] = ofKind(t.events, 'merge');
  assert.deepEqual([[...merge.parents].sort((x, y) => x - y), merge.child], [[14, 15], c1.at[19]]);
  assert.ok(merge.fit > 0.99);
  assert.deepEqual(ofKind(t.events, 'death').map((e) => e.feature).sort((x, y) => x - y), [16, 17]);
  assert.deepEqual(ofKind(t.events, 'birth').map((e) => e.feature).sort((x, y) => x - y), [c1.at[20], c1.at[21]].sort((x, y) => x - y));
});

test('the next transition: every feature continues except the split child that dies', () => {
  const t = genealogy.transitions[1];
  assert.deepEqual(eventCounts(t), { continued: 21, birth: 0, death: 1, split: 0, merge: 0 });
  assert.equal(ofKind(t.events, 'death')[0].feature, c1.at[15]);
});

test('timelines follow a feature back and forth through continuations, splits, merges, births and deaths', () => {
  const survivor = featureTimeline(genealogy, 2, at2(14));
  assert.deepEqual(survivor.ids, [12, c1.at[14], at2(14)]);
  assert.equal(survivor.marks.length, 1);
  assert.equal(survivor.marks[0].at, 1);
  assert.match(survivor.marks[0].text, new RegExp(`^split from #12 \\(with #${c1.at[15]}\\)$`));

  const sibling = featureTimeline(genealogy, 1, c1.at[15]);
  assert.deepEqual(sibling.ids, [12, c1.at[15], null]);
  assert.deepEqual(sibling.marks.map((m) => [m.at, m.text.split(' ')[0]]), [[1, 'split'], [2, 'died']]);

  const parent = featureTimeline(genealogy, 0, 14);
  assert.deepEqual(parent.ids, [14, c1.at[19], at2(19)]);
  assert.deepEqual(parent.marks, [{ at: 1, text: `merged with #15 into #${c1.at[19]}` }]);

  const newborn = featureTimeline(genealogy, 2, at2(20));
  assert.deepEqual(newborn.ids, [null, c1.at[20], at2(20)]);
  assert.deepEqual(newborn.marks, [{ at: 1, text: 'born' }]);

  const dead = featureTimeline(genealogy, 0, 16);
  assert.deepEqual(dead.ids, [16, null, null]);
  assert.deepEqual(dead.marks, [{ at: 1, text: 'died' }]);

  const steady = featureTimeline(genealogy, 1, c1.at[0]);
  assert.deepEqual(steady.ids, [0, c1.at[0], at2(0)]);
  assert.deepEqual(steady.marks, []);
  assert.throws(() => featureTimeline(genealogy, 1, 22), /no feature #22/);
});

test('the same checkpoint twice: everything continues at cosine 1; different widths are refused', () => {
  const t = featureTransition(decoder(g), decoder(g), 0);
  assert.equal(t.continued.length, 20);
  assert.deepEqual(t.events, []);
  assert.ok(t.continued.every(([a, b, cos]) => a === b && cos > 0.9999));
  assert.throws(() => featureTransition(decoder(g), { wDec: new Float32Array(20 * 8), dSae: 20, d: 8 }, 0), /different widths/);
  assert.throws(() => featureGenealogy(checkpoints.slice(0, 1), [decoder(g)]), /two or more/);
});
