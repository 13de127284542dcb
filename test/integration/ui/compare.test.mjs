// Compare Checkpoints as a person runs it: two SAE folders in the workspace, picked in the command's
// multi-select; the panel shows the metrics table, the L0–FVU plot and the matching counts.
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../lib/paths.mjs';
import { test } from '../lib/uiTest.mjs';
import { waitFor } from '../lib/poll.mjs';

test('two SAE folders compared from the command palette: table, plot and matching counts in the panel', async ({ workbench, page, folder, screenshot }) => {
  const bundled = join(repoRoot, 'models', 'sae', 'blocks.1.hook_resid_post-jumprelu');
  for (const name of ['sae-a', 'sae-b']) {
    mkdirSync(join(folder, name), { recursive: true });
    for (const file of ['cfg.json', 'sae_weights.safetensors']) copyFileSync(join(bundled, file), join(folder, name, file));
  }
  const dSae = JSON.parse(readFileSync(join(bundled, 'cfg.json'), 'utf8')).d_sae;

  await workbench.runCommand('Feature Lens: Compare Checkpoints…', { keepOpen: true });
  const input = page.locator('.quick-input-widget input');
  await page.locator('.quick-input-list .monaco-list-row', { hasText: 'sae-b' }).first().waitFor({ timeout: 60_000 });
  await input.fill('sae-');
  await waitFor(async () => (await page.locator('.quick-input-list .monaco-list-row').count()) === 2, { timeout: 10_000, what: 'only sae-a and sae-b listed' });
  // A click on a row of a multi-select quick pick toggles its checkbox.
  for (const name of ['sae-a', 'sae-b']) await page.locator('.quick-input-list .monaco-list-row', { hasText: name }).first().click();
  await waitFor(async () => /2 Selected/.test((await page.locator('.quick-input-widget').textContent()) ?? ''), { timeout: 10_000, what: '2 Selected' });
  await page.locator('.quick-input-widget').getByRole('button', { name: 'OK' }).click();

  const view = await waitFor(
    async () => {
      const count = await page.locator('iframe.webview.ready').count();
      for (let n = 0; n < count; n++) {
        const frame = workbench.webview(n);
        if ((await frame.locator('body[data-view="compare"]').count()) > 0) return frame;
      }
      return undefined;
    },
    { timeout: 60_000, what: 'the compare webview' },
  );
  const rows = view.locator('[data-testid="compare-table"] tbody tr');
  await waitFor(async () => (await rows.count()) === 2, { timeout: 240_000, what: 'two rows in the compare table' });
  const cells = async (i) => rows.nth(i).locator('td').allTextContents();
  const [a, b] = [await cells(0), await cells(1)];
  assert.deepEqual([a[0], b[0]], ['sae-a', 'sae-b']);
  assert.deepEqual(a.slice(1), b.slice(1), 'a copy has the same metrics');
  assert.equal(a[2], String(dSae));
  assert.match(a[5], /^-?\d/, 'ΔLM loss is measured');
  const at099 = await view.locator('[data-testid="matching-counts"] tr[data-threshold="0.99"] td[data-count]').getAttribute('data-count');
  assert.equal(at099, String(dSae));
  assert.match(await view.locator('[data-testid="unmatched"]').textContent(), /: 0 of sae-a; 0 of sae-b\./);
  const canvas = view.locator('[data-testid="compare-plot"] .uplot canvas').first();
  await canvas.waitFor({ timeout: 10_000 });
  assert.ok((await canvas.evaluate((c) => c.width)) > 0);
  await screenshot('compare-checkpoints');
});
