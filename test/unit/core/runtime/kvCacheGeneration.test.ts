// Generation through the KV cache: a merged decoder (If on use_cache_branch, the cache branch reading
// past_key_values) and a model with past inputs give the same next-token logits and greedy tokens as
// rerunning the whole context every step, also after the context fills up.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateSideBySide } from '../../../../src/core/analysis/generation';
import { GREEDY } from '../../../../src/core/analysis/sampling';
import { loadModel, type OnnxLanguageModel } from '../../../../src/core/runtime';
import { buildGpt2WithPast, GPT2_DEFAULT } from '../../../fixtures/gpt2Model';
import { buildLlama } from '../../../fixtures/llamaModel';
import { mergeWithCacheBranch } from '../../../fixtures/mergedDecoder';
import { maxAbsDiff } from '../../../fixtures/reference';
import { tempDir, type TempDir } from '../../../fixtures/tempModel';
import { fixtureSae, idsModel } from '../analysis/fixtureSae';

const PROMPT = Int32Array.from([4, 8, 15, 16, 23, 42, 7]);
const last = (m: { data: Float32Array; rows: number; cols: number }) => m.data.slice((m.rows - 1) * m.cols);

async function expectCachedEqualsUncached(lm: OnnxLanguageModel, reference: (ids: number[]) => Float64Array, vocab: number): Promise<void> {
  const stream = await lm.nextTokenStream(PROMPT);
  assert.ok(stream, 'the model has a cache interface');
  const ids = Array.from(PROMPT);
  // Fixed tokens to append (not the model's choice), so every step is checked whatever the weights say.
  for (let k = 0; k < 6; k++) {
    const logits = k === 0 ? stream.logits : await stream.append(ids[ids.length - 1]);
    assert.equal(stream.length, ids.length);
    const ref = reference(ids);
    const refLast = ref.subarray(ref.length - vocab);
    assert.ok(maxAbsDiff(logits, refLast) < 1e-4, `step ${k}: cached logits vs the reference forward`);
    assert.ok(maxAbsDiff(logits, last((await lm.logits([Int32Array.from(ids)]))[0])) < 1e-4, `step ${k}: cached vs uncached`);
    ids.push((k * 13 + 5) % vocab);
  }
  // Greedy generation past the context (48 tokens): the window slides exactly as without the cache.
  const long = Int32Array.from({ length: 40 }, (_, i) => (i * 7 + 3) % vocab);
  const cached = await lm.generate(long, 14);
  const uncached = await lm.generate(long, 14, { cache: false });
  assert.deepEqual(Array.from(cached), Array.from(uncached));
}

describe('generation through the KV cache', () => {
  let tmp: TempDir;
  before(() => {
    tmp = tempDir();
  });
  after(() => tmp.cleanup());

  test('merged decoder: the cache branch gives the uncached logits and tokens', async () => {
    const fixture = buildGpt2WithPast();
    const merged = mergeWithCacheBranch(fixture.bytes, buildGpt2WithPast(GPT2_DEFAULT, { past: false }).bytes);
    const lm = await loadModel(tmp.write('merged/decoder_model_merged.onnx', merged), { cacheDir: tmp.path('cache'), intraOpThreads: 1 });
    try {
      assert.equal(lm.hasKvCache, true);
      assert.equal(lm.sites().length, 5 * GPT2_DEFAULT.layers, 'analysis still runs the no-cache branch');
      await expectCachedEqualsUncached(lm, (ids) => fixture.referenceForward(ids).logits, GPT2_DEFAULT.vocab);

      // Generation side by side: the clean run reads the cache, the steered one reruns; with no
      // interventions both agree with plain greedy generation.
      const model = { ...idsModel(lm), nextTokenStream: (ids: Int32Array) => lm.nextTokenStream(ids) };
      const sae = fixtureSae(GPT2_DEFAULT.d, 16, 0.1);
      const text = Array.from(PROMPT).join(' ');
      const r = await generateSideBySide(model, sae, 'blocks.1.hook_resid_pre', text, { maxNewTokens: 8, interventions: [], sampling: GREEDY });
      assert.deepEqual(r.clean.ids, Array.from(await lm.generate(PROMPT, 8, { cache: false })));
      assert.deepEqual(r.steered.ids, r.clean.ids);
    } finally {
      await lm.dispose();
    }
  });

  test('the cache branch is what runs after the prompt', async () => {
    // A cache branch with other weights: only its steps can differ from the reference.
    const other = buildGpt2WithPast({ ...GPT2_DEFAULT, seed: 99 });
    const fixture = buildGpt2WithPast(GPT2_DEFAULT, { past: false });
    const lm = await loadModel(tmp.write('odd/decoder_model_merged.onnx', mergeWithCacheBranch(other.bytes, fixture.bytes)), { cacheDir: tmp.path('cache'), intraOpThreads: 1 });
    try {
      const stream = await lm.nextTokenStream(PROMPT);
      assert.ok(stream);
      const vocab = GPT2_DEFAULT.vocab;
      const prefill = fixture.referenceForward(PROMPT).logits;
      assert.ok(maxAbsDiff(stream.logits, prefill.subarray(prefill.length - vocab)) < 1e-4, 'the prompt runs the no-cache branch');
      const ids = [...PROMPT, 9];
      const next = await stream.append(9);
      const plain = fixture.referenceForward(ids).logits;
      assert.ok(maxAbsDiff(next, plain.subarray(plain.length - vocab)) > 1e-3, 'the step ran the cache branch');
    } finally {
      await lm.dispose();
    }
  });

  test('a model with past_key_values inputs reads its own presents', async () => {
    const fixture = buildGpt2WithPast();
    const lm = await loadModel(tmp.write('past/decoder_with_past_model.onnx', fixture.bytes), { cacheDir: tmp.path('cache'), intraOpThreads: 1 });
    try {
      assert.equal(lm.hasKvCache, true);
      await expectCachedEqualsUncached(lm, (ids) => fixture.referenceForward(ids).logits, GPT2_DEFAULT.vocab);
    } finally {
      await lm.dispose();
    }
  });

  test('a model without a cache interface generates without one', async () => {
    const lm = await loadModel(tmp.write('plain/model.onnx', buildLlama().bytes), { cacheDir: tmp.path('cache'), intraOpThreads: 1 });
    try {
      assert.equal(lm.hasKvCache, false);
      assert.equal(await lm.nextTokenStream(PROMPT), undefined);
      assert.equal((await lm.generate(PROMPT, 3)).length, 3);
    } finally {
      await lm.dispose();
    }
  });
});
