// Compare Checkpoints as a person runs it: SAE folders in the workspace, picked in the command's multi-select;
// the panel shows the metrics table, the L0–FVU and L0–ΔLM plots, the matching counts and the side-by-side
// decomposition; a click on a matched pair opens both dashboards side by side.
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../lib/paths.mjs';
import { test } from '../lib/uiTest.mjs';
import { waitFor } from '../lib/poll.mjs';

const bundled = join(repoRoot, 'models', 'sae');
const JUMPRELU = join(bundled, 'blocks.1.hook_resid_post-jumprelu');

function copySae(from, to, withIndex = false) {
  mkdirSync(to, { recursive: true });
  for (const file of ['cfg.json', 'sae_weights.safetensors', ...(withIndex ? ['feature_index.sqlite.gz'] : [])]) copyFileSync(join(from, file), join(to, file));
}

/** Runs Compare Checkpoints… and ticks `names` (in that order) in its multi-select. */
async function compareFromPalette(workbench, page, names, filter) {
  await workbench.runCommand('Feature Lens: Compare Checkpoints…', { keepOpen: true });
  const input = page.locator('.quick-input-widget input');
  await page.locator('.quick-input-list .monaco-list-row', { hasText: names[names.length - 1] }).first().waitFor({ timeout: 60_000 });
  await input.fill(filter);
  await waitFor(async () => (await page.locator('.quick-input-list .monaco-list-row').count()) === names.length, { timeout: 10_000, what: `only ${names.join(', ')} listed` });
  // A click on a row of a multi-select quick pick toggles its checkbox.
  for (const name of names) await page.locator('.quick-input-list .monaco-list-row', { hasText: name }).first().click();
  await waitFor(async () => new RegExp(`${names.length} Selected`).test((await page.locator('.quick-input-widget').textContent()) ?? ''), { timeout: 10_000, what: `${names.length} Selected` });
  await page.locator('.quick-input-widget').getByRole('button', { name: 'OK' }).click();
}

/** The webview whose body says it is `view` (and, if given, whose content matches `has`). */
async function findView(workbench, page, view, has) {
  return waitFor(
    async () => {
      const count = await page.locator('iframe.webview.ready').count();
      const found = [];
      for (let n = 0; n < count; n++) {
        const frame = workbench.webview(n);
        if ((await frame.locator(`body[data-view="${view}"]`).count()) === 0) continue;
        if (!has || (await frame.locator(has).count()) > 0) found.push(frame);
      }
      return found.length > 0 ? found : undefined;
    },
    { timeout: 120_000, what: `the ${view} webview` },
  );
}

test(
  'three SAEs compared from the palette: table, both plots, matching counts and side-by-side rows; a matched pair opens both dashboards',
  async ({ workbench, page, folder, screenshot }) => {
    copySae(JUMPRELU, join(folder, 'sae-jumprelu'), true);
    copySae(join(bundled, 'baselines', 'blocks.1.hook_resid_post-topk'), join(folder, 'sae-topk'));
    copySae(join(bundled, 'baselines', 'blocks.1.hook_resid_post-gated'), join(folder, 'sae-gated'));
    const dSae = JSON.parse(readFileSync(join(bundled, 'baselines', 'blocks.1.hook_resid_post-gated', 'cfg.json'), 'utf8')).d_sae;

    // The picker lists SAEs by name, and the picked ones keep that order: Gated → JumpReLU is the matched pair.
    await compareFromPalette(workbench, page, ['sae-jumprelu', 'sae-topk', 'sae-gated'], 'sae-');
    const [view] = await findView(workbench, page, 'compare');
    const rows = view.locator('[data-testid="compare-table"] tbody tr');
    await waitFor(async () => (await rows.count()) === 3, { timeout: 300_000, what: 'three rows in the compare table' });
    const table = [];
    for (let i = 0; i < 3; i++) table.push(await rows.nth(i).locator('td').allTextContents());
    const order = ['sae-gated', 'sae-jumprelu', 'sae-topk'];
    assert.deepEqual(table.map((r) => r[0]), order);
    assert.equal(table[0][2], String(dSae));
    for (const r of table) for (const col of [3, 4, 5, 6, 7]) assert.match(r[col], /^-?\d/, `${r[0]}: column ${col} (L0, FVU, ΔLM, loss recovered, KL) is measured`);

    // The plots carry the numbers they draw: one point per checkpoint, at the table's L0 and FVU / ΔLM.
    for (const [testId, col] of [['plot-fvu', 4], ['plot-delta-lm', 5]]) {
      const points = JSON.parse(await view.locator(`[data-testid="${testId}"]`).getAttribute('data-points'));
      assert.deepEqual(points.map((p) => p.label), order);
      points.forEach((p, i) => {
        assert.equal(Number(p.x.toPrecision(4)), Number(table[i][3]), `${testId} x = L0`);
        assert.equal(Number(p.y.toPrecision(3)), Number(table[i][col]), `${testId} y`);
      });
      assert.equal(await view.locator(`[data-testid="${testId}"] svg circle`).count(), 3);
    }

    // Matching Gated → JumpReLU: counts fall with the threshold; some features are shared, not all.
    const counts = [];
    for (const t of ['0.5', '0.7', '0.9', '0.99']) counts.push(Number(await view.locator(`[data-testid="matching-counts"] tr[data-threshold="${t}"] td[data-count]`).getAttribute('data-count')));
    assert.deepEqual(counts, [...counts].sort((x, y) => y - x));
    assert.ok(counts[0] > 0 && counts[0] < dSae, String(counts));
    assert.match(await view.locator('[data-testid="unmatched"]').textContent(), new RegExp(`: ${dSae - counts[0]} of sae-gated[ ;]`));

    // Nothing was selected: the sample text, decomposed by both, matched features on one row.
    const sideRows = view.locator('[data-testid="side-by-side"] tbody tr');
    await waitFor(async () => (await sideRows.count()) > 10, { timeout: 120_000, what: 'the side-by-side rows' });
    const aligned = await view.locator('[data-testid="side-by-side"] tbody tr[data-aligned="true"]').count();
    assert.ok(aligned > 0 && aligned < (await sideRows.count()), `${aligned} aligned rows`);
    assert.match(await view.locator('[data-testid="side-by-side-summary"]').textContent(), new RegExp(`; ${aligned} of \\d+ rows are matched pairs`));
    await view.locator('[data-testid="compare-title"]').scrollIntoViewIfNeeded();
    await screenshot('compare-view');
    await view.locator('[data-testid="side-by-side"]').scrollIntoViewIfNeeded();
    await screenshot('compare-side-by-side');
  },
  { timeout: 600_000 },
);

test(
  'a click on a matched pair opens both dashboards side by side',
  async ({ workbench, page, folder, screenshot }) => {
    // Two copies with the shipped feature index: their dashboards open without building one.
    copySae(JUMPRELU, join(folder, 'pair-one'), true);
    copySae(JUMPRELU, join(folder, 'pair-two'), true);
    await compareFromPalette(workbench, page, ['pair-one', 'pair-two'], 'pair-');
    const [view] = await findView(workbench, page, 'compare', '[data-testid="matched-pairs"] tbody tr');
    const first = view.locator('[data-testid="matched-pairs"] tbody tr').first();
    const [a, b] = [await first.getAttribute('data-a'), await first.getAttribute('data-b')];
    assert.equal(a, b, 'a copy matches each feature to itself');
    await first.locator('button', { hasText: 'Open both' }).click();
    const dashboards = await waitFor(
      async () => {
        const views = await findView(workbench, page, 'feature', '[data-testid="feature-title"]');
        return views.length === 2 ? views : undefined;
      },
      { timeout: 180_000, what: 'two feature dashboards' },
    );
    for (const d of dashboards) assert.match(await d.locator('[data-testid="feature-title"]').textContent(), new RegExp(`^Feature #${a}\\b`));
    const tabs = await page.locator('.tabs-container .tab .label-name').allTextContents();
    assert.ok(tabs.includes(`#${a} · pair-one`) && tabs.includes(`#${a} · pair-two`), tabs.join(' | '));
    // Side by side: the two dashboards are in different editor groups.
    const groups = page.locator('.editor-group-container');
    assert.ok((await groups.count()) >= 3, 'compare view and two dashboards in three groups');
    await screenshot('compare-pair-dashboards');
  },
  { timeout: 600_000 },
);
