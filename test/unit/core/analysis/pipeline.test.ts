// The analysis on the real bundled model with a generated test SAE (random directions, calibrated thresholds).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { analyzeText } from '../../../../src/core/analysis/analyzeText';
import { defaultLoaders } from '../../../../src/core/analysis/defaultLoaders';
import { featureOccurrences } from '../../../../src/core/analysis/occurrences';
import { AnalysisSession } from '../../../../src/core/analysis/session';
import { steerText } from '../../../../src/core/analysis/steerText';
import { CorpusIndex, featureDashboard } from '../../../../src/core/analysis/dashboard';
import { makeTestSae, TEST_SITE } from './testSae';

const root = resolve(__dirname, '../../../..');
const tmp = mkdtempSync(join(tmpdir(), 'fl-analysis-'));
let session: AnalysisSession;

before(async () => {
  const sae = await makeTestSae(join(tmp, 'sae'), join(root, 'models', 'tiny-lm'), { dSae: 256 });
  session = await AnalysisSession.open({ saePath: sae }, root, defaultLoaders());
});
after(async () => {
  await session?.dispose();
  rmSync(tmp, { recursive: true, force: true });
});

const TEXT = 'The cat sat on the mat.\nfunction add(a, b) { return a + b; }';

test('tokens cover the text with their offsets, features carry shares that sum to about one', async () => {
  const r = await analyzeText(session.model, session.requireSae(), session.site, TEXT, { topK: 256, maxTokens: 1024 });
  assert.equal(r.site, TEST_SITE);
  assert.equal(r.tokens.map((t) => t.text).join(''), TEXT);
  for (const t of r.tokens) {
    assert.equal(TEXT.slice(t.start, t.end), t.text);
    assert.equal(t.features.length, t.l0);
    if (t.l0 > 0) assert.ok(Math.abs(t.features.reduce((s, f) => s + f.share, 0) - 1) < 1e-3);
    assert.ok(t.reconError >= 0);
  }
  assert.ok(r.meanL0 > 0, 'the calibrated SAE fires somewhere');
});

test('long inputs are cut at maxTokens and say so', async () => {
  const r = await analyzeText(session.model, session.requireSae(), session.site, TEXT.repeat(4), { topK: 3, maxTokens: 10 });
  assert.equal(r.tokens.length, 10);
  assert.ok((r.truncatedFrom ?? 0) > 10);
});

test('occurrences of a feature are exactly the tokens where the analysis shows it', async () => {
  const r = await analyzeText(session.model, session.requireSae(), session.site, TEXT, { topK: 256, maxTokens: 1024 });
  const feature = r.tokens.find((t) => t.l0 > 0)!.features[0].id;
  const occ = await featureOccurrences(session.model, session.requireSae(), session.site, TEXT, feature, 1024);
  const expected = r.tokens.filter((t) => t.features.some((f) => f.id === feature)).map((t) => t.start);
  assert.deepEqual(occ.ranges.map((o) => o.start), expected);
});

test('steering: clamping a feature hard changes the next-token distribution, a no-op edit does not', async () => {
  const sae = session.requireSae();
  const r = await analyzeText(session.model, sae, session.site, 'The cat sat on the', { topK: 5, maxTokens: 64 });
  const silent = [...Array(sae.weights.config.dSae).keys()].find((j) => !r.tokens.some((t) => t.features.some((f) => f.id === j)))!;
  const none = await steerText(session.model, sae, session.site, 'The cat sat on the', silent, 0, { topK: 5, maxTokens: 64 });
  assert.ok(none.kl < 1e-6, `zeroing a silent feature is a no-op (KL ${none.kl})`);
  assert.deepEqual(none.before.map((t) => t.token), none.after.map((t) => t.token));
  const hard = await steerText(session.model, sae, session.site, 'The cat sat on the', silent, 40, { topK: 5, maxTokens: 64 });
  assert.ok(hard.kl > 1e-3, `clamping to 40 moves the distribution (KL ${hard.kl})`);
  assert.equal(hard.before.length, 5);
});

test('a dashboard lists examples where the feature fires and logit effects from the real unembedding', async () => {
  const sae = session.requireSae();
  const index = await CorpusIndex.build(session.model, sae, session.site, 'sample', [{ source: 'a', text: TEXT }, { source: 'b', text: 'It was a bright cold day in April.' }], {
    maxTokens: 512,
    windowTokens: 64,
  });
  const r = await analyzeText(session.model, sae, session.site, TEXT, { topK: 1, maxTokens: 64 });
  const feature = r.tokens.find((t) => t.l0 > 0)!.features[0].id;
  const d = featureDashboard(session.model, sae, session.site, index, feature, { examples: 5, context: 3, logitTokens: 4 });
  assert.ok(d.examples.length >= 1);
  assert.ok(d.examples[0].activations[d.examples[0].peak] > 0);
  assert.ok(d.density > 0 && d.density <= 1);
  assert.equal(d.histogram.counts.reduce((a, b) => a + b, 0), Math.round(d.density * d.corpusTokens));
  assert.equal(d.promoted.length, 4);
  assert.ok(d.promoted[0].value >= d.promoted[3].value);
  assert.ok(Math.abs(d.decoderNorm - 1) < 1e-4, 'unit-norm decoder rows');
  assert.ok(d.threshold !== undefined && d.threshold > 0);
});

test('an SAE applied at a site of another width is refused, naming both', async () => {
  const model = { ...session.model, sites: [{ name: 'x.hook', layer: 0, kind: 'hook_resid_post' as const, dim: 64 }] };
  await assert.rejects(
    analyzeText(model, session.requireSae(), 'x.hook', 'hi', { topK: 1, maxTokens: 8 }),
    (e: Error & { code?: string }) => e.code === 'saeMismatch' && /d_in 128/.test(e.message) && /x\.hook/.test(e.message) && /width 64/.test(e.message),
  );
});
