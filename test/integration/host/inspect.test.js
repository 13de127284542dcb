// Inspect in the editor, through the real vscode API: analyze a selection, highlight a feature,
// survive a worker crash, open a dashboard, and refuse binary text.
const assert = require('node:assert/strict');
const vscode = require('vscode');
const { test, waitFor, activeExtension, allTabs, closeAllEditors, editorWith } = require('./harness');
const { testSaeDir } = require('../fixtures/testSae.js');

const TEXT = 'The quick brown fox jumps over the lazy dog.\nfunction add(a, b) { return a + b; }';

test('Load SAE with a folder loads it (status reflects it)', async () => {
  await activeExtension();
  await vscode.commands.executeCommand('featureLens.loadSae', testSaeDir());
}, { timeout: 180_000 });

test('Analyze Selection shows every token of the selection with its features in the token view', async () => {
  await closeAllEditors();
  await editorWith(TEXT);
  const analysed = await vscode.commands.executeCommand('featureLens.analyzeSelection');
  assert.ok(analysed, 'the command returned no analysis');
  const result = analysed.result;
  assert.equal(result.tokens.map((t) => t.text).join(''), TEXT);
  assert.equal(result.site, 'blocks.2.hook_resid_post');
  assert.ok(result.tokens.some((t) => t.features.length > 0), 'no feature fires anywhere');
  await waitFor(() => allTabs().some((t) => t.label === 'Feature Lens: Tokens'), { what: 'the token view tab' });
  const posted = await vscode.commands.executeCommand('featureLens._test.tokenMessages');
  assert.ok(posted.includes('analysis'), `the token view got ${posted.join(', ')}`);
}, { timeout: 120_000 });

test('selecting a feature in the token view decorates every token where it fires', async () => {
  const result = await vscode.commands.executeCommand('featureLens._test.lastAnalysis');
  const feature = result.tokens.find((t) => t.features.length > 0).features[0].id;
  const expected = result.tokens.filter((t, i) => {
    for (let e = result.active.rowStart[i]; e < result.active.rowStart[i + 1]; e++) if (result.active.featureIds[e] === feature) return true;
    return false;
  }).length;
  const refused = await vscode.commands.executeCommand('featureLens._test.postToTokens', { type: 'selectFeature', feature });
  assert.equal(refused, undefined);
  const state = await vscode.commands.executeCommand('featureLens._test.highlightState');
  assert.equal(state.feature, feature);
  assert.equal(state.count, expected);
  assert.ok(state.count > 0);
  await vscode.commands.executeCommand('featureLens.clearHighlights');
  assert.equal(await vscode.commands.executeCommand('featureLens._test.highlightState'), undefined);
  const bad = await vscode.commands.executeCommand('featureLens._test.postToTokens', { type: 'selectFeature', feature: 'all' });
  assert.match(bad, /feature/);
}, { timeout: 60_000 });

test('after the worker dies, the next analysis restarts it', async () => {
  await vscode.commands.executeCommand('featureLens._test.killWorker');
  await closeAllEditors();
  await editorWith('A second run after a crash.');
  const analysed = await waitFor(() => vscode.commands.executeCommand('featureLens.analyzeSelection'), { what: 'an analysis after the restart', timeout: 60_000 });
  assert.equal(analysed.result.tokens.map((t) => t.text).join(''), 'A second run after a crash.');
}, { timeout: 120_000 });

test('Highlight Feature in File decorates the open file', async () => {
  await closeAllEditors();
  await editorWith(TEXT);
  const result = await vscode.commands.executeCommand('featureLens.analyzeSelection');
  const feature = result.result.tokens.find((t) => t.features.length > 0).features[0].id;
  await vscode.commands.executeCommand('featureLens.highlightFeature', feature);
  const state = await vscode.commands.executeCommand('featureLens._test.highlightState');
  assert.equal(state.feature, feature);
  assert.ok(state.count > 0);
}, { timeout: 120_000 });

test('a binary-looking selection is refused, not analysed', async () => {
  await closeAllEditors();
  await editorWith('abc\u0000\u0000def');
  const analysed = await vscode.commands.executeCommand('featureLens.analyzeSelection');
  assert.equal(analysed, undefined);
}, { timeout: 30_000 });
