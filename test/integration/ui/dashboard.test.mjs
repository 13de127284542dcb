// The feature dashboard as a person opens it: analyze a selection, open a firing feature's dashboard,
// read its uPlot histogram, labels and logit effects, then switch colour themes and watch it follow.
import assert from 'node:assert/strict';
import { openSampleAndSelectAll } from '../lib/editor.mjs';
import { test } from '../lib/uiTest.mjs';
import { waitFor } from '../lib/poll.mjs';

/** The content document of the webview whose page hosts `view` (token view and dashboard may both be open). */
async function webviewShowing(workbench, view) {
  return waitFor(
    async () => {
      const count = await workbench.page.locator('iframe.webview.ready').count();
      for (let n = 0; n < count; n++) {
        const frame = workbench.webview(n);
        if ((await frame.locator(`body[data-view="${view}"]`).count()) > 0) return frame;
      }
      return undefined;
    },
    { timeout: 120_000, what: `the ${view} webview` },
  );
}

/**
 * Previews a colour theme in the "Preferences: Color Theme" picker: typing its label makes it the active row,
 * which VS Code applies at once. Escape (`closeThemePicker`) reverts it, so no setting is written and the
 * next test's window keeps the default theme. The picker lists labels ("Light Modern"), not ids.
 */
async function previewColorTheme(workbench, label) {
  const page = workbench.page;
  const input = page.locator('.quick-input-widget input');
  const rowLabelled = (text) => page.locator('.quick-input-list .monaco-list-row', { has: page.locator('.label-name', { hasText: new RegExp(`^\\s*${text}\\s*$`) }) }).first();
  await waitFor(
    async () => {
      if (await input.isVisible()) await page.keyboard.press('Escape');
      await page.keyboard.press('F1');
      await input.waitFor({ state: 'visible', timeout: 10_000 });
      await input.fill('>Preferences: Color Theme');
      // Clicked rather than Enter: the fuzzy match may focus another command first.
      await rowLabelled('Preferences: Color Theme').click({ timeout: 5_000 });
      // The same widget turns into the theme picker.
      await rowLabelled('Light Modern').waitFor({ timeout: 10_000 });
      return true;
    },
    { timeout: 90_000, what: 'the colour theme picker' },
  );
  await input.fill(label);
  await waitFor(async () => (await page.locator('.quick-input-list .monaco-list-row.focused .label-name').first().textContent())?.trim() === label, { timeout: 10_000, what: `${label} as the active row` });
}

async function closeThemePicker(workbench) {
  await workbench.page.keyboard.press('Escape');
  await workbench.page.locator('.quick-input-widget input').waitFor({ state: 'hidden', timeout: 10_000 });
}

/** Size of the first uPlot canvas in the dashboard, or 0×0 while there is none. */
async function canvasSize(view) {
  const canvas = view.locator('[data-testid="histogram"] .uplot canvas').first();
  if ((await canvas.count()) === 0) return { width: 0, height: 0 };
  return canvas.evaluate((c) => ({ width: c.width, height: c.height, cssWidth: c.clientWidth, cssHeight: c.clientHeight }));
}

test('a firing feature dashboard draws its histogram with uPlot and follows light, dark and high-contrast themes', async ({ workbench, page }) => {
  await openSampleAndSelectAll(page);

  await workbench.runCommand('Feature Lens: Analyze Selection');
  const tokenView = await webviewShowing(workbench, 'tokens');
  // A token where features fire, then the dashboard of its strongest feature: that feature fires on the corpus too.
  const firing = tokenView.locator('[data-testid="tokens"] .token.fires').first();
  await firing.waitFor({ timeout: 120_000 });
  await firing.click();
  const rows = tokenView.locator('[data-testid="features"] tbody tr');
  await rows.first().waitFor({ timeout: 30_000 });
  const feature = (await rows.first().getAttribute('data-feature')) ?? '';
  assert.match(feature, /^\d+$/);
  await rows.first().getByRole('button', { name: `Open the dashboard of feature ${feature}` }).click();

  const view = await webviewShowing(workbench, 'feature');
  await view.locator('[data-testid="feature-title"]').waitFor({ timeout: 180_000 });
  assert.match(await view.locator('[data-testid="feature-title"]').textContent(), new RegExp(`^Feature #${feature}\\b`));
  const size = await waitFor(async () => {
    const s = await canvasSize(view);
    return s.width > 0 && s.height > 0 && s.cssWidth > 0 ? s : undefined;
  }, { timeout: 60_000, what: 'a uPlot canvas with a size' });
  assert.ok(size.cssHeight > 50, `canvas ${JSON.stringify(size)}`);
  assert.equal(await view.locator('svg.histogram').count(), 0, 'the hand-made SVG histogram is gone');
  // The text alternative: a caption counting the firing activations and one row per bin.
  assert.match(await view.locator('[data-testid="histogram"] caption').textContent(), /Histogram of [1-9]\d* firing activations/);
  assert.ok((await view.locator('[data-testid="histogram"] tbody tr').count()) > 1);
  // Label editor, logit effects and examples have content.
  assert.equal(await view.getByRole('textbox', { name: `Label of feature ${feature}` }).count(), 1);
  const effects = view.locator('ol.effects li');
  assert.ok((await effects.count()) >= 2, 'promoted and suppressed tokens are listed');
  assert.ok(((await effects.first().textContent()) ?? '').trim().length > 0);
  assert.ok((await view.locator('[data-testid="examples"] li').count()) > 0, 'the firing feature has top examples');
  // Read from the shipped feature index: the automatic label with its held-out scores.
  assert.match(await view.locator('[data-testid="auto-label"]').textContent(), /Automatic label: .+Rule: fires when .+Held-out scores/s);

  const themes = [
    ['Dark Modern', 'vscode-dark', 'dashboard-dark'],
    ['Light Modern', 'vscode-light', 'dashboard-light'],
    ['Dark High Contrast', 'vscode-high-contrast', 'dashboard-hc'],
  ];
  const pixelsOf = () => view.locator('[data-testid="histogram"] .uplot canvas').first().evaluate((c) => c.toDataURL());
  const themeClassOf = async () => (await view.locator('body').getAttribute('class'))?.split(/\s+/).find((c) => /^vscode-(light|dark|high-contrast)$/.test(c));
  const initialClass = await themeClassOf();
  let previousClass = initialClass;
  let previousPixels = await pixelsOf();
  for (const [theme, bodyClass, shot] of themes) {
    await previewColorTheme(workbench, theme);
    await waitFor(async () => (await themeClassOf()) === bodyClass, { timeout: 60_000, what: `the webview body class ${bodyClass}` });
    // Redrawn with the theme's colours: after a change of kind, the canvas's pixels differ from before.
    if (bodyClass !== previousClass) {
      previousPixels = await waitFor(async () => {
        const data = await pixelsOf();
        return data !== previousPixels && data.length > 100 ? data : undefined;
      }, { timeout: 60_000, what: `the histogram redrawn for ${theme}` });
    }
    previousClass = bodyClass;
    assert.ok((await canvasSize(view)).width > 0);
    // Taken with the picker open: hiding or blurring it would end the preview.
    await workbench.screenshot(shot);
  }
  await closeThemePicker(workbench);
  await waitFor(async () => (await themeClassOf()) === initialClass, { timeout: 60_000, what: 'the default theme back' });
  // The next test's window restores this workspace's layout: leave it with one empty group.
  await workbench.runCommand('View: Close All Editor Groups');
  await waitFor(async () => (await page.locator('.tabs-container .tab').count()) === 0, { timeout: 30_000, what: 'every editor closed' });
}, { timeout: 420_000 });
