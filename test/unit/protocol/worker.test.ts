import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseWorkerRequest } from '../../../src/protocol/worker';

test('well-formed worker requests pass through', () => {
  assert.deepEqual(parseWorkerRequest({ kind: 'analyze', text: 'hi', topK: 5, maxTokens: 256 }), { kind: 'analyze', text: 'hi', topK: 5, maxTokens: 256 });
  assert.deepEqual(parseWorkerRequest({ kind: 'steer', text: 'a', feature: 3, value: 0, topK: 5 }), { kind: 'steer', text: 'a', feature: 3, value: 0, topK: 5 });
  assert.equal((parseWorkerRequest({ kind: 'load' }) as { kind: string }).kind, 'load');
  assert.deepEqual(parseWorkerRequest({ kind: 'load', saePath: '/s', saeHook: 'layers.2', site: 'blocks.2.hook_resid_post' }), {
    kind: 'load',
    modelPath: undefined,
    saePath: '/s',
    saeHook: 'layers.2',
    site: 'blocks.2.hook_resid_post',
  });
});

test('malformed worker requests become a reason, not an exception', () => {
  for (const bad of [null, {}, { kind: 'analyze', text: 1, topK: 5, maxTokens: 1 }, { kind: 'analyze', text: 'a', topK: 0, maxTokens: 1 }, { kind: 'steer', text: 'a', feature: -1, value: 0, topK: 1 }, { kind: 'steer', text: 'a', feature: 1, value: Infinity, topK: 1 }, { kind: 'load', saeHook: 3 }, { kind: 'rm -rf' }]) {
    assert.equal(typeof parseWorkerRequest(bad), 'string', JSON.stringify(bad));
  }
});
