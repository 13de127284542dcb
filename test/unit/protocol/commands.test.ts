import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Commands, TestCommands, WEBVIEW_RUNNABLE_COMMANDS } from '../../../src/protocol/commands';

const manifest = JSON.parse(readFileSync('package.json', 'utf8')) as { contributes: { commands: { command: string }[] } };

test('package.json contributes exactly the command ids of src/protocol/commands.ts', () => {
  const contributed = manifest.contributes.commands.map((c) => c.command).sort();
  assert.deepEqual(contributed, Object.values(Commands).sort());
});

test('test-only commands are not contributed, and the webview may run only contributed commands', () => {
  const contributed = new Set(manifest.contributes.commands.map((c) => c.command));
  for (const id of Object.values(TestCommands)) assert.ok(!contributed.has(id), id);
  for (const id of WEBVIEW_RUNNABLE_COMMANDS) assert.ok(contributed.has(id), id);
});
