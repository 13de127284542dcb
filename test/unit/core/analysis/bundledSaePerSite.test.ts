// Choosing a layer with no SAE chosen loads the bundled SAE of that layer (models/sae/layers/), the
// default when it reads that site, and the default (applied with a warning) when no bundled SAE does.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { BUNDLED_LAYER_SAES, findBundledSae, findBundledSaeForSite } from '../../../../src/core/analysis/session';

const repo = resolve(__dirname, '../../../..');
const tmp = mkdtempSync(join(tmpdir(), 'fl-bundled-site-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** A SAELens folder under `root` whose cfg.json reads `hook` (SAELens 6 puts it under metadata; older at the top). */
function saeFolder(root: string, rel: string, hook: string, legacy = false): string {
  const dir = join(root, rel);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'cfg.json'), JSON.stringify(legacy ? { hook_name: hook } : { metadata: { hook_name: hook } }));
  writeFileSync(join(dir, 'sae_weights.safetensors'), '');
  return dir;
}

test('the bundled SAE of the chosen site: the default for its own site, the per-layer folder for another, none otherwise', () => {
  const root = join(tmp, 'pkg');
  const main = saeFolder(root, 'models/sae/blocks.1.hook_resid_post-jumprelu', 'blocks.1.hook_resid_post');
  saeFolder(root, 'models/sae/baselines/blocks.1.hook_resid_post-topk', 'blocks.1.hook_resid_post');
  saeFolder(root, 'models/sae/baselines/blocks.2.hook_resid_post-topk', 'blocks.2.hook_resid_post');
  const l0 = saeFolder(root, 'models/sae/layers/blocks.0.hook_resid_post-jumprelu', 'blocks.0.hook_resid_post');
  const l3 = saeFolder(root, 'models/sae/layers/blocks.3.hook_resid_post-jumprelu', 'blocks.3.hook_resid_post', true);
  // The default stays the first SAE two levels under models/: the layer folders sit one level deeper.
  assert.equal(findBundledSae(root), main);
  assert.equal(findBundledSaeForSite(root, 'blocks.1.hook_resid_post'), main);
  assert.equal(findBundledSaeForSite(root, 'blocks.0.hook_resid_post'), l0);
  assert.equal(findBundledSaeForSite(root, 'blocks.3.hook_resid_post'), l3);
  // Baselines are never picked for a site: only the default and models/sae/layers/.
  assert.equal(findBundledSaeForSite(root, 'blocks.2.hook_resid_post'), undefined);
  assert.equal(findBundledSaeForSite(root, 'blocks.0.hook_mlp_out'), undefined);
});

test('a per-layer folder with an unreadable cfg.json is skipped, not fatal', () => {
  const root = join(tmp, 'broken');
  saeFolder(root, 'models/sae/blocks.1.hook_resid_post-jumprelu', 'blocks.1.hook_resid_post');
  const bad = saeFolder(root, 'models/sae/layers/blocks.2.hook_resid_post-jumprelu', 'blocks.2.hook_resid_post');
  writeFileSync(join(bad, 'cfg.json'), '{ not json');
  assert.equal(findBundledSaeForSite(root, 'blocks.2.hook_resid_post'), undefined);
});

test('every SAE bundled in models/sae/layers/ is found for the site its cfg.json names, and each site once', () => {
  const dir = join(repo, BUNDLED_LAYER_SAES);
  const folders = readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory());
  assert.ok(folders.length >= 1, 'at least one per-layer SAE is bundled');
  const sites = new Set<string>();
  for (const f of folders) {
    const hook = (JSON.parse(readFileSync(join(dir, f.name, 'cfg.json'), 'utf8')) as { metadata: { hook_name: string } }).metadata.hook_name;
    assert.ok(!sites.has(hook), `one bundled SAE per site (${hook})`);
    sites.add(hook);
    assert.equal(findBundledSaeForSite(repo, hook), join(dir, f.name));
  }
  const main = findBundledSae(repo);
  assert.ok(main && !main.startsWith(dir), 'the default is not one of the per-layer folders');
});
