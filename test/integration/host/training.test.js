// The training commands inside a real VS Code: registered, and a small job really runs in
// dist/trainWorker.js (ONNX Runtime inside a worker thread of the extension host) and leaves an SAE.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const vscode = require('vscode');
const { test, activeExtension, waitFor } = require('./harness');

test('the training commands are registered', async () => {
  await activeExtension();
  const commands = await vscode.commands.getCommands(true);
  for (const id of ['featureLens.trainSae', 'featureLens.cancelTraining', 'featureLens.resumeTraining', 'featureLens.runConfig']) {
    assert.ok(commands.includes(id), `${id} is not registered`);
  }
});

test(
  'a small corpus job harvests through the bundled model and writes an SAE',
  async () => {
    const extension = await activeExtension();
    const root = extension.extensionUri.fsPath;
    const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fl-it-train-'));
    const outcome = await vscode.commands.executeCommand('featureLens._test.trainJob', {
      site: 'blocks.1.hook_resid_post',
      arch: 'topk',
      k: 8,
      dSae: 256,
      tokens: 4096,
      batchSize: 512,
      data: { kind: 'corpus', modelPath: path.join(root, 'models/tiny-lm'), corpusDir: path.join(root, 'models/sample-corpus'), cacheDir: '' },
      outDir,
      checkpointEvery: 4,
      seed: 0,
    });
    assert.equal(outcome && outcome.kind, 'done', JSON.stringify(outcome));
    assert.equal(outcome.summary.cancelled, false);
    assert.equal(outcome.summary.final.l0, 8);
    const cfg = JSON.parse(fs.readFileSync(path.join(outDir, 'cfg.json'), 'utf8'));
    assert.equal(cfg.d_in, 128);
    assert.equal(cfg.metadata.hook_name, 'blocks.1.hook_resid_post');
    fs.rmSync(outDir, { recursive: true, force: true });
  },
  { timeout: 180_000 },
);

test(
  'Train SAE… asks about the model chosen with Select Model and the hook sites the worker found in it',
  async () => {
    const extension = await activeExtension();
    const bundled = path.join(extension.extensionUri.fsPath, 'models/tiny-lm');
    // A second model folder (a copy of the bundled one), so "the active model" and "the bundled model" differ.
    const chosen = fs.mkdtempSync(path.join(os.tmpdir(), 'fl-it-model-'));
    for (const name of fs.readdirSync(bundled)) fs.copyFileSync(path.join(bundled, name), path.join(chosen, name));
    try {
      const loaded = await vscode.commands.executeCommand('featureLens.selectModel', chosen);
      assert.equal(loaded && loaded.model.path, chosen, JSON.stringify(loaded && loaded.model));
      const { job, asked } = await vscode.commands.executeCommand('featureLens._test.trainDialogue');
      assert.equal(job.data.modelPath, chosen);
      const sitePick = asked[0];
      assert.match(sitePick.title, /Hook site/);
      assert.deepEqual([...sitePick.labels].sort(), loaded.sites.map((s) => s.name).sort());
      assert.equal(job.site, loaded.site);
      assert.equal(job.dSae, 16 * loaded.sites.find((s) => s.name === loaded.site).dim);
    } finally {
      await vscode.commands.executeCommand('featureLens.selectModel', '');
      fs.rmSync(chosen, { recursive: true, force: true });
    }
  },
  { timeout: 120_000 },
);

test(
  'a *.featurelens-run.json gets the schema\'s errors in the editor, is refused with the same words, and Run This Config trains it',
  async () => {
    const extension = await activeExtension();
    const root = extension.extensionUri.fsPath;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fl-it-runfile-'));
    const run = {
      site: 'blocks.1.hook_resid_post',
      arch: 'topk',
      k: 4,
      dSae: 128,
      tokens: 2048,
      batchSize: 512,
      outDir: 'sae-out',
      data: { kind: 'corpus', modelPath: path.join(root, 'models/tiny-lm'), corpusDir: path.join(root, 'models/sample-corpus') },
    };
    try {
      const bad = path.join(dir, 'bad.featurelens-run.json');
      fs.writeFileSync(bad, JSON.stringify({ ...run, learningRate: 0.1 }, null, 2));
      const badUri = vscode.Uri.file(bad);
      await vscode.window.showTextDocument(badUri);
      // VS Code's JSON validation reads the contributed schema: the unknown key is flagged in the editor.
      const diagnostics = await waitFor(() => {
        const d = vscode.languages.getDiagnostics(badUri).map((x) => x.message);
        return d.length > 0 ? d : undefined;
      }, { timeout: 60_000, what: 'schema diagnostics on the run file' });
      assert.ok(diagnostics.includes('Property learningRate is not allowed.'), JSON.stringify(diagnostics));
      const refused = await vscode.commands.executeCommand('featureLens.runConfig', badUri);
      assert.deepEqual(refused, { kind: 'refused', message: 'bad.featurelens-run.json: Property learningRate is not allowed.' });
      assert.equal(fs.existsSync(path.join(dir, 'sae-out')), false);

      const good = path.join(dir, 'good.featurelens-run.json');
      fs.writeFileSync(good, JSON.stringify(run, null, 2));
      const outcome = await vscode.commands.executeCommand('featureLens.runConfig', vscode.Uri.file(good));
      assert.equal(outcome && outcome.kind, 'done', JSON.stringify(outcome));
      assert.equal(outcome.summary.outDir, path.join(dir, 'sae-out'));
      assert.equal(outcome.summary.final.l0, 4);
      assert.equal(JSON.parse(fs.readFileSync(path.join(dir, 'sae-out', 'cfg.json'), 'utf8')).d_sae, 128);
    } finally {
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
  { timeout: 180_000 },
);
