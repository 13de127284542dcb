// Inspect in the editor, as a person would: select text, run Analyze Selection from the palette, read the
// token view's DOM, click a feature and check the editor decorations and the legend.
import assert from 'node:assert/strict';
import { openSampleAndSelectAll } from '../lib/editor.mjs';
import { test } from '../lib/uiTest.mjs';
import { waitFor } from '../lib/poll.mjs';

test('analyze a selection with the bundled model and SAE, read tokens and features, click a feature to highlight it', async ({ workbench, page }) => {
  // No settings: a new user gets the bundled model and the bundled JumpReLU SAE.
  await openSampleAndSelectAll(page);

  await workbench.runCommand('Feature Lens: Analyze Selection');
  const view = workbench.webview();
  const tokens = view.locator('[data-testid="tokens"] [role="option"]');
  await tokens.first().waitFor({ timeout: 120_000 });
  const texts = await tokens.allTextContents();
  assert.ok(texts.length >= 8, `only ${texts.length} tokens rendered`);
  assert.ok(texts.join('').includes('quick'), `tokens: ${texts.join('|')}`);
  assert.match(await view.locator('[data-testid="summary"]').textContent(), /tokens · mean L0/);
  // The status bar names what was used: the bundled model at the bundled SAE's site.
  await waitFor(async () => (await page.locator('.statusbar-item', { hasText: 'tiny-lm · blocks.1.hook_resid_post' }).count()) > 0, { what: 'the status bar naming the bundled model and site' });

  // Keyboard: End moves the focus to the last token, whose details are shown.
  await tokens.first().click();
  await page.keyboard.press('End');
  await waitFor(async () => (await view.locator('[data-testid="details"] h2').textContent())?.startsWith(`Token ${texts.length}:`), { what: 'the last token focused' });

  // Focus a token where features fire and read them.
  const firing = view.locator('[data-testid="tokens"] .token.fires').first();
  await firing.click();
  const rows = view.locator('[data-testid="features"] tbody tr');
  await rows.first().waitFor({ timeout: 30_000 });
  const firstFeature = (await rows.first().getAttribute('data-feature')) ?? '';
  assert.match(firstFeature, /^\d+$/);
  await workbench.screenshot('inspect-token-view');

  await rows.first().locator('[data-testid="feature-button"]').click();
  await view.locator('.selected-feature').waitFor({ timeout: 30_000 });
  assert.match(await view.locator('.selected-feature').textContent(), new RegExp(`#${firstFeature}`));
  // The editor legend in the status bar names the feature; the decorated tokens are in the editor.
  await waitFor(async () => (await page.locator('.statusbar-item', { hasText: `#${firstFeature} ·` }).count()) > 0, { what: 'the highlight legend' });
  await workbench.screenshot('inspect-feature-highlight');
}, { timeout: 300_000 });
