// Steer and attribute from the token view, as a person would: right-click a token → "Why this prediction?"
// (a ranked attribution with the error term as a row), then "Steer from here…" → Generate (clean and
// steered continuations streamed side by side, KL strip), Cancel a long generation, and generate again.
import assert from 'node:assert/strict';
import { openSampleAndSelectAll } from '../lib/editor.mjs';
import { test } from '../lib/uiTest.mjs';
import { waitFor } from '../lib/poll.mjs';

test('right-click a token: attribution of its prediction, then steer from it and generate side by side; cancel leaves the panel usable', async ({ workbench, page }) => {
  await openSampleAndSelectAll(page);
  await workbench.runCommand('Feature Lens: Analyze Selection');
  const view = workbench.webview();
  const tokens = view.locator('[data-testid="tokens"] [role="option"]');
  await tokens.first().waitFor({ timeout: 120_000 });

  // "Why this prediction?" from the token's context menu.
  await tokens.nth(3).click({ button: 'right' });
  const menu = view.locator('[data-testid="token-menu"]');
  await menu.waitFor({ timeout: 30_000 });
  await menu.getByText('Why this prediction?').click();
  const rows = view.locator('[data-testid="attribution"] tbody tr');
  await rows.first().waitFor({ timeout: 120_000 });
  assert.ok((await rows.count()) >= 2, 'features and the error term are listed');
  assert.equal(await view.locator('[data-testid="attribution"] tbody tr.error-row').count(), 1, 'the error term is its own row');
  assert.match(await view.locator('[data-testid="attribution-view"] h2').textContent(), /after token 4/);
  await workbench.screenshot('attribution');

  // "Steer from here…": the form opens with the token's strongest feature; generate a few tokens.
  await tokens.nth(3).click({ button: 'right' });
  await menu.getByText('Steer from here…').click();
  const form = view.locator('[data-testid="steer-form"]');
  await form.waitFor({ timeout: 30_000 });
  await form.locator('input[aria-label="New tokens"]').fill('6');
  await form.locator('[data-testid="generate"]').click();
  await waitFor(async () => /\d+ tokens in/.test((await view.locator('[data-testid="generation"] [role="status"]').textContent()) ?? ''), {
    what: 'the generation to finish',
    timeout: 120_000,
  });
  assert.equal(await view.locator('[data-testid="continuation-steered"] .token').count(), 6);
  assert.equal(await view.locator('[data-testid="continuation-clean"] .token').count(), 6);
  assert.equal(await view.locator('[data-testid="kl-strip"] .kl-bar').count(), 6);
  await workbench.screenshot('steer-generation');

  // A long generation, cancelled: it stops, and the panel generates again afterwards.
  await form.locator('input[aria-label="New tokens"]').fill('400');
  await form.locator('[data-testid="generate"]').click();
  await waitFor(async () => (await view.locator('[data-testid="continuation-steered"] .token').count()) >= 1 && /Generating/.test((await view.locator('[data-testid="generation"] [role="status"]').textContent()) ?? ''), {
    what: 'the long generation to stream its first tokens',
    timeout: 120_000,
  });
  await form.locator('[data-testid="cancel-generation"]').click();
  await waitFor(async () => /Stopped after/.test((await view.locator('[data-testid="generation"] [role="status"]').textContent()) ?? ''), { what: 'the generation to stop', timeout: 60_000 });
  await form.locator('input[aria-label="New tokens"]').fill('3');
  await form.locator('[data-testid="generate"]').click();
  await waitFor(async () => /3 tokens in/.test((await view.locator('[data-testid="generation"] [role="status"]').textContent()) ?? ''), { what: 'a new generation after the cancel', timeout: 120_000 });
}, { timeout: 400_000 });
