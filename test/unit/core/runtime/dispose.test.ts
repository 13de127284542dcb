// Disposing a model releases every ONNX Runtime session it opened, the spliced halves included.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadModel } from '../../../../src/core/runtime';
import { OrtSession } from '../../../../src/core/runtime/session';
import { BUNDLED_MODEL } from '../../../fixtures/tempModel';

test('dispose releases the main, prefix, suffix and last-position suffix sessions', async () => {
  const before = OrtSession.live;
  const lm = await loadModel(BUNDLED_MODEL);
  const ids = Int32Array.from([1, 2, 3, 4, 5, 6]);
  const site = 'blocks.1.hook_resid_post';
  const cut = await lm.cutAtSite(ids, site);
  const logits = await cut.lastLogits([cut.acts]);
  assert.equal(logits.length, 1);
  assert.ok(OrtSession.live - before >= 3, `expected main + prefix + suffix sessions open, got ${OrtSession.live - before}`);
  await lm.dispose();
  assert.equal(OrtSession.live, before);
});
