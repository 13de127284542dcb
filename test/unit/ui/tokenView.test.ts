import { test } from 'node:test';
import assert from 'node:assert/strict';
import { displayToken, featureTrack, initialState, intensities, rankedFeatures, reduce, type RankBy, type TokenViewState } from '../../../webview-ui/src/state/tokenView';
import type { AnalysisResult } from '../../../src/protocol/analysis';

const analysis: AnalysisResult = {
  text: 'ab c',
  model: 'm',
  site: 's',
  sae: 'x',
  dSae: 8,
  tokens: [
    { text: 'ab', start: 0, end: 2, maxActivation: 2, l0: 2, reconError: 0.1, features: [{ id: 3, activation: 2, share: 0.7 }, { id: 5, activation: 1, share: 0.3 }] },
    { text: ' c', start: 2, end: 4, maxActivation: 4, l0: 1, reconError: 0.2, features: [{ id: 5, activation: 4, share: 1 }] },
    { text: '\n', start: 4, end: 5, maxActivation: 0, l0: 0, reconError: 0, features: [] },
  ],
  active: { rowStart: Int32Array.of(0, 2, 3, 3), featureIds: Int32Array.of(3, 5, 5), values: Float32Array.of(2, 1, 4) },
  meanL0: 1,
  meanReconError: 0.1,
  maxActivation: 4,
  elapsedMs: 1,
};

const loaded: TokenViewState = reduce(initialState, { type: 'analysis', result: analysis });

test('keyboard moves stay inside the tokens', () => {
  let s = reduce(loaded, { type: 'move', to: 'prev' });
  assert.equal(s.focused, 0);
  s = reduce(s, { type: 'move', to: 'next' });
  s = reduce(s, { type: 'move', to: 'next' });
  s = reduce(s, { type: 'move', to: 'next' });
  assert.equal(s.focused, 2);
  assert.equal(reduce(s, { type: 'move', to: 'home' }).focused, 0);
  assert.equal(reduce(loaded, { type: 'move', to: 'end' }).focused, 2);
  assert.equal(reduce(loaded, { type: 'focus', index: 99 }).focused, 2);
  assert.equal(reduce(initialState, { type: 'move', to: 'end' }).focused, 0, 'no tokens: stays at 0');
});

test('a new analysis resets focus, feature selection and errors; analyzing clears an error', () => {
  let s = reduce(loaded, { type: 'focus', index: 2 });
  s = reduce(s, { type: 'featureSelected', feature: 5 });
  s = reduce(s, { type: 'error', message: 'boom' });
  assert.equal(s.error, 'boom');
  assert.equal(reduce(s, { type: 'analyzing', text: 'x' }).error, undefined);
  s = reduce(s, { type: 'analysis', result: analysis });
  assert.equal(s.focused, 0);
  assert.equal(s.selectedFeature, null);
  assert.equal(s.error, undefined);
});

test('intensity follows the strongest activation, or the selected feature alone', () => {
  assert.deepEqual(Array.from(intensities(loaded)), [0.5, 1, 0]);
  const s = reduce(loaded, { type: 'featureSelected', feature: 3 });
  assert.deepEqual(Array.from(intensities(s)), [1, 0, 0]);
  assert.deepEqual(Array.from(featureTrack(analysis, 5)), [1, 4, 0]);
});

test('saved labels are remembered, tokens are shown with visible whitespace', () => {
  const s = reduce(loaded, { type: 'labelSaved', feature: 3, label: 'letters' });
  assert.equal(s.labels[3], 'letters');
  assert.equal(displayToken(' c'), '·c');
  assert.equal(displayToken('\n'), '↵');
});

test('steering: the form opens at a token, generation steps stream in, a cancel or error stops it, a new analysis clears it', () => {
  let s = reduce(loaded, { type: 'steerFrom', position: 9, feature: 5 });
  assert.deepEqual(s.steerForm, { position: 2, feature: 5 }, 'position kept inside the text');
  s = reduce(s, { type: 'generationStarted' });
  assert.deepEqual(s.generation, { steps: [], running: true });
  const step = { index: 0, clean: { id: 1, token: 'a' }, steered: { id: 2, token: 'b', kl: 0.5 } };
  s = reduce(s, { type: 'generationStep', step });
  s = reduce(s, { type: 'generationStep', step: { ...step, index: 1 } });
  assert.equal(s.generation?.steps.length, 2);
  assert.equal(s.generation?.running, true);
  s = reduce(s, { type: 'generationDone', result: null });
  assert.equal(s.generation?.running, false, 'cancelled: stopped, steps kept');
  assert.equal(s.generation?.steps.length, 2);
  s = reduce(reduce(s, { type: 'generationStarted' }), { type: 'error', message: 'boom' });
  assert.equal(s.generation?.running, false, 'an error leaves the panel usable');
  s = reduce(s, { type: 'attributing', position: 1 });
  assert.equal(s.attributing, 1);
  s = reduce(s, { type: 'analysis', result: analysis });
  assert.equal(s.steerForm, undefined);
  assert.equal(s.generation, undefined);
  assert.equal(s.attributing, undefined);
});

test('the focused token ranks its features by activation, share or surprise, and can hide dense ones', () => {
  const token = {
    text: 'x',
    start: 0,
    end: 1,
    maxActivation: 5,
    l0: 3,
    reconError: 0,
    features: [
      { id: 1, activation: 5, share: 0.1, density: 0.5 },
      { id: 2, activation: 2, share: 0.6, density: 0.001 },
      { id: 3, activation: 3, share: 0.3, density: 0.05 },
    ],
  };
  const ids = (rankBy: RankBy, hideDense = false, top?: number) => rankedFeatures({ rankBy, hideDense }, token, top).map((f) => f.id);
  assert.deepEqual(ids('activation'), [1, 3, 2]);
  assert.deepEqual(ids('share'), [2, 3, 1]);
  // surprise = activation × −ln(density): 5·0.69 = 3.5, 2·6.9 = 13.8, 3·3.0 = 9.0
  assert.deepEqual(ids('surprise'), [2, 3, 1]);
  assert.deepEqual(ids('activation', true), [3, 2]);
  assert.deepEqual(ids('activation', false, 2), [1, 3]);
  const s1 = reduce(initialState, { type: 'rankBy', rankBy: 'surprise' });
  assert.equal(reduce(s1, { type: 'hideDense', hide: true }).hideDense, true);
  assert.equal(s1.rankBy, 'surprise');
});
