// AuxK's dead-latent selection over raw pre-activations (SAELens): any sign, k per row, ascending columns.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { signedTopKOfColumns } from '../../../../src/core/sae/auxK';

test('signedTopKOfColumns keeps the k largest raw values per row, negative ones included, in the full numbering', () => {
  // Three dead latents (columns 1, 4, 6 of a width-8 code); row 0 has only negative pre-activations.
  const sub = { data: Float32Array.of(-0.5, -0.1, -2, 0.3, -1, 0.3), rows: 2, cols: 3 };
  const sel = signedTopKOfColumns(sub, Int32Array.of(1, 4, 6), 2, 8);
  assert.equal(sel.cols, 8);
  assert.deepEqual([...sel.rowPtr], [0, 2, 4]);
  assert.deepEqual([...sel.colIdx], [1, 4, 1, 6]); // row 1: a tie at 0.3 keeps both (k 2), −1 is dropped
  assert.deepEqual([...sel.values], [-0.5, -0.1, 0.3, 0.3].map((v) => Math.fround(v)));
});

test('signedTopKOfColumns: ties at the cut keep the lower column; k above the dead count takes them all', () => {
  const sub = { data: Float32Array.of(1, 1, 1, 0), rows: 1, cols: 4 };
  const two = signedTopKOfColumns(sub, Int32Array.of(0, 2, 5, 7), 2, 8);
  assert.deepEqual([...two.colIdx], [0, 2]);
  const all = signedTopKOfColumns(sub, Int32Array.of(0, 2, 5, 7), 64, 8);
  assert.deepEqual([...all.colIdx], [0, 2, 5, 7]);
  assert.deepEqual([...all.values], [1, 1, 1, 0]);
});

test('signedTopKOfColumns with no dead latent selects nothing', () => {
  const sel = signedTopKOfColumns({ data: new Float32Array(0), rows: 3, cols: 0 }, new Int32Array(0), 4, 8);
  assert.deepEqual([...sel.rowPtr], [0, 0, 0, 0]);
  assert.equal(sel.colIdx.length, 0);
});
