// @vscode/test-cli configuration for contributors with a desktop VS Code and a network:
//   npm run test:electron   (downloads VS Code into .vscode-test/ on first use)
// It runs the same in-host tests (host/*.test.js) under mocha; the UI tests need the code-server
// route (npm run test:integration), which is what CI and offline machines use.
import { defineConfig } from '@vscode/test-cli';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const workspace = mkdtempSync(join(tmpdir(), 'feature-lens-electron-'));
writeFileSync(join(workspace, 'sample.txt'), 'The quick brown fox jumps over the lazy dog.\n');

export default defineConfig({
  label: 'host',
  files: 'host/*.test.js',
  extensionDevelopmentPath: resolve(here, '..', '..'),
  workspaceFolder: workspace,
  version: 'stable',
  launchArgs: ['--disable-extensions', '--disable-workspace-trust'],
  mocha: { ui: 'bdd', timeout: 60_000 },
});
