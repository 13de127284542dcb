// The Feature Lens activity-bar view: SAE folders and training runs found on disk, with their metrics and
// status, read back from the files (so a reloaded window shows the same tree).
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const vscode = require('vscode');
const { test, activeExtension, waitFor } = require('./harness');

test(
  'the view lists models, bundled and workspace SAEs with architecture, site, L0 and FVU, and an interrupted run with its checkpoint',
  async () => {
    const extension = await activeExtension();
    const bundled = path.join(extension.extensionUri.fsPath, 'models', 'sae', 'blocks.1.hook_resid_post-jumprelu');
    const root = vscode.workspace.workspaceFolders[0].uri.fsPath;
    const sae = path.join(root, 'tree-sae');
    const run = path.join(root, 'tree-run');
    try {
      for (const dir of [sae, run]) {
        fs.mkdirSync(dir, { recursive: true });
        for (const name of ['cfg.json', 'sae_weights.safetensors', 'metrics.json']) fs.copyFileSync(path.join(bundled, name), path.join(dir, name));
      }
      // A run stopped at step 5: trainer state present, metrics without a summary.
      fs.writeFileSync(path.join(run, 'metrics.json'), JSON.stringify({ version: 1, records: [{ step: 5, tokens: 640, l0: 7.5, fvu: 0.25 }] }));
      fs.writeFileSync(path.join(run, 'trainer_state.json'), '{}');
      const snapshot = await waitFor(
        async () => {
          const s = await vscode.commands.executeCommand('featureLens._test.treeSnapshot');
          const runs = s.find((g) => g.group === 'Training runs');
          return runs && runs.rows.some((r) => r.label === 'tree-run') ? s : undefined;
        },
        { timeout: 60_000, what: 'tree-run in the view' },
      );
      assert.deepEqual(snapshot.map((g) => g.group), ['Models', 'SAEs', 'Training runs']);
      assert.ok(snapshot[0].rows.some((r) => r.label === 'tiny-lm' && /bundled/.test(r.description)), JSON.stringify(snapshot[0]));
      const saes = snapshot[1].rows;
      const mine = saes.find((r) => r.label === 'tree-sae');
      assert.ok(mine, JSON.stringify(saes.map((r) => r.label)));
      // L0 and FVU come from the copied metrics.json's final summary, three significant digits.
      const final = JSON.parse(fs.readFileSync(path.join(bundled, 'metrics.json'), 'utf8')).summary.final;
      assert.equal(mine.description, `workspace · jumprelu · blocks.1.hook_resid_post · d_sae 2048 · L0 ${final.l0.toPrecision(3)} · FVU ${final.fvu.toPrecision(3)}`);
      assert.equal(mine.context, 'featureLens.sae');
      assert.ok(saes.some((r) => r.label === 'blocks.1.hook_resid_post-jumprelu' && r.description.startsWith('bundled')));
      const stopped = snapshot[2].rows.find((r) => r.label === 'tree-run');
      assert.equal(stopped.description, 'interrupted — can resume');
      assert.equal(stopped.context, 'featureLens.run.interrupted');
      assert.deepEqual(stopped.children, ['checkpoint · step 5 jumprelu · blocks.1.hook_resid_post · d_sae 2048 · L0 7.50 · FVU 0.250']);
      assert.ok(!saes.some((r) => r.label === 'tree-run'), 'a run is listed under runs, not SAEs');
    } finally {
      fs.rmSync(sae, { recursive: true, force: true });
      fs.rmSync(run, { recursive: true, force: true });
    }
  },
  { timeout: 120_000 },
);
