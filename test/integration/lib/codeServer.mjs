// Starts a throw-away code-server (a real VS Code: server + web workbench) on a free loopback port.
// Also used by tools/demo.mjs. Everything it writes goes into one run folder.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { waitFor } from './poll.mjs';
import { repoRoot } from './paths.mjs';

export const CODE_SERVER_VERSION = '4.100.3';
const installDir = join(repoRoot, '.vscode-test', `code-server-${CODE_SERVER_VERSION}`);
const installedMarker = join(installDir, '.install-complete');
const binary = join(installDir, 'node_modules', '.bin', 'code-server');

/** User settings for a quiet, offline workbench: no trust prompt, no welcome page, no telemetry. */
export const quietSettings = {
  'security.workspace.trust.enabled': false,
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'chat.disableAIFeatures': true,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'window.restoreWindows': 'none',
};

/** Installs code-server into the git-ignored cache when it is not there yet (a no-op otherwise). */
export function ensureCodeServer() {
  if (existsSync(installedMarker)) return binary;
  console.log(`code-server ${CODE_SERVER_VERSION} is not installed yet: running tools/install-code-server.sh`);
  const result = spawnSync('bash', [join(repoRoot, 'tools', 'install-code-server.sh')], { stdio: 'inherit' });
  if (result.status !== 0 || !existsSync(installedMarker)) {
    throw new Error('installing code-server failed (see the output above)');
  }
  return binary;
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts code-server in its own process group with fresh user-data, extensions and XDG folders
 * under `runDir`, and resolves once /healthz answers.
 * Returns { url, authority, port, pid, logFile, stop() }; stop() kills the whole process group.
 */
export async function startCodeServer({ runDir, workspace, port, env = {}, extensionsDir, settings = {} }) {
  const bin = ensureCodeServer();
  port ??= await freePort();
  const dirs = {
    data: join(runDir, 'user-data'),
    extensions: extensionsDir ?? join(runDir, 'extensions'),
    xdgData: join(runDir, 'xdg-data'),
    xdgConfig: join(runDir, 'xdg-config'),
  };
  for (const dir of [...Object.values(dirs), join(dirs.data, 'User'), workspace]) mkdirSync(dir, { recursive: true });
  writeFileSync(join(dirs.data, 'User', 'settings.json'), JSON.stringify({ ...quietSettings, ...settings }, null, 2));
  const config = join(runDir, 'code-server.yaml');
  writeFileSync(config, `bind-addr: 127.0.0.1:${port}\nauth: none\ncert: false\n`);

  const logFile = join(runDir, 'code-server.log');
  const log = openSync(logFile, 'a');
  const args = [
    '--config', config,
    '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust',
    '--user-data-dir', dirs.data,
    '--extensions-dir', dirs.extensions,
    workspace,
  ];
  // detached = setsid: its own process group, so the extension host and helpers die with it.
  // XDG_*: code-server otherwise writes logs and a default config under $HOME.
  const child = spawn(bin, args, {
    detached: true,
    stdio: ['ignore', log, log],
    env: { ...process.env, XDG_DATA_HOME: dirs.xdgData, XDG_CONFIG_HOME: dirs.xdgConfig, ...env },
  });
  let exited = null;
  child.on('exit', (code, signal) => (exited = { code, signal }));
  const stop = processGroupStopper(child.pid);

  const url = `http://127.0.0.1:${port}/`;
  try {
    await waitFor(
      async () => {
        if (exited) throw new Error(`code-server exited early (${JSON.stringify(exited)}):\n${tail(logFile)}`);
        const response = await fetch(`${url}healthz`);
        return response.ok;
      },
      { timeout: 60_000, interval: 200, what: `code-server on ${url}` },
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, authority: `127.0.0.1:${port}`, port, pid: child.pid, logFile, userDataDir: dirs.data, stop };
}

/** A stop() for process group `pid`: TERM, then KILL if it lingers; also armed for process exit. */
function processGroupStopper(pid) {
  const alive = () => {
    try {
      process.kill(-pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  const kill = (signal) => {
    try {
      process.kill(-pid, signal);
    } catch {
      // already gone
    }
  };
  // Last resort if the runner dies with an exception: 'exit' handlers must be synchronous.
  const onExit = () => kill('SIGKILL');
  process.on('exit', onExit);
  return async function stop() {
    process.off('exit', onExit);
    kill('SIGTERM');
    try {
      await waitFor(() => !alive(), { timeout: 5_000, interval: 100, what: 'code-server to stop' });
    } catch {
      kill('SIGKILL');
    }
  };
}

export function tail(file, lines = 40) {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** The workbench URL for `folder`, optionally loading extensions from source and running tests in the host. */
export function workbenchUrl(server, { folder, extensionDevelopmentPath, extensionTestsPath }) {
  const remote = (path) => `vscode-remote://${server.authority}${path}`;
  const payload = [];
  if (extensionDevelopmentPath) payload.push(['extensionDevelopmentPath', remote(extensionDevelopmentPath)]);
  if (extensionTestsPath) payload.push(['extensionTestsPath', remote(extensionTestsPath)]);
  let url = `${server.url}?folder=${encodeURIComponent(folder)}`;
  if (payload.length > 0) url += `&payload=${encodeURIComponent(JSON.stringify(payload))}`;
  return url;
}
