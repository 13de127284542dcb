import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildFeatureIndex, DEFAULT_BUILD_OPTIONS } from '../../../../src/core/features/buildIndex';
import { FeatureIndexDb, staleReason } from '../../../../src/core/features/indexDb';
import { labelFeatures } from '../../../../src/core/features/labelFeatures';
import { KEY_KINDS } from '../../../../src/core/features/tokenKeys';
import { INDEX_VERSION } from '../../../../src/core/features/types';
import { isCancellation } from '../../../../src/core/util/abort';
import { FEATURES, syntheticCorpus, syntheticEncoder } from './synthetic';

const fingerprints = { sae: 'sae-1', model: 'model-1', corpus: 'corpus-1' };
const names = { sae: 'synthetic', model: 'words', site: 'site', corpus: 'synthetic' };

async function buildSynthetic(docs = 120) {
  const encoder = syntheticEncoder();
  const built = await buildFeatureIndex(
    { encoder, documents: syntheticCorpus(docs), fingerprints, names, decoderNorms: new Float32Array(7).fill(1) },
    { ...DEFAULT_BUILD_OPTIONS, windowTokens: 30 },
  );
  return { encoder, built, db: await FeatureIndexDb.create(built) };
}

test('index: density, histogram, contexts and co-activations of features with known rules', async () => {
  const { built, db } = await buildSynthetic();
  const catShare = built.features[FEATURES.cat].fires / built.meta.explainTokens;
  assert.ok(catShare > 0.02 && catShare < 0.06, `"cat" is 1 word in 30: density ${catShare}`);
  assert.equal(built.features[FEATURES.dead].fires, 0);
  // Stored and read back through SQLite.
  const cat = db.feature(FEATURES.cat)!;
  assert.equal(cat.fires, built.features[FEATURES.cat].fires);
  assert.equal(cat.histogram.reduce((a, b) => a + b, 0), cat.fires);
  const top = cat.contexts.filter((c) => c.band === -1);
  assert.equal(top.length, 10);
  const texts = db.tokenTexts();
  for (const c of top) {
    const ids = db.windowTokens(c.window);
    assert.equal(texts.get(ids[c.start + c.peak]), ' cat', 'the peak of every top context is the token "cat"');
    assert.ok(Math.abs(c.activations[c.peak] - c.maxActivation) < 1e-6);
  }
  assert.ok(top[0].maxActivation >= top[top.length - 1].maxActivation);
  assert.equal(cat.coactivations[0].other, FEATURES.withCat, 'the feature built to fire with "cat" co-fires most');
  assert.equal(cat.coactivations[0].count, cat.fires);
  // Band samples come from their activation band.
  const bands = cat.contexts.filter((c) => c.band >= 0);
  assert.ok(bands.length > 0);
  for (const c of bands) assert.equal(Math.min(9, Math.floor((c.maxActivation / cat.maxActivation) * 10)), c.band);
  db.close();
});

test('labels: a one-token feature is labelled with that token and scores high on held-out text; a random one scores near chance', async () => {
  const { encoder, db } = await buildSynthetic(200);
  const labels = new Map((await labelFeatures(db, encoder)).map((l) => [l.feature, l]));
  const cat = labels.get(FEATURES.cat)!;
  assert.deepEqual(cat.parts.map((p) => KEY_KINDS[p.kind]), ['token']);
  assert.match(cat.label, /^" cat"$/);
  assert.ok(cat.scores.auroc! > 0.99, `cat AUROC ${cat.scores.auroc}`);
  assert.ok(cat.scores.balancedAccuracy! > 0.99);
  assert.ok(cat.scores.correlation! > 0.9);
  assert.ok(cat.scores.heldoutFires > 0 && cat.scores.heldoutTokens > 0);

  const after = labels.get(FEATURES.afterThe)!;
  assert.equal(KEY_KINDS[after.parts[0].kind], 'prev');
  assert.match(after.label, /after "the"/);
  assert.ok(after.scores.auroc! > 0.95);

  const num = labels.get(FEATURES.numbers)!;
  assert.ok(['class', 'token', 'word'].includes(KEY_KINDS[num.parts[0].kind]));
  assert.ok(num.scores.auroc! > 0.95, `numbers AUROC ${num.scores.auroc}`);

  // A feature with two causes gets a rule of two parts, and the label's own rule is what scores high.
  const two = labels.get(FEATURES.dogOrAfterRed)!;
  assert.deepEqual(two.parts.map((p) => KEY_KINDS[p.kind]).sort(), ['prev', 'token']);
  assert.match(two.label, /" dog"/);
  assert.match(two.label, /after " red"/);
  assert.ok(two.scores.ruleAuroc! > 0.97, `two-part rule AUROC ${two.scores.ruleAuroc}`);
  assert.ok(two.scores.validationAuroc! > 0.95, 'chosen on the validation sample');
  assert.ok(cat.scores.ruleAuroc! > 0.99 && after.scores.ruleAuroc! > 0.99);

  const random = labels.get(FEATURES.random)!;
  assert.ok(Math.abs(random.scores.ruleAuroc! - 0.5) < 0.1, `random feature rule AUROC ${random.scores.ruleAuroc}`);
  assert.ok(Math.abs(random.scores.auroc! - 0.5) < 0.1, `random feature AUROC ${random.scores.auroc}`);
  assert.ok(Math.abs(random.scores.balancedAccuracy! - 0.5) < 0.1);

  assert.equal(labels.has(FEATURES.dead), false, 'a dead feature gets no label');
  // Labels are stored in the index and survive a save/open round trip.
  const reopened = await FeatureIndexDb.open(db.bytes(), 'memory');
  assert.equal(reopened.autoLabels().get(FEATURES.cat)?.label, cat.label);
  assert.equal(reopened.autoLabels().get(FEATURES.cat)?.scores.auroc, cat.scores.auroc);
  reopened.close();
  db.close();
});

test('search finds features by label, top token and context words', async () => {
  const { encoder, db } = await buildSynthetic();
  await labelFeatures(db, encoder);
  assert.equal(db.search('cat')[0].feature, FEATURES.cat);
  assert.equal(db.search('42')[0].feature, FEATURES.numbers);
  assert.deepEqual(db.search('zebra'), []);
  assert.deepEqual(db.search('  "" '), []);
  db.close();
});

test('an index from another SAE, model, corpus or format version is recognised as stale', async () => {
  const { db } = await buildSynthetic(20);
  assert.equal(staleReason(db.meta, fingerprints), undefined);
  assert.match(staleReason(db.meta, { ...fingerprints, sae: 'other' })!, /another SAE/);
  assert.match(staleReason(db.meta, { ...fingerprints, model: 'other' })!, /another model/);
  assert.match(staleReason(db.meta, { ...fingerprints, corpus: 'other' })!, /another corpus/);
  assert.match(staleReason({ ...db.meta, version: INDEX_VERSION - 1 }, fingerprints)!, /format/);
  db.close();
});

test('a corrupt or foreign file is reported, not opened', async () => {
  await assert.rejects(FeatureIndexDb.open(new TextEncoder().encode('not a database at all'), 'x.sqlite'), /x\.sqlite is not a feature index/);
});

test('building is cancellable and reports progress', async () => {
  const controller = new AbortController();
  const phases: string[] = [];
  await assert.rejects(
    buildFeatureIndex({ encoder: syntheticEncoder(), documents: syntheticCorpus(100), fingerprints, names, decoderNorms: new Float32Array(7) }, { ...DEFAULT_BUILD_OPTIONS, windowTokens: 30 }, (p) => {
      phases.push(p.phase);
      if (p.done > 300) controller.abort();
    }, controller.signal),
    (err) => isCancellation(err),
  );
  assert.ok(phases.includes('encoding'));
});
