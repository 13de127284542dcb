// The Training view as a person uses it: Run This Config from the palette opens a view whose curves
// grow, Pause/Resume stop and restart stepping, a second run waits in the queue, and Cancel Training
// lets it start and finish.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { test } from '../lib/uiTest.mjs';
import { waitFor } from '../lib/poll.mjs';

const { writeActs } = createRequire(import.meta.url)('../fixtures/acts.js');

/**
 * Opens a file of the workspace with Quick Open (a webview may hold the keyboard focus). The files are written
 * after the window opened and the Explorer's watcher may not show them; Quick Open searches the disk.
 */
async function openFile(page, name) {
  const input = page.locator('.quick-input-widget input');
  const row = page.locator('.quick-input-list .monaco-list-row', { hasText: name }).first();
  await waitFor(
    async () => {
      if (!(await input.isVisible())) {
        await page.locator('.monaco-workbench .part.editor').click({ position: { x: 20, y: 60 } }).catch(() => {});
        await page.keyboard.press('Control+P');
        await input.waitFor({ state: 'visible', timeout: 10_000 });
      }
      await input.fill(name);
      if (await row.waitFor({ timeout: 5_000 }).then(() => true, () => false)) return true;
      await page.keyboard.press('Escape');
      return false;
    },
    { timeout: 90_000, interval: 1_000, what: `${name} in Quick Open` },
  );
  await page.keyboard.press('Enter');
  await page.locator('.tabs-container .tab.active', { hasText: name }).waitFor({ timeout: 30_000 });
}

/** The visible Training view whose title names `file`. */
async function trainingView(workbench, page, file) {
  return waitFor(
    async () => {
      const count = await page.locator('iframe.webview.ready').count();
      for (let n = 0; n < count; n++) {
        const frame = workbench.webview(n);
        if ((await frame.locator('[data-testid="training-title"]', { hasText: file }).count()) > 0) return frame;
      }
      return undefined;
    },
    { timeout: 90_000, what: `the Training view of ${file}` },
  );
}

const latest = async (view) => {
  const dl = view.locator('[data-testid="training-latest"]');
  return { points: Number(await dl.getAttribute('data-points')), step: Number(await dl.getAttribute('data-step')) };
};
const status = (view) => view.locator('[data-testid="training-status"]').getAttribute('data-status');

test('Run This Config opens a live Training view: curves grow, pause and resume, a second run queues and trains after Cancel', async ({ workbench, page, folder, screenshot }) => {
  writeActs(join(folder, 'acts.npy'), 4096, 32);
  const runFile = (name, sparsity, tokens) =>
    writeFileSync(
      join(folder, `${name}.featurelens-run.json`),
      JSON.stringify({ site: 'blocks.0.hook_resid_post', ...sparsity, dSae: 256, tokens, batchSize: 128, checkpointEvery: 200, outDir: `${name}-sae`, data: { kind: 'acts', path: 'acts.npy' } }, null, 2),
    );
  // The long run is the default JumpReLU recipe, steering L0 to its target (drawn on the L0 chart).
  runFile('long', { arch: 'jumprelu', targetL0: 8 }, 128 * 200_000);
  runFile('short', { arch: 'topk', k: 4 }, 128 * 40);

  await openFile(page, 'long.featurelens-run.json');
  await workbench.runCommand('Feature Lens: Run This Config');
  const view = await trainingView(workbench, page, 'long.featurelens-run.json');

  // Live curves: the points in the view keep increasing while the run steps.
  const first = await waitFor(async () => {
    const l = await latest(view);
    return l.points >= 3 ? l : undefined;
  }, { timeout: 120_000, what: 'three curve points' });
  const later = await waitFor(async () => {
    const l = await latest(view);
    return l.points > first.points + 2 && l.step > first.step ? l : undefined;
  }, { timeout: 120_000, what: 'more curve points' });
  assert.equal(await status(view), 'running');
  for (const chart of ['loss', 'fvu', 'l0', 'sparsity', 'speed']) {
    const figure = view.locator(`[data-testid="chart-${chart}"]`);
    assert.ok(Number(await figure.getAttribute('data-points')) >= later.points, `${chart} chart has the points`);
    assert.ok((await figure.locator('.uplot canvas').first().evaluate((c) => c.width)) > 0, `${chart} chart is drawn`);
  }
  assert.match(await view.locator('[data-testid="chart-l0"]').textContent(), /target 8/, 'the L0 chart shows its target');
  assert.match(await view.locator('[data-testid="training-latest"] dd[data-key="L0"]').textContent(), /^\d[\d.]* \(target 8\)$/);
  // A few hundred steps make a better picture of the curves (and the docs' screenshot).
  await waitFor(async () => (await latest(view)).step >= 600, { timeout: 180_000, what: 'step 600' });
  await screenshot('training-view');

  // Pause stops stepping; Resume continues from the same step.
  await view.locator('[data-testid="training-pause"]').click();
  await waitFor(async () => (await status(view)) === 'paused', { timeout: 60_000, what: 'paused' });
  const paused = await latest(view);
  assert.match(await view.locator('[data-testid="training-status"]').textContent(), /^Paused/);
  await screenshot('training-paused');
  await view.locator('[data-testid="training-resume"]').click();
  await waitFor(async () => (await status(view)) === 'running' && (await latest(view)).step > paused.step, { timeout: 60_000, what: 'stepping again after resume' });

  // A second run queues behind the first.
  await openFile(page, 'short.featurelens-run.json');
  await workbench.runCommand('Feature Lens: Run This Config');
  const second = await trainingView(workbench, page, 'short.featurelens-run.json');
  await waitFor(async () => (await status(second)) === 'queued', { timeout: 30_000, what: 'the second run queued' });
  assert.match(await second.locator('[data-testid="training-status"]').textContent(), /^Queued/);
  await screenshot('training-queued');

  // Cancel the running one: the queued one starts and finishes with its curves.
  await workbench.runCommand('Feature Lens: Cancel Training');
  await waitFor(async () => (await status(second)) === 'finished', { timeout: 180_000, what: 'the second run finished' });
  const done = await latest(second);
  assert.ok(done.points >= 1 && done.step === 40, JSON.stringify(done));
  assert.ok((await second.locator('[data-testid="training-open-checkpoint"]').count()) === 1, 'a finished run offers its checkpoint');
  await screenshot('training-finished');

  // Closing a view does not touch its run; reopening it shows the whole history.
  const tab = page.locator('.tabs-container .tab', { hasText: 'Training: short-sae' });
  await tab.click();
  await workbench.runCommand('View: Close Editor');
  await waitFor(async () => (await tab.count()) === 0, { timeout: 30_000, what: 'the view closed' });
  await workbench.runCommand('Feature Lens: Show Training View');
  const reopened = await trainingView(workbench, page, 'short.featurelens-run.json');
  await waitFor(async () => (await latest(reopened)).points === done.points && (await status(reopened)) === 'finished', { timeout: 30_000, what: 'the whole history after reopening' });
});
