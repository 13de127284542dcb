// Compare Checkpoints' views inside a real VS Code: the plot data and matching counts of two different SAEs,
// the side-by-side decomposition (matched features on one row), a click on a matched pair opening both
// dashboards side by side, and a kept run history giving the dashboard its genealogy timeline.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const vscode = require('vscode');
const { test, waitFor, activeExtension, allTabs, closeAllEditors } = require('./harness');

function copySae(from, to, files = ['cfg.json', 'sae_weights.safetensors']) {
  fs.mkdirSync(to, { recursive: true });
  for (const name of files) fs.copyFileSync(path.join(from, name), path.join(to, name));
}
const compareState = () => vscode.commands.executeCommand('featureLens._test.compareState');
const post = (raw) => vscode.commands.executeCommand('featureLens._test.postToCompare', raw);

test(
  'JumpReLU vs TopK: matching counts add up, and the sample text is decomposed side by side with matched features on one row',
  async () => {
    const extension = await activeExtension();
    await closeAllEditors();
    const bundled = path.join(extension.extensionUri.fsPath, 'models', 'sae');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fl-it-compare-views-'));
    try {
      const a = path.join(dir, 'jumprelu');
      const b = path.join(dir, 'topk');
      copySae(path.join(bundled, 'blocks.1.hook_resid_post-jumprelu'), a);
      copySae(path.join(bundled, 'baselines', 'blocks.1.hook_resid_post-topk'), b);
      const c = await vscode.commands.executeCommand('featureLens.compareCheckpoints', [a, b]);
      assert.ok(c && c.matching, 'no comparison');
      const m = c.matching;
      const dA = c.checkpoints[0].dSae;
      // Counts per threshold never grow with the threshold, and equal the pairs at or above it.
      const counts = m.matchedAbove.map((t) => t.count);
      assert.deepEqual(counts, [...counts].sort((x, y) => y - x));
      for (const t of m.matchedAbove) assert.equal(t.count, m.pairs.filter((p) => p.cos >= t.threshold).length);
      assert.equal(m.bestCosHistogram.counts.reduce((s, n) => s + n, 0), dA, 'one best cosine per feature of A');
      assert.equal(m.unmatchedA.length + m.matchedAbove[0].count, dA);
      assert.ok(m.matchedAbove[0].count > 0 && m.matchedAbove[0].count < dA, `two different SAEs share some features: ${counts}`);
      for (const x of c.checkpoints) for (const k of ['l0', 'fvu', 'deltaLoss', 'lossRecovered', 'kl', 'deadFeatures', 'denseFeatures']) assert.ok(Number.isFinite(x.metrics[k]), `${x.label} ${k}`);

      const s = await waitFor(async () => (await compareState()).sideBySide, { timeout: 120_000, what: 'the side-by-side decomposition' });
      assert.match(s.text, /quick brown fox/, 'nothing selected: the sample text');
      assert.ok(s.tokens.length > 10, String(s.tokens.length));
      const pairs = new Map(m.pairs.map((p) => [p.a, p]));
      let aligned = 0;
      for (const t of s.tokens) {
        for (const row of t.rows) {
          assert.ok(row.a || row.b);
          if (row.cos === undefined) continue;
          aligned++;
          assert.equal(pairs.get(row.a.feature).b, row.b.feature, 'an aligned row holds a matched pair');
          assert.ok(row.cos >= 0.5 && row.a.activation > 0 && row.b.activation > 0);
        }
      }
      assert.equal(aligned, s.alignedRows);
      assert.ok(s.alignedRows > 0 && s.alignedRows < s.totalRows, `${s.alignedRows} of ${s.totalRows}`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
  { timeout: 300_000 },
);

test(
  'a click on a matched pair opens both dashboards side by side; checkpoints of a run show their genealogy',
  async () => {
    const extension = await activeExtension();
    await closeAllEditors();
    const from = path.join(extension.extensionUri.fsPath, 'models', 'sae', 'blocks.1.hook_resid_post-jumprelu');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fl-it-compare-pair-'));
    try {
      // A run's kept history: two checkpoints (copies with the shipped feature index, so no index is built).
      const files = ['cfg.json', 'sae_weights.safetensors', 'feature_index.sqlite.gz'];
      const early = path.join(dir, 'run.checkpoints', 'step-0000100');
      const late = path.join(dir, 'run.checkpoints', 'step-0000200');
      copySae(from, early, files);
      copySae(from, late, files);
      const c = await vscode.commands.executeCommand('featureLens.compareCheckpoints', [early, late]);
      assert.deepEqual(c.checkpoints.map((x) => [x.label, x.run, x.step]), [
        ['run/step-0000100', path.join(dir, 'run'), 100],
        ['run/step-0000200', path.join(dir, 'run'), 200],
      ]);
      const pair = c.matching.pairs.find((p) => p.a === 7);
      assert.equal(pair.b, 7, 'a copy matches feature 7 to itself');

      assert.equal(await post({ type: 'openPair', a: pair.a, b: pair.b }), undefined, 'the message is accepted');
      const state = await waitFor(async () => {
        const st = await compareState();
        return st.pairDashboards[0] && st.pairDashboards[1] ? st : undefined;
      }, { timeout: 120_000, what: 'both pair dashboards' });
      assert.deepEqual(state.pairTitles, ['#7 · step-0000100', '#7 · step-0000200']);
      assert.deepEqual(state.pairDashboards.map((d) => [d[0], d[2]]), [[7, [7, 7]], [7, [7, 7]]], 'each dashboard has the genealogy timeline');
      const tabs = await waitFor(() => {
        const found = state.pairTitles.map((t) => allTabs().find((tab) => tab.label === t));
        return found.every(Boolean) ? found : undefined;
      }, { what: 'the two dashboard tabs' });
      assert.notEqual(tabs[0].group.viewColumn, tabs[1].group.viewColumn, 'side by side, not stacked');
      assert.ok(allTabs().some((t) => t.label === 'Compare Checkpoints'));
    } finally {
      await closeAllEditors();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
  { timeout: 300_000 },
);

test(
  'tree: Evaluate caches metrics beside an SAE and shows ΔLM in its description; kept checkpoints are listed under their run',
  async () => {
    const extension = await activeExtension();
    const bundled = path.join(extension.extensionUri.fsPath, 'models', 'sae', 'blocks.1.hook_resid_post-jumprelu');
    const root = vscode.workspace.workspaceFolders[0].uri.fsPath;
    const sae = path.join(root, 'eval-sae');
    const run = path.join(root, 'kept-run');
    const kept = [path.join(root, 'kept-run.checkpoints', 'step-0000010'), path.join(root, 'kept-run.checkpoints', 'step-0000020')];
    try {
      copySae(bundled, sae);
      const result = await vscode.commands.executeCommand('featureLens.tree.evaluate', vscode.Uri.file(sae));
      assert.ok(result && Number.isFinite(result.metrics.deltaLoss) && Number.isFinite(result.metrics.l0), JSON.stringify(result));
      assert.ok(fs.existsSync(path.join(sae, 'evaluations.json')));
      const again = await vscode.commands.executeCommand('featureLens.tree.evaluate', vscode.Uri.file(sae));
      assert.equal(again.cached, true, 'the second Evaluate reads the cache');

      copySae(bundled, run);
      fs.writeFileSync(path.join(run, 'trainer_state.json'), '{}');
      for (const k of kept) copySae(bundled, k);
      const snapshot = await waitFor(
        async () => {
          const s = await vscode.commands.executeCommand('featureLens._test.treeSnapshot');
          const saes = s.find((g) => g.group === 'SAEs');
          const runs = s.find((g) => g.group === 'Training runs');
          const evaluated = saes && saes.rows.find((r) => r.label === 'eval-sae');
          return evaluated && /ΔLM/.test(evaluated.description) && runs && runs.rows.some((r) => r.label === 'kept-run' && r.children.length === 3) ? s : undefined;
        },
        { timeout: 60_000, what: 'eval-sae with ΔLM, and kept-run with its checkpoints' },
      );
      const saes = snapshot.find((g) => g.group === 'SAEs').rows;
      const f = (v) => Number(v.toPrecision(3)).toString();
      const description = saes.find((r) => r.label === 'eval-sae').description;
      assert.ok(description.includes(`L0 ${result.metrics.l0.toPrecision(3)}`) && description.includes(`ΔLM ${result.metrics.deltaLoss.toPrecision(3)}`), `${description} vs ${f(result.metrics.l0)}`);
      assert.ok(!saes.some((r) => /^step-/.test(r.label)), 'kept checkpoints are not listed as SAEs');
      const children = snapshot.find((g) => g.group === 'Training runs').rows.find((r) => r.label === 'kept-run').children;
      assert.deepEqual(children.map((c) => c.split(' ').slice(0, 4).join(' ')), ['checkpoint · step 10', 'checkpoint · step 20', 'checkpoint · step ?']);
    } finally {
      for (const dir of [sae, run, path.join(root, 'kept-run.checkpoints')]) fs.rmSync(dir, { recursive: true, force: true });
    }
  },
  { timeout: 300_000 },
);
