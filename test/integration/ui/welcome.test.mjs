// The welcome page as a person sees it: command palette, rendered webview, screenshot.
import assert from 'node:assert/strict';
import { test } from '../lib/uiTest.mjs';
import { waitFor } from '../lib/poll.mjs';

test('"Feature Lens: Show Welcome" from the palette shows the welcome page', async ({ workbench }) => {
  await workbench.runCommand('Feature Lens: Show Welcome');
  await waitFor(async () => (await workbench.activeTabLabel()) === 'Feature Lens', { what: 'the Feature Lens tab' });

  const view = workbench.webview();
  const heading = view.locator('h1');
  await heading.waitFor({ timeout: 60_000 });
  assert.equal((await heading.textContent()).trim(), 'Feature Lens');

  const capabilities = (await view.locator('ul.capabilities li').allTextContents()).map((s) => s.trim());
  assert.ok(capabilities.length >= 3, `expected at least 3 capabilities, got ${JSON.stringify(capabilities)}`);
  assert.ok(capabilities.some((c) => /sparse autoencoder/i.test(c)), 'no capability mentions sparse autoencoders');
  assert.match(await view.locator('body').innerText(), /Version \d+\.\d+\.\d+/);

  await workbench.screenshot('welcome');
});
