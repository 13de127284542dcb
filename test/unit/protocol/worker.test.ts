import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseWorkerRequest } from '../../../src/protocol/worker';

test('well-formed worker requests pass through', () => {
  assert.deepEqual(parseWorkerRequest({ kind: 'analyze', text: 'hi', topK: 5, maxTokens: 256 }), { ok: true, value: { kind: 'analyze', text: 'hi', topK: 5, maxTokens: 256 } });
  assert.deepEqual(parseWorkerRequest({ kind: 'steer', text: 'a', feature: 3, value: 0, topK: 5 }), { ok: true, value: { kind: 'steer', text: 'a', feature: 3, value: 0, topK: 5 } });
  const load = parseWorkerRequest({ kind: 'load' });
  assert.equal(load.ok && load.value.kind, 'load');
  assert.deepEqual(parseWorkerRequest({ kind: 'load', saePath: '/s', saeHook: 'layers.2', site: 'blocks.2.hook_resid_post' }), {
    ok: true,
    value: {
      kind: 'load',
      modelPath: undefined,
      saePath: '/s',
      saeHook: 'layers.2',
      site: 'blocks.2.hook_resid_post',
    },
  });
  const variant = parseWorkerRequest({ kind: 'load', modelPath: '/m', modelVariant: 'q4' });
  assert.equal(variant.ok && variant.value.kind === 'load' && variant.value.modelVariant, 'q4', 'the weight variant reaches the worker');
});

test('malformed worker requests become a reason, not an exception', () => {
  for (const bad of [null, {}, { kind: 'analyze', text: 1, topK: 5, maxTokens: 1 }, { kind: 'analyze', text: 'a', topK: 0, maxTokens: 1 }, { kind: 'steer', text: 'a', feature: -1, value: 0, topK: 1 }, { kind: 'steer', text: 'a', feature: 1, value: Infinity, topK: 1 }, { kind: 'load', saeHook: 3 }, { kind: 'load', modelVariant: 4 }, { kind: 'rm -rf' }]) {
    const parsed = parseWorkerRequest(bad);
    assert.equal(parsed.ok, false, JSON.stringify(bad));
    assert.equal(typeof (parsed.ok ? undefined : parsed.reason), 'string', JSON.stringify(bad));
  }
});

test('hypothesis requests: the three kinds of rule pass, malformed ones are refused with a reason', () => {
  const examples = { kind: 'examples', text: 'the cat', ranges: [[4, 7]] };
  for (const hypothesis of [{ kind: 'regex', pattern: '^[0-9]+$' }, { kind: 'tokens', tokens: ['cat', 'dog'] }, examples]) {
    const parsed = parseWorkerRequest({ kind: 'testHypothesis', hypothesis, top: 10, probe: 3, maxTokens: 512 });
    assert.deepEqual(parsed, { ok: true, value: { kind: 'testHypothesis', hypothesis, top: 10, probe: 3, maxTokens: 512 } });
  }
  for (const hypothesis of [{ kind: 'regex', pattern: '' }, { kind: 'tokens', tokens: [1] }, { kind: 'examples', text: 'x', ranges: [[3, 1]] }, { kind: 'examples', text: 'x', ranges: [[-1, 1]] }, { kind: 'sql' }, 'cat']) {
    const parsed = parseWorkerRequest({ kind: 'testHypothesis', hypothesis, top: 10, probe: 3, maxTokens: 512 });
    assert.equal(parsed.ok, false, JSON.stringify(hypothesis));
  }
  assert.equal(parseWorkerRequest({ kind: 'testHypothesis', hypothesis: examples, top: 0, probe: 3, maxTokens: 512 }).ok, false);
});
