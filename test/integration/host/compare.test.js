// Compare Checkpoints inside a real VS Code: the command evaluates SAEs in the analysis worker through the
// bundled model, matches features, caches metrics beside each checkpoint, and refuses mixed sites.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const vscode = require('vscode');
const { test, activeExtension } = require('./harness');

function copySae(from, to) {
  fs.mkdirSync(to, { recursive: true });
  for (const name of ['cfg.json', 'sae_weights.safetensors']) fs.copyFileSync(path.join(from, name), path.join(to, name));
}

test(
  'Compare Checkpoints: a copy matches every feature at cos ≥ 0.99 with the same metrics; another architecture differs; second run is cached',
  async () => {
    const extension = await activeExtension();
    const bundled = path.join(extension.extensionUri.fsPath, 'models', 'sae');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fl-it-compare-'));
    try {
      const a = path.join(dir, 'jumprelu');
      const b = path.join(dir, 'jumprelu-copy');
      const c = path.join(dir, 'topk');
      copySae(path.join(bundled, 'blocks.1.hook_resid_post-jumprelu'), a);
      copySae(path.join(bundled, 'blocks.1.hook_resid_post-jumprelu'), b);
      copySae(path.join(bundled, 'baselines', 'blocks.1.hook_resid_post-topk'), c);
      const dSae = JSON.parse(fs.readFileSync(path.join(a, 'cfg.json'), 'utf8')).d_sae;

      const first = await vscode.commands.executeCommand('featureLens.compareCheckpoints', [a, b, c]);
      assert.ok(first, 'no comparison');
      assert.equal(first.site, 'blocks.1.hook_resid_post');
      assert.deepEqual(first.checkpoints.map((x) => [x.label, x.cached]), [['jumprelu', false], ['jumprelu-copy', false], ['topk', false]]);
      const [ma, mb, mc] = first.checkpoints.map((x) => x.metrics);
      assert.deepEqual(ma, mb);
      assert.ok(Number.isFinite(ma.deltaLoss) && Number.isFinite(ma.lossRecovered) && Number.isFinite(ma.kl), JSON.stringify(ma));
      assert.notEqual(mc.l0, ma.l0);
      assert.equal(first.matching.matchedAbove.find((t) => t.threshold === 0.99).count, dSae);
      assert.deepEqual([first.matching.unmatchedA.length, first.matching.unmatchedB.length], [0, 0]);
      assert.ok(fs.existsSync(path.join(a, 'evaluations.json')));

      const again = await vscode.commands.executeCommand('featureLens.compareCheckpoints', [a, b, c]);
      assert.deepEqual(again.checkpoints.map((x) => x.cached), [true, true, true]);
      assert.deepEqual(again.checkpoints.map((x) => x.metrics), first.checkpoints.map((x) => x.metrics));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
  { timeout: 300_000 },
);
