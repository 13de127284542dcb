// The analysis worker's engine with the bundled model and a copy of the bundled SAE and its shipped feature
// index: labels on analysed tokens, dashboards from the index, search, user labels winning and never lost.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { defaultLoaders, writeFeatureLabel } from '../../../src/core/analysis/defaultLoaders';
import { INDEX_FILE } from '../../../src/core/features/indexDb';
import { isCancellation } from '../../../src/core/util/abort';
import type { RequestContext } from '../../../src/protocol/rpc';
import { AnalysisEngine } from '../../../src/worker/engine';

const root = resolve(__dirname, '../../..');
const tmp = mkdtempSync(join(tmpdir(), 'fl-feature-engine-'));
const sae = join(tmp, 'sae');
cpSync(join(root, 'models/sae/blocks.1.hook_resid_post-jumprelu'), sae, { recursive: true });
const engine = new AnalysisEngine({ root, loaders: defaultLoaders({ cacheDir: join(tmp, 'cache') }), writeLabel: writeFeatureLabel });
after(async () => {
  await engine.dispose();
  rmSync(tmp, { recursive: true, force: true });
});
const progress: unknown[] = [];
const ctx = (): RequestContext => ({ signal: new AbortController().signal, progress: (p) => progress.push(p) });

test('analysed tokens carry automatic labels and densities from the shipped index', async () => {
  const info = await engine.handle({ kind: 'load', saePath: sae }, ctx());
  assert.ok(info.sae);
  const r = await engine.handle({ kind: 'analyze', text: 'The cat sat on the mat. function f(x) { return x; }', topK: 5, maxTokens: 256 }, ctx());
  const hits = r.tokens.flatMap((t) => t.features);
  assert.ok(hits.length > 0);
  const labelled = hits.filter((h) => h.labelSource === 'auto' && h.label);
  assert.ok(labelled.length / hits.length > 0.9, `${labelled.length} of ${hits.length} hits have automatic labels`);
  assert.ok(hits.every((h) => typeof h.density === 'number' && h.density >= 0 && h.density <= 1));
});

test('a dashboard opens from the index with its automatic label, scores, band samples and co-firing features', async () => {
  const r = await engine.handle({ kind: 'analyze', text: 'The history of the city', topK: 1, maxTokens: 64 }, ctx());
  const feature = r.tokens[2].features[0].id;
  const d = await engine.handle({ kind: 'showFeature', feature, examples: 8 }, ctx());
  assert.equal(d.feature, feature);
  assert.equal(d.labelSource, 'auto');
  assert.ok(d.autoLabel && d.autoLabel.label === d.label && d.autoLabel.rule.startsWith('fires when'));
  assert.ok(d.examples.length > 0 && d.examples.length <= 8);
  assert.ok(d.examples.every((e) => e.tokens.length === e.activations.length && e.peak < e.tokens.length));
  assert.ok((d.bandSamples ?? []).length > 0);
  assert.ok((d.coactivations ?? []).every((c) => c.share > 0 && c.share <= 1));
  assert.ok(d.histogram.counts.reduce((a, b) => a + b, 0) > 0);
  assert.equal(d.corpusName, 'sample-corpus');
  assert.ok(d.promoted.length > 0 && d.logitHistogram);
});

test('user labels win over automatic ones, and a hand-broken labels file is reported and never overwritten', async () => {
  const d0 = await engine.handle({ kind: 'findFeatures', query: ' the', mode: 'token', limit: 5, maxTokens: 64 }, ctx());
  const feature = d0[0].feature;
  await engine.handle({ kind: 'setLabel', feature, label: 'my definite article' }, ctx());
  const d = await engine.handle({ kind: 'showFeature', feature, examples: 4 }, ctx());
  assert.equal(d.label, 'my definite article');
  assert.equal(d.labelSource, 'user');
  assert.ok(d.autoLabel, 'the automatic label is still shown beside it');
  const hits = await engine.handle({ kind: 'findFeatures', query: 'definite article', mode: 'text', limit: 5, maxTokens: 64 }, ctx());
  assert.equal(hits[0].feature, feature);
  assert.equal(hits[0].labelSource, 'user');

  const file = join(sae, 'feature_labels.json');
  const broken = readFileSync(file, 'utf8').replace('"labels"', '"labels" oops');
  writeFileSync(file, broken);
  const info = await engine.handle({ kind: 'load', saePath: sae }, ctx());
  assert.ok(info.sae, 'the SAE still loads');
  assert.ok(info.warnings.some((w) => /feature labels could not be read/.test(w)));
  await assert.rejects(engine.handle({ kind: 'setLabel', feature: 1, label: 'x' }, ctx()));
  assert.equal(readFileSync(file, 'utf8'), broken, 'the broken file is left exactly as the user wrote it');
  rmSync(file);
});

test('find features: by label text, by top token, and the features firing on a selection', async () => {
  await engine.handle({ kind: 'load', saePath: sae }, ctx());
  const byText = await engine.handle({ kind: 'findFeatures', query: 'interface', mode: 'text', limit: 10, maxTokens: 64 }, ctx());
  assert.ok(byText.length > 0);
  assert.ok(byText.every((h) => h.label !== undefined));
  const byNumber = await engine.handle({ kind: 'findFeatures', query: '#12', mode: 'text', limit: 10, maxTokens: 64 }, ctx());
  assert.equal(byNumber[0].feature, 12);
  const byToken = await engine.handle({ kind: 'findFeatures', query: 'the', mode: 'token', limit: 10, maxTokens: 64 }, ctx());
  assert.ok(byToken.length > 0);
  assert.ok(byToken[0].score >= byToken[byToken.length - 1].score);
  const onSelection = await engine.handle({ kind: 'findFeatures', query: 'export function parse(text: string): number {', mode: 'selection', limit: 10, maxTokens: 64 }, ctx());
  assert.equal(onSelection.length, 10);
  assert.ok(onSelection[0].score >= onSelection[9].score);
});

test('hypothesis workbench: a regex over the indexed corpus and selected examples, with progress and labels', async () => {
  await engine.handle({ kind: 'load', saePath: sae }, ctx());
  progress.length = 0;
  const r = await engine.handle({ kind: 'testHypothesis', hypothesis: { kind: 'regex', pattern: '^ ?[0-9]+$' }, top: 5, probe: 2, maxTokens: 256 }, ctx());
  assert.match(r.description, /matching/);
  assert.ok(r.positives > 0 && r.heldoutPositives > 0 && r.tokens > r.positives);
  assert.equal(r.detectors.length, 5);
  assert.ok(r.detectors[0].auroc >= r.detectors[4].auroc);
  assert.ok(r.detectors[0].auroc > 0.8, `some feature detects number tokens: AUROC ${r.detectors[0].auroc}`);
  assert.ok(r.detectors.every((d) => d.precision >= 0 && d.precision <= 1 && d.recall >= 0 && d.recall <= 1 && typeof d.label === 'string'));
  assert.ok(r.probe && r.probe.features.length >= 1 && r.probe.heldoutAuroc !== undefined);
  assert.ok(progress.length > 0, 'encoding the corpus reports progress');

  const text = 'for (let i = 0; i < 10; i++) { total += values[i]; }\nThe cat sat on the mat and the dog sat on the log.';
  const at = text.indexOf('The cat');
  const ex = await engine.handle({ kind: 'testHypothesis', hypothesis: { kind: 'examples', text, ranges: [[at, text.length]] }, top: 3, probe: 1, maxTokens: 256 }, ctx());
  assert.match(ex.source, /examples' text/);
  assert.ok(ex.positives > 0 && ex.tokens > ex.positives);
  assert.equal(ex.detectors.length, 3);

  const cancel = new AbortController();
  cancel.abort();
  await assert.rejects(engine.handle({ kind: 'testHypothesis', hypothesis: { kind: 'tokens', tokens: ['the'] }, top: 3, probe: 1, maxTokens: 64 }, { signal: cancel.signal, progress: () => undefined }), (err) => isCancellation(err));
});

test('an index of another SAE is never shown as current: no automatic labels, the dashboard says so', async () => {
  const other = join(tmp, 'topk');
  cpSync(join(root, 'models/sae/baselines/blocks.1.hook_resid_post-topk'), other, { recursive: true });
  cpSync(join(root, 'models/sae/blocks.1.hook_resid_post-jumprelu', INDEX_FILE), join(other, INDEX_FILE));
  await engine.handle({ kind: 'load', saePath: other }, ctx());
  const r = await engine.handle({ kind: 'analyze', text: 'The cat sat on the mat.', topK: 5, maxTokens: 64 }, ctx());
  assert.ok(r.tokens.flatMap((t) => t.features).every((h) => h.labelSource !== 'auto' && h.density === undefined));
  const d = await engine.handle({ kind: 'showFeature', feature: 0, examples: 4 }, ctx());
  assert.match(d.indexPending ?? '', /no current feature index/);
  assert.equal(d.autoLabel, undefined);
  await engine.handle({ kind: 'load', saePath: sae }, ctx());
});

test('without a current index a dashboard answers from a quick scan; the index builds beside the queue (analyses go on), with progress and cancel', async () => {
  const corpus = join(tmp, 'other-corpus');
  mkdirSync(corpus);
  writeFileSync(join(corpus, 'a.txt'), Array.from({ length: 60 }, (_, i) => `Line ${i}: the quick brown fox jumps over the lazy dog number ${i}.`).join('\n'));
  const quick = await engine.handle({ kind: 'showFeature', feature: 3, corpusPath: corpus, examples: 4 }, ctx());
  assert.match(quick.indexPending ?? '', /quick scan/);
  assert.equal(quick.autoLabel, undefined);
  assert.equal(quick.corpusName, 'other-corpus');
  assert.ok(quick.histogram.counts.length > 0 && quick.promoted.length > 0);

  // Cancelled once it reports progress: nothing is left half-built, the dashboard still answers quickly.
  const cancel = new AbortController();
  await assert.rejects(
    engine.handle({ kind: 'buildIndex', corpusPath: corpus }, { signal: cancel.signal, progress: () => cancel.abort() }),
    (err) => isCancellation(err),
  );
  assert.match((await engine.handle({ kind: 'showFeature', feature: 3, corpusPath: corpus, examples: 4 }, ctx())).indexPending ?? '', /quick scan/);

  progress.length = 0;
  let built = false;
  const building = engine.handle({ kind: 'buildIndex', corpusPath: corpus }, ctx()).then((r) => ((built = true), r));
  const analysed = await engine.handle({ kind: 'analyze', text: 'The cat sat on the mat.', topK: 3, maxTokens: 32 }, ctx());
  assert.ok(analysed.tokens.length > 0);
  assert.equal(built, false, 'the analysis was answered while the index was still being built');
  const result = await building;
  assert.ok(result.labelled > 0 && progress.length > 0, 'building labels features and reports progress');
  const d = await engine.handle({ kind: 'showFeature', feature: 3, corpusPath: corpus, examples: 4 }, ctx());
  assert.equal(d.indexPending, undefined, 'the dashboard now comes from the index');
  assert.equal(d.corpusName, 'other-corpus');
  // The rebuilt index replaced the shipped one in the copy; the bundled folder is untouched.
  assert.notDeepEqual(readFileSync(join(sae, INDEX_FILE)), readFileSync(join(root, 'models/sae/blocks.1.hook_resid_post-jumprelu', INDEX_FILE)));
});
