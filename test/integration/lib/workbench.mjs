// What a UI test can do in the VS Code window, the way a person would: keyboard, palette, eyes.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { firstLine, waitFor } from './poll.mjs';

export class Workbench {
  /** Opens `url` in a new tab of `context` and waits until the workbench has rendered. */
  static async open(context, url, { artifactsDir, consoleLines = [] }) {
    const page = await context.newPage();
    page.on('console', (message) => consoleLines.push(`[${message.type()}] ${message.text()}`));
    page.on('pageerror', (error) => consoleLines.push(`[pageerror] ${firstLine(error)}`));
    await page.goto(url, { waitUntil: 'domcontentloaded', timeout: 60_000 });
    await page.locator('.monaco-workbench .part.statusbar').waitFor({ timeout: 90_000 });
    await page.locator('.monaco-workbench .part.activitybar').waitFor({ timeout: 90_000 });
    return new Workbench(page, artifactsDir);
  }

  constructor(page, artifactsDir) {
    /** The playwright Page, for anything the helpers below do not cover. */
    this.page = page;
    this.artifactsDir = artifactsDir;
  }

  /**
   * Runs a command from the palette: F1, type its title, Enter. Retries until the command is listed,
   * because extensions register their commands a few seconds after the workbench renders.
   */
  async runCommand(title, { timeout = 90_000, keepOpen = false } = {}) {
    const page = this.page;
    const input = page.locator('.quick-input-widget input');
    const row = page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first();
    await waitFor(
      async () => {
        if (!(await input.isVisible())) {
          await page.locator('.monaco-workbench .part.editor').click({ position: { x: 20, y: 60 } }).catch(() => {});
          await page.keyboard.press('F1');
          await input.waitFor({ state: 'visible', timeout: 10_000 });
        }
        await input.fill(`>${title}`);
        try {
          await row.waitFor({ timeout: 3_000 });
        } catch {
          await page.keyboard.press('Escape');
          return false;
        }
        return true;
      },
      { timeout, interval: 500, what: `"${title}" in the command palette` },
    );
    const focused = page.locator('.quick-input-list .monaco-list-row.focused', { hasText: title });
    if ((await focused.count()) > 0) await page.keyboard.press('Enter');
    else await row.click();
    // keepOpen: the command asks with a quick pick of its own, in the same widget.
    if (!keepOpen) await input.waitFor({ state: 'hidden', timeout: 10_000 });
  }

  /** The content document of a webview (the n-th ready one, default the first). */
  webview(n = 0) {
    return this.page.locator('iframe.webview.ready').nth(n).contentFrame().locator('iframe#active-frame').contentFrame();
  }

  /** The label of the active editor tab. */
  async activeTabLabel() {
    return (await this.page.locator('.tabs-container .tab.active .label-name').first().textContent())?.trim();
  }

  /** Saves a screenshot of the whole window as test-artifacts/integration/<name>.png; returns its path. */
  async screenshot(name) {
    mkdirSync(this.artifactsDir, { recursive: true });
    const path = join(this.artifactsDir, `${name}.png`);
    await this.page.screenshot({ path });
    return path;
  }

  async close() {
    await this.page.close().catch(() => {});
  }
}
