// What in-host test files (host/*.test.js) use. They run inside VS Code's extension host, with the
// real `vscode` API, under host/index.js (code-server route) or under mocha (@vscode/test-cli).
const vscode = require('vscode');

const EXTENSION_ID = 'feature-lens.feature-lens';

let collected = null;

/** Declares a test. `fn` may be async; throwing (e.g. a failed node:assert) fails it. */
function test(name, fn, { timeout = 60_000 } = {}) {
  if (collected) {
    collected.push({ name, fn, timeout });
    return;
  }
  // Under mocha (test-cli): hand the test over so both runners share the same files (bdd or tdd ui).
  const mochaTest = globalThis.it ?? globalThis.test;
  if (typeof mochaTest === 'function') {
    mochaTest(name, fn).timeout(timeout);
    return;
  }
  throw new Error('host tests must be loaded by host/index.js or by mocha');
}

/** Loads test files with `require` and returns the tests they declared. */
function collect(files) {
  collected = [];
  try {
    for (const file of files) require(file);
    return collected;
  } finally {
    collected = null;
  }
}

/** Polls `condition` until it returns a truthy value (returned) or `timeout` ms pass. */
async function waitFor(condition, { timeout = 20_000, interval = 100, what = 'a condition' } = {}) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const value = await condition();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, interval));
  }
}

/** The Feature Lens extension, activated. */
async function activeExtension() {
  const extension = vscode.extensions.getExtension(EXTENSION_ID);
  if (!extension) throw new Error(`extension ${EXTENSION_ID} is not loaded`);
  await extension.activate();
  return extension;
}

/** All open tabs, across editor groups. */
function allTabs() {
  return vscode.window.tabGroups.all.flatMap((group) => group.tabs);
}

async function closeAllEditors() {
  await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  await waitFor(() => allTabs().length === 0, { what: 'all editors to close' });
}

let editorCount = 0;

/**
 * An untitled editor holding `text`, all of it selected. Each gets a name of its own: VS Code recycles the
 * name "Untitled-N" of a closed untitled document and may restore the old one's hot-exit backup into the
 * new one, which would then show an earlier test's text.
 */
async function editorWith(text) {
  const uri = vscode.Uri.from({ scheme: 'untitled', path: `/feature-lens-it-${process.pid}-${++editorCount}.txt` });
  const doc = await vscode.workspace.openTextDocument(uri);
  const editor = await vscode.window.showTextDocument(doc, vscode.ViewColumn.One);
  await editor.edit((edit) => edit.insert(new vscode.Position(0, 0), text));
  editor.selection = new vscode.Selection(doc.positionAt(0), doc.positionAt(text.length));
  return editor;
}

module.exports = { EXTENSION_ID, test, collect, waitFor, activeExtension, allTabs, closeAllEditors, editorWith };
