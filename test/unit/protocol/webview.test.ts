import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseHostMessage, parseWebviewMessage, PROTOCOL_VERSION } from '../../../src/protocol/webview';

test('accepts the messages a webview may send', () => {
  assert.deepEqual(parseWebviewMessage({ type: 'ready' }), { ok: true, value: { type: 'ready' } });
  const log = parseWebviewMessage({ type: 'log', level: 'error', message: 'x' });
  assert.equal(log.ok, true);
});

test('refuses unknown, malformed and non-object messages with a reason', () => {
  for (const bad of [null, 3, 'ready', [], {}, { type: 'nope' }, { type: 'log', level: 'warn', message: 'x' }]) {
    const r = parseWebviewMessage(bad);
    assert.equal(r.ok, false, `should refuse ${JSON.stringify(bad)}`);
    if (!r.ok) assert.ok(r.reason.length > 0);
  }
});

test('a webview cannot ask the host to run arbitrary commands', () => {
  const r = parseWebviewMessage({ type: 'runCommand', command: 'workbench.action.terminal.new' });
  assert.equal(r.ok, false);
});

test('host messages with another protocol version are refused', () => {
  assert.equal(parseHostMessage({ type: 'init', protocol: PROTOCOL_VERSION + 1, view: 'welcome', version: '1' }).ok, false);
  assert.equal(parseHostMessage({ type: 'init', protocol: PROTOCOL_VERSION, view: 'welcome', version: '1' }).ok, true);
});

test('token-view messages from the webview are validated', () => {
  assert.deepEqual(parseWebviewMessage({ type: 'focusToken', index: 3 }), { ok: true, value: { type: 'focusToken', index: 3 } });
  assert.deepEqual(parseWebviewMessage({ type: 'selectFeature', feature: null }), { ok: true, value: { type: 'selectFeature', feature: null } });
  assert.equal(parseWebviewMessage({ type: 'steer', feature: 2, value: 0 }).ok, true);
  assert.equal(parseWebviewMessage({ type: 'runCommand', command: 'featureLens.analyzeSelection' }).ok, true);
  for (const bad of [
    { type: 'focusToken', index: -1 },
    { type: 'focusToken', index: 1.5 },
    { type: 'selectFeature', feature: 'x' },
    { type: 'steer', feature: 1, value: Number.NaN },
    { type: 'setLabel', feature: 1, label: 'x'.repeat(500) },
  ]) {
    assert.equal(parseWebviewMessage(bad).ok, false, JSON.stringify(bad));
  }
});

test('analysis messages from the host need their payload', () => {
  assert.equal(parseHostMessage({ type: 'analysis', result: {} }).ok, false);
  assert.equal(parseHostMessage({ type: 'analysis', result: { tokens: [] } }).ok, true);
  assert.equal(parseHostMessage({ type: 'featureSelected', feature: 4 }).ok, true);
});

test('hypothesis workbench messages: a rule from the view is validated; results and progress from the host', () => {
  assert.deepEqual(parseWebviewMessage({ type: 'runHypothesis', hypothesis: { kind: 'regex', pattern: 'a+' } }), { ok: true, value: { type: 'runHypothesis', hypothesis: { kind: 'regex', pattern: 'a+' } } });
  assert.equal(parseWebviewMessage({ type: 'runHypothesis', hypothesis: { kind: 'regex' } }).ok, false);
  assert.equal(parseWebviewMessage({ type: 'runHypothesis' }).ok, false);
  assert.equal(parseHostMessage({ type: 'hypothesisRunning', description: '/a+/' }).ok, true);
  assert.equal(parseHostMessage({ type: 'hypothesisResult', result: { detectors: [] } }).ok, true);
  assert.equal(parseHostMessage({ type: 'hypothesisResult', result: {} }).ok, false);
});
