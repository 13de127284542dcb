// The welcome page, through the real vscode API.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const vscode = require('vscode');
const { test, waitFor, activeExtension, allTabs, closeAllEditors } = require('./harness');

test('the extension activates', async () => {
  const extension = await activeExtension();
  assert.equal(extension.isActive, true);
});

test('featureLens.showWelcome is registered', async () => {
  await activeExtension();
  const commands = await vscode.commands.getCommands(true);
  assert.ok(commands.includes('featureLens.showWelcome'), 'featureLens.showWelcome is not registered');
});

test('Show Welcome opens a webview tab titled "Feature Lens"', async () => {
  await closeAllEditors();
  await vscode.commands.executeCommand('featureLens.showWelcome');
  // The tab model follows the renderer asynchronously.
  const tab = await waitFor(() => allTabs().find((t) => t.label === 'Feature Lens'), { what: 'the Feature Lens tab' });
  assert.ok(tab.input instanceof vscode.TabInputWebview, 'the Feature Lens tab is not a webview');
  assert.match(tab.input.viewType, /featureLens\.welcome$/);
});

test('an unknown message from the webview is refused and logged, and the panel keeps working', async () => {
  await vscode.commands.executeCommand('featureLens.showWelcome');
  await waitFor(() => allTabs().some((t) => t.label === 'Feature Lens'), { what: 'the Feature Lens tab' });

  const bogus = await vscode.commands.executeCommand('featureLens._test.postToWelcome', { type: 'deleteEverything' });
  assert.equal(bogus.delivered, true);
  assert.match(bogus.refused, /deleteEverything/);
  const notAnObject = await vscode.commands.executeCommand('featureLens._test.postToWelcome', 42);
  assert.match(notAnObject.refused, /number/);

  const logFolder = await vscode.commands.executeCommand('featureLens._test.logFolder');
  const logged = await waitFor(() => findInLogs(logFolder, 'deleteEverything'), { what: 'the refusal in the log' });
  assert.match(logged, /refused a message from the webview/);

  // Still alive: a well-formed message is handled, and the command still works.
  const ready = await vscode.commands.executeCommand('featureLens._test.postToWelcome', { type: 'ready' });
  assert.deepEqual(ready, { delivered: true, refused: undefined });
  await vscode.commands.executeCommand('featureLens.showWelcome');
  assert.equal(allTabs().filter((t) => t.label === 'Feature Lens').length, 1);
});

/** The first line containing `needle` in any log file under `folder` (the output channel's file). */
function findInLogs(folder, needle) {
  if (!fs.existsSync(folder)) return undefined;
  for (const entry of fs.readdirSync(folder, { recursive: true })) {
    const file = path.join(folder, String(entry));
    if (!file.endsWith('.log') || !fs.statSync(file).isFile()) continue;
    const line = fs.readFileSync(file, 'utf8').split('\n').find((l) => l.includes(needle));
    if (line) return line;
  }
  return undefined;
}
