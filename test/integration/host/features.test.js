// The bundled SAE's shipped feature index inside the real extension host: Find Feature searches it and
// opens a dashboard that carries its automatic label and held-out scores.
const assert = require('node:assert/strict');
const path = require('node:path');
const vscode = require('vscode');
const { test, waitFor, activeExtension } = require('./harness');

test('Find Feature searches the labelled index and opens a dashboard with the automatic label and its scores', async () => {
  const extension = await activeExtension();
  const bundled = path.join(extension.extensionPath, 'models', 'sae', 'blocks.1.hook_resid_post-jumprelu');
  await vscode.commands.executeCommand('featureLens._test.loadWithoutPrompts', bundled);

  const byToken = await vscode.commands.executeCommand('featureLens.findFeature', 'the', 'token');
  assert.ok(byToken.length > 0, 'some feature fires most on "the"');
  const dashboard = await waitFor(async () => {
    const d = await vscode.commands.executeCommand('featureLens._test.lastDashboard');
    return d && d.feature === byToken[0].feature ? d : undefined;
  }, { what: `the dashboard of feature ${byToken[0].feature}`, timeout: 60_000 });
  assert.equal(dashboard.labelSource, 'auto');
  assert.ok(dashboard.autoLabel.label.length > 0);
  assert.match(dashboard.autoLabel.rule, /^fires when /);
  assert.ok(dashboard.autoLabel.auroc > 0.5, `held-out AUROC ${dashboard.autoLabel.auroc}`);
  assert.ok(dashboard.examples.length > 0 && dashboard.bandSamples.length > 0);
  assert.equal(dashboard.corpusName, 'sample-corpus');

  const byText = await vscode.commands.executeCommand('featureLens.findFeature', dashboard.autoLabel.label.replace(/[^\p{L}\p{N} ]/gu, ' ').trim().split(/\s+/)[0] || 'the', 'text');
  assert.ok(byText.length > 0, 'searching a word of the label finds features');
  const byNumber = await vscode.commands.executeCommand('featureLens.findFeature', '#7', 'text');
  assert.equal(byNumber[0].feature, 7);
}, { timeout: 180_000 });
