// Debian's chromium driven by playwright-core (no browser download), kept on loopback.
import { chromium } from 'playwright-core';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const chromiumPath = process.env.FEATURE_LENS_CHROMIUM ?? '/usr/bin/chromium';

const flags = [
  '--no-sandbox', // root in containers/CI
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage', // small /dev/shm in containers
];

const loopback = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * A headless browser context with a fresh profile. Requests leaving the machine (the workbench asks
 * an extension gallery) are aborted and remembered in `blocked`. close() also deletes the profile.
 */
export async function launchBrowser({ viewport = { width: 1280, height: 800 } } = {}) {
  if (!existsSync(chromiumPath)) {
    throw new Error(`no chromium at ${chromiumPath}: apt-get install chromium, or set FEATURE_LENS_CHROMIUM`);
  }
  const profile = mkdtempSync(join(tmpdir(), 'feature-lens-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    headless: true,
    viewport,
    args: flags,
  });
  const blocked = new Set();
  await context.route(
    (url) => /^(https?|wss?):$/.test(url.protocol) && !loopback.has(url.hostname),
    (route) => {
      blocked.add(new URL(route.request().url()).origin);
      return route.abort();
    },
  );
  return {
    context,
    blocked,
    async close() {
      await context.close().catch(() => {});
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
