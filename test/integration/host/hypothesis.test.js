// The hypothesis workbench inside the real extension host: "Test Hypothesis…" runs a rule in the worker over the
// bundled SAE's indexed corpus and shows the detecting features in its webview; a feature opens its dashboard;
// the editor's selections work as positive examples.
const assert = require('node:assert/strict');
const path = require('node:path');
const vscode = require('vscode');
const { test, waitFor, activeExtension, editorWith } = require('./harness');

async function hypothesisPanelShows(type) {
  return waitFor(
    async () => {
      const r = await vscode.commands.executeCommand('featureLens._test.postToHypothesis');
      return r.delivered && r.shown.includes(type) ? r : undefined;
    },
    { what: `the hypothesis panel showing ${type}`, timeout: 30_000 },
  );
}

test('Test Hypothesis ranks features for a regex with AUROC, precision, recall and a probe; a feature opens its dashboard', async () => {
  const extension = await activeExtension();
  const bundled = path.join(extension.extensionPath, 'models', 'sae', 'blocks.1.hook_resid_post-jumprelu');
  await vscode.commands.executeCommand('featureLens._test.loadWithoutPrompts', bundled);

  const result = await vscode.commands.executeCommand('featureLens.testHypothesis', { regex: '^ ?[0-9]+$' });
  assert.ok(result, 'the command returns its result');
  assert.ok(result.positives > 0 && result.tokens > result.positives);
  assert.ok(result.detectors.length > 0);
  for (const d of result.detectors) {
    assert.ok(d.auroc >= 0 && d.auroc <= 1 && d.precision >= 0 && d.precision <= 1 && d.recall >= 0 && d.recall <= 1, JSON.stringify(d));
  }
  assert.ok(result.detectors[0].auroc > 0.8, `best AUROC ${result.detectors[0].auroc}`);
  assert.ok(result.probe && result.probe.features.length > 0);
  const last = await vscode.commands.executeCommand('featureLens._test.lastHypothesis');
  assert.equal(last.description, result.description);
  await hypothesisPanelShows('hypothesisResult');

  // Clicking a feature in the webview posts openFeature: its dashboard opens.
  const feature = result.detectors[0].feature;
  const posted = await vscode.commands.executeCommand('featureLens._test.postToHypothesis', { type: 'openFeature', feature });
  assert.equal(posted.refused, undefined);
  const dashboard = await waitFor(async () => {
    const d = await vscode.commands.executeCommand('featureLens._test.lastDashboard');
    return d && d.feature === feature ? d : undefined;
  }, { what: `the dashboard of feature ${feature}`, timeout: 60_000 });
  assert.equal(dashboard.feature, feature);

  // A rule typed in the webview runs too; a malformed one is refused.
  const refused = await vscode.commands.executeCommand('featureLens._test.postToHypothesis', { type: 'runHypothesis', hypothesis: { kind: 'regex' } });
  assert.match(refused.refused, /pattern/);
  await vscode.commands.executeCommand('featureLens._test.postToHypothesis', { type: 'runHypothesis', hypothesis: { kind: 'tokens', tokens: ['the'] } });
  await waitFor(async () => (await vscode.commands.executeCommand('featureLens._test.lastHypothesis'))?.description.includes('"the"'), { what: 'the word-list hypothesis result', timeout: 120_000 });
}, { timeout: 300_000 });

test('Test Hypothesis with the editor selections as positive examples', async () => {
  const text = 'Prices: 12 apples, 7 pears and 19 plums cost 45 coins; 3 boxes hold 28 eggs and 6 jars.';
  const editor = await editorWith(text);
  const doc = editor.document;
  editor.selections = [...text.matchAll(/\d+/g)].map((m) => new vscode.Selection(doc.positionAt(m.index), doc.positionAt(m.index + m[0].length)));
  const result = await vscode.commands.executeCommand('featureLens.testHypothesis', { fromSelection: true });
  assert.ok(result, 'the command returns its result');
  assert.match(result.description, /7 selected examples/);
  assert.ok(result.positives + result.heldoutPositives >= 7, `${result.positives} + ${result.heldoutPositives} positive tokens`);
  assert.ok(result.detectors.length > 0 && result.detectors[0].auroc > 0.5);
  await hypothesisPanelShows('hypothesisResult');
}, { timeout: 120_000 });
