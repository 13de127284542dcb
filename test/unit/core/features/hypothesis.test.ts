import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildFeatureIndex, DEFAULT_BUILD_OPTIONS } from '../../../../src/core/features/buildIndex';
import { testExamples, testHypothesis, hypothesisMatcher } from '../../../../src/core/features/hypothesis';
import type { AnalysisResult } from '../../../../src/protocol/analysis';
import { FeatureIndexDb } from '../../../../src/core/features/indexDb';
import { FEATURES, syntheticCorpus, syntheticEncoder } from './synthetic';

async function synthetic() {
  const encoder = syntheticEncoder();
  const built = await buildFeatureIndex(
    { encoder, documents: syntheticCorpus(150), fingerprints: { sae: 's', model: 'm', corpus: 'c' }, names: { sae: 's', model: 'm', site: 'x', corpus: 'c' }, decoderNorms: new Float32Array(7).fill(1) },
    { ...DEFAULT_BUILD_OPTIONS, windowTokens: 30 },
  );
  return { encoder, db: await FeatureIndexDb.create(built) };
}

test('a token-list hypothesis is detected best by the feature built for it, and the probe picks it', async () => {
  const { encoder, db } = await synthetic();
  const r = await testHypothesis(db, encoder, { kind: 'tokens', tokens: ['Cat'] });
  assert.ok(r.positives > 0 && r.heldoutPositives > 0);
  const top = r.detectors.slice(0, 2).map((d) => d.feature).sort();
  assert.deepEqual(top, [FEATURES.cat, FEATURES.withCat].sort(), 'the two features firing exactly on "cat" come first');
  assert.ok(r.detectors[0].auroc > 0.99 && r.detectors[0].precision === 1 && r.detectors[0].recall === 1);
  assert.ok(r.detectors[0].heldoutAuroc! > 0.99);
  const random = r.detectors.find((d) => d.feature === FEATURES.random);
  assert.ok(!random || Math.abs(random.auroc - 0.5) < 0.1, 'the random feature detects nothing');
  assert.ok(r.probe && r.probe.heldoutAuroc! > 0.99);
  assert.ok([FEATURES.cat, FEATURES.withCat].includes(r.probe.features[0].feature as 0 | 5));
  db.close();
});

test('a regex hypothesis over token texts; bad or empty hypotheses are refused', async () => {
  const { encoder, db } = await synthetic();
  const r = await testHypothesis(db, encoder, { kind: 'regex', pattern: '^\\s*\\d+$' });
  assert.equal(r.detectors[0].feature, FEATURES.numbers);
  await assert.rejects(testHypothesis(db, encoder, { kind: 'regex', pattern: 'zebra' }), /marks no token/);
  assert.throws(() => hypothesisMatcher({ kind: 'regex', pattern: '(' }), /invalid regular expression/);
  assert.throws(() => hypothesisMatcher({ kind: 'tokens', tokens: [' ', ''] }), /empty/);
  db.close();
});

/** An analysis of `text` (space-separated words) by the synthetic SAE, with character offsets per token. */
async function analysed(text: string): Promise<AnalysisResult> {
  const encoder = syntheticEncoder();
  const ids = encoder.tokenize(text);
  const f = await encoder.encode(ids);
  let at = 0;
  const tokens = text.split(' ').map((w) => {
    const start = text.indexOf(w, at);
    at = start + w.length;
    return { text: w, start, end: at, maxActivation: 0, l0: 0, reconError: 0, features: [] };
  });
  return {
    text, model: 'm', site: 's', sae: 's', dSae: 7, tokens,
    active: { rowStart: f.rowPtr, featureIds: f.colIdx, values: f.values },
    meanL0: 0, meanReconError: 0, maxActivation: 0, elapsedMs: 0,
  } as unknown as AnalysisResult;
}

test('selected examples: the tokens inside the selections are the positives, and the feature built for them is found', async () => {
  const words = Array.from({ length: 200 }, (_, i) => (i % 7 === 3 ? 'cat' : ['sat', 'on', 'mat', 'big', 'tree'][i % 5]));
  const text = words.join(' ');
  // Select every "cat" (as a user would, one selection each).
  const ranges: [number, number][] = [];
  for (let at = text.indexOf('cat'); at >= 0; at = text.indexOf('cat', at + 1)) ranges.push([at, at + 3]);
  const r = await testExamples(await analysed(text), ranges, { top: 3 });
  assert.equal(r.positives + r.heldoutPositives, ranges.length, 'each selected token counted once, split between fitting and held out');
  assert.ok([FEATURES.cat, FEATURES.withCat].includes(r.detectors[0].feature as 0 | 5));
  assert.equal(r.detectors[0].precision, 1);
  assert.equal(r.detectors[0].recall, 1);
  assert.ok(r.detectors[0].heldoutAuroc! > 0.99);
  await assert.rejects(testExamples(await analysed(text), []), /select the examples/);
  await assert.rejects(testExamples(await analysed(text), [[0, text.length]]), /marks every token/);
});
