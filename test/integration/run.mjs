// npm run test:integration [-- <name filter>...] [--keep] [--verbose]
// Runs Feature Lens inside a real VS Code (code-server + Debian chromium, all on loopback):
//   1. host/*.test.js inside the extension host, with the real vscode API (extensionTestsPath);
//   2. ui/*.test.mjs through the window, as a person would (palette, webview DOM, screenshots).
// It builds nothing: run `npm run build` first (npm test does). Prints "N passed, N failed" last.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, copyFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { launchBrowser } from './lib/browser.mjs';
import { startCodeServer, tail, workbenchUrl } from './lib/codeServer.mjs';
import { artifactsDir, hostTestsDir, repoRoot, uiTestsDir } from './lib/paths.mjs';
import { firstLine } from './lib/poll.mjs';
import { registeredUiTests } from './lib/uiTest.mjs';
import { Workbench } from './lib/workbench.mjs';

const RESULT_PREFIX = '[feature-lens-it]';
// The host run fails when it shows no progress for this long (before the first test: window load and
// activation; between tests), or for a test's own timeout plus a minute while that test runs.
const HOST_STARTUP_LIMIT = 180_000;
const HOST_BETWEEN_TESTS_LIMIT = 120_000;

const args = process.argv.slice(2);
const keep = args.includes('--keep');
const verbose = args.includes('--verbose');
const filters = args.filter((a) => !a.startsWith('--'));
const selected = (name) => filters.length === 0 || filters.some((part) => name.includes(part));

const results = [];
const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)}s`;
const note = (line) => console.log(`[${elapsed()}] ${line}`);

function record(result) {
  results.push(result);
  const status = result.ok ? 'PASS' : 'FAIL';
  console.log(`${status} ${result.name} (${result.ms} ms)`);
  if (!result.ok) console.log(indent(result.error));
}

function indent(text) {
  return String(text)
    .split('\n')
    .map((line) => `    ${line}`)
    .join('\n');
}

function slug(name) {
  return name.replace(/[^a-z0-9]+/gi, '-').replace(/^-|-$/g, '').toLowerCase().slice(0, 80);
}

/** Phase 1: loads the window with extensionTestsPath; host/index.js runs the tests and reports. */
async function runHostTests({ browser, server, workspace, resultsFile }) {
  const page = await browser.context.newPage();
  const consoleLines = [];
  let deadline = Date.now() + HOST_STARTUP_LIMIT;
  const exited = new Promise((resolve) => {
    // The workbench calls this when the tests' run() has settled and the extension host is done.
    page.exposeFunction('codeAutomationExit', (code) => resolve(code));
  });
  page.on('console', (message) => {
    const text = message.text();
    consoleLines.push(text);
    if (verbose) console.log(`  console: ${text}`);
    const at = text.indexOf(RESULT_PREFIX);
    if (at < 0) return;
    let event;
    try {
      event = JSON.parse(text.slice(at + RESULT_PREFIX.length).trim());
    } catch {
      return; // progress only; the results file is authoritative
    }
    if (event.start) {
      deadline = Date.now() + event.timeout + 60_000;
    } else {
      deadline = Date.now() + HOST_BETWEEN_TESTS_LIMIT;
      if (!verbose) note(`${event.ok ? 'ok  ' : 'FAIL'} ${event.name}`);
    }
  });
  const url = workbenchUrl(server, {
    folder: workspace,
    extensionDevelopmentPath: repoRoot,
    extensionTestsPath: join(hostTestsDir, 'index.js'),
  });
  const start = Date.now();
  let code;
  try {
    await page.goto(url, { waitUntil: 'domcontentloaded', timeout: 60_000 });
    let watchdog;
    code = await Promise.race([
      exited,
      new Promise((resolve) => {
        watchdog = setInterval(() => Date.now() > deadline && resolve('timeout'), 1_000);
      }),
    ]);
    clearInterval(watchdog);
    await page.screenshot({ path: join(artifactsDir, 'host-tests.png') }).catch(() => {});
  } finally {
    await page.close().catch(() => {});
  }

  const reported = existsSync(resultsFile) ? JSON.parse(readFileSync(resultsFile, 'utf8')) : null;
  for (const r of reported ?? []) record(r);
  const failedInside = (reported ?? []).some((r) => !r.ok);
  if (!reported || (code !== 0 && !failedInside)) {
    // The runner never reported (load error, crash, timeout): that is a failure of its own.
    writeFileSync(join(artifactsDir, 'host-console.log'), consoleLines.join('\n'));
    record({
      name: 'host › test run',
      ok: false,
      ms: Date.now() - start,
      error: `extension host tests ended with ${code === 'timeout' ? 'no progress within the time limit' : `exit code ${code}`}${reported ? '' : ' and reported no results'}; last console lines:\n${consoleLines.slice(-25).join('\n')}`,
    });
  }
}

/** Phase 2: each UI test gets a fresh window with the extension loaded from source. */
const SAMPLE_TEXT = 'The quick brown fox jumps over the lazy dog.\n';

async function runUiTests({ browser, server, workspace }) {
  const files = readdirSync(uiTestsDir).filter((f) => f.endsWith('.test.mjs')).sort();
  for (const file of files) {
    const before = registeredUiTests().length;
    await import(pathToFileURL(join(uiTestsDir, file)).href);
    const tests = registeredUiTests().slice(before);
    for (const { name, fn, timeout } of tests) {
      const fullName = `ui › ${file.replace(/\.test\.mjs$/, '')} › ${name}`;
      if (!selected(fullName)) continue;
      const start = Date.now();
      const consoleLines = [];
      let workbench;
      try {
        let timer;
        const body = (async () => {
          // Each UI test opens its own new folder: no editor layout or per-workspace state carries over.
          const folder = join(workspace, slug(name));
          mkdirSync(folder, { recursive: true });
          writeFileSync(join(folder, 'sample.txt'), SAMPLE_TEXT);
          const url = workbenchUrl(server, { folder, extensionDevelopmentPath: repoRoot });
          workbench = await Workbench.open(browser.context, url, { artifactsDir, consoleLines });
          await fn({ workbench, page: workbench.page, folder, screenshot: (n) => workbench.screenshot(n) });
        })();
        await Promise.race([
          body,
          new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${timeout} ms`)), timeout))),
        ]).finally(() => clearTimeout(timer));
        record({ name: fullName, ok: true, ms: Date.now() - start });
      } catch (error) {
        const shot = workbench ? await workbench.screenshot(`${slug(name)}-failure`).catch(() => null) : null;
        writeFileSync(join(artifactsDir, `${slug(name)}-console.log`), consoleLines.join('\n'));
        record({
          name: fullName,
          ok: false,
          ms: Date.now() - start,
          error: `${error?.stack ?? error}${shot ? `\nscreenshot: ${shot}` : ''}`,
        });
      } finally {
        await workbench?.close();
      }
    }
  }
}

async function main() {
  if (!existsSync(join(repoRoot, 'dist', 'extension.js'))) {
    throw new Error('dist/extension.js is missing: run `npm run build` first (`npm test` does)');
  }
  rmSync(artifactsDir, { recursive: true, force: true });
  mkdirSync(artifactsDir, { recursive: true });
  const runDir = mkdtempSync(join(tmpdir(), 'feature-lens-it-'));
  // Host tests change settings and per-workspace state (e.g. load a test SAE); each UI test gets a folder of
  // its own (see runUiTests) so it starts as a new user would, with the bundled defaults.
  const workspace = join(runDir, 'workspace');
  const uiWorkspace = join(runDir, 'ui-workspaces');
  mkdirSync(workspace, { recursive: true });
  writeFileSync(join(workspace, 'sample.txt'), SAMPLE_TEXT);
  const resultsFile = join(runDir, 'host-results.json');

  let server;
  let browser;
  const cleanUp = async () => {
    await browser?.close();
    await server?.stop();
    if (server) copyFileSync(server.logFile, join(artifactsDir, 'code-server.log'));
    if (keep) note(`kept ${runDir}`);
    else rmSync(runDir, { recursive: true, force: true });
  };
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.once(signal, () => {
      console.log(`\n${signal}: stopping code-server`);
      cleanUp().finally(() => process.exit(130));
    });
  }

  try {
    server = await startCodeServer({
      runDir,
      workspace,
      env: { FEATURE_LENS_IT_RESULTS: resultsFile, FEATURE_LENS_IT_FILTER: JSON.stringify(filters) },
    });
    note(`code-server ${server.url} (pid ${server.pid}, log ${server.logFile})`);
    browser = await launchBrowser();
    note('host tests (inside the extension host)');
    await runHostTests({ browser, server, workspace, resultsFile });
    note('UI tests (through the window)');
    await runUiTests({ browser, server, workspace: uiWorkspace });
    if (browser.blocked.size > 0) note(`blocked requests off the machine: ${[...browser.blocked].join(' ')}`);
  } catch (error) {
    record({ name: 'integration harness', ok: false, ms: Date.now() - started, error: error?.stack ?? error });
    if (server) console.log(indent(tail(server.logFile, 20)));
  } finally {
    await cleanUp();
  }

  const passed = results.filter((r) => r.ok).length;
  const failed = results.length - passed;
  note(`artifacts in ${artifactsDir}`);
  if (results.length === 0) console.log(`no integration test matches ${JSON.stringify(filters)}`);
  console.log(`${passed} passed, ${failed} failed`);
  process.exitCode = failed > 0 || results.length === 0 ? 1 : 0;
}

await main().catch((error) => {
  console.error(firstLine(error));
  console.log('0 passed, 1 failed');
  process.exitCode = 1;
});
