// An Optimum-style export "with past": past_key_values inputs are fed empty (past length 0), present.*
// outputs are ignored, attention_mask drives padding; hooks and splices still match a TS reference.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { loadModel, type OnnxLanguageModel } from '../../../../src/core/runtime';
import { matrix } from '../../../../src/core/tensor';
import { buildGpt2WithPast, GPT2_DEFAULT, type Gpt2Model } from '../../../fixtures/gpt2Model';
import { maxAbsDiff } from '../../../fixtures/reference';
import { tempDir, type TempDir } from '../../../fixtures/tempModel';

describe('GPT-2-style model with past_key_values inputs', () => {
  let tmp: TempDir;
  let fixture: Gpt2Model;
  let lm: OnnxLanguageModel;
  const ids = Int32Array.from([4, 8, 15, 16, 23, 42, 7, 79, 0, 33]);

  before(async () => {
    tmp = tempDir();
    fixture = buildGpt2WithPast();
    tmp.write('decoder_with_past_model.onnx', fixture.bytes);
    lm = await loadModel(tmp.dir, { cacheDir: tmp.path('cache'), intraOpThreads: 1 });
  });
  after(async () => {
    await lm?.dispose();
    tmp.cleanup();
  });

  test('finds the Optimum file in the folder, its blocks and its context', () => {
    assert.equal(lm.info.layers, GPT2_DEFAULT.layers);
    assert.equal(lm.info.contextLength, GPT2_DEFAULT.ctx);
    assert.equal(lm.sites().length, 5 * GPT2_DEFAULT.layers);
  });

  test('all sites and logits match the reference', async () => {
    const ref = fixture.referenceForward(ids);
    const names = lm.sites().map((s) => s.name);
    const acts = await lm.activations([ids], names);
    for (const n of names) assert.ok(maxAbsDiff(acts.get(n)![0].data, ref.sites.get(n)!) < 1e-4, n);
    assert.ok(maxAbsDiff((await lm.logits([ids]))[0].data, ref.logits) < 1e-4);
  });

  test('padding through attention_mask does not leak into shorter sequences', async () => {
    const short = ids.subarray(0, 4);
    const [padded] = (await lm.activations([short, ids], ['blocks.1.hook_resid_post'])).get('blocks.1.hook_resid_post')!;
    const ref = fixture.referenceForward(short).sites.get('blocks.1.hook_resid_post')!;
    assert.ok(maxAbsDiff(padded.data, ref) < 1e-4);
  });

  test('splices are exact and the mask crosses the cut', async () => {
    const batch = [ids, ids.subarray(0, 6)];
    const clean = await lm.logits(batch);
    for (const site of ['blocks.0.hook_attn_out', 'blocks.1.hook_resid_pre', 'blocks.1.hook_mlp_out']) {
      const same = await lm.spliced(batch, site, (a) => a);
      same.logits.forEach((l, b) => assert.ok(maxAbsDiff(l.data, clean[b].data) < 1e-5, `${site} seq ${b}`));
      const zero = await lm.spliced(batch, site, (a) => matrix(a.rows, a.cols));
      assert.ok(maxAbsDiff(zero.logits[0].data, clean[0].data) > 1e-3, site);
    }
  });
});
