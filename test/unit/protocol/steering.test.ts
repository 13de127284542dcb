import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseInterventions, parseSampling } from '../../../src/protocol/steering';
import { parseHostMessage, parseWebviewMessage } from '../../../src/protocol/webview';
import { parseWorkerRequest } from '../../../src/protocol/worker';

test('interventions are parsed to their typed shape; anything else is refused with the reason', () => {
  const ok = parseInterventions([
    { feature: 3, op: { kind: 'clamp', value: 2.5 }, positions: { kind: 'from', start: 4 } },
    { feature: 0, op: { kind: 'zero', extra: 1 }, positions: { kind: 'all' } },
    { feature: 7, op: { kind: 'scale', factor: -1 }, positions: { kind: 'range', start: 0, end: 2 } },
  ]);
  assert.deepEqual(ok, {
    ok: true,
    value: [
      { feature: 3, op: { kind: 'clamp', value: 2.5 }, positions: { kind: 'from', start: 4 } },
      { feature: 0, op: { kind: 'zero' }, positions: { kind: 'all' } },
      { feature: 7, op: { kind: 'scale', factor: -1 }, positions: { kind: 'range', start: 0, end: 2 } },
    ],
  });
  const bad = (v: unknown, re: RegExp) => {
    const r = parseInterventions(v);
    assert.equal(r.ok, false);
    if (!r.ok) assert.match(r.reason, re);
  };
  bad({}, /list/);
  bad([{ feature: -1, op: { kind: 'zero' }, positions: { kind: 'all' } }], /intervention 1: needs a feature id/);
  bad([{ feature: 1, op: { kind: 'clamp', value: Infinity }, positions: { kind: 'all' } }], /finite number/);
  bad([{ feature: 1, op: { kind: 'add' }, positions: { kind: 'all' } }], /finite number/);
  bad([{ feature: 1, op: { kind: 'zero' }, positions: { kind: 'from', start: -2 } }], /positions/);
  bad(Array.from({ length: 65 }, () => ({ feature: 1, op: { kind: 'zero' }, positions: { kind: 'all' } })), /at most 64/);
  assert.equal(parseSampling({ temperature: 0.7, topP: 0.9, seed: 1 }).ok, true);
  assert.equal(parseSampling({ temperature: NaN, topP: 0.9, seed: 1 }).ok, false);
});

test('attribute and generate requests reach the worker only when well-formed', () => {
  const a = parseWorkerRequest({ kind: 'attribute', text: 'x', position: 2, upTo: true, target: { text: ' the' } });
  assert.deepEqual(a, { ok: true, value: { kind: 'attribute', text: 'x', position: 2, upTo: true, target: { text: ' the' } } });
  assert.equal(parseWorkerRequest({ kind: 'attribute', text: 'x', position: -1, upTo: true }).ok, false);
  assert.equal(parseWorkerRequest({ kind: 'attribute', text: 'x', position: 1, upTo: true, target: { id: 'a' } }).ok, false);
  const g = { kind: 'generate', text: 'x', maxNewTokens: 8, interventions: [], sampling: { temperature: 0, topP: 1, seed: 0 } };
  assert.equal(parseWorkerRequest(g).ok, true);
  assert.equal(parseWorkerRequest({ ...g, maxNewTokens: 0 }).ok, false);
  assert.equal(parseWorkerRequest({ ...g, interventions: [{ feature: 1, op: { kind: 'clamp', value: NaN }, positions: { kind: 'all' } }] }).ok, false);
});

test('webview and host steering messages are validated', () => {
  assert.deepEqual(parseWebviewMessage({ type: 'attribute', index: 4, target: 'dog' }), { ok: true, value: { type: 'attribute', index: 4, target: 'dog' } });
  assert.equal(parseWebviewMessage({ type: 'attribute', index: 1.5 }).ok, false);
  assert.equal(parseWebviewMessage({ type: 'cancelGeneration' }).ok, true);
  assert.equal(parseWebviewMessage({ type: 'steerWithFeature', feature: 3 }).ok, true);
  assert.equal(parseWebviewMessage({ type: 'generate', interventions: [], sampling: { temperature: 0, topP: 1, seed: 0 }, maxNewTokens: 0 }).ok, false);
  assert.equal(parseHostMessage({ type: 'generationDone', result: null }).ok, true);
  assert.equal(parseHostMessage({ type: 'generationStep', step: { index: 0 } }).ok, true);
  assert.equal(parseHostMessage({ type: 'attribution', result: {} }).ok, false);
  assert.deepEqual(parseHostMessage({ type: 'steerFrom', position: 2, feature: 9 }), { ok: true, value: { type: 'steerFrom', position: 2, feature: 9 } });
});
