// Graph analysis, hooking, splicing and windowing on a Llama-style model built in the test (RMSNorm written
// out, rotary embeddings, no position embedding, SwiGLU, only an input_ids input), checked against an
// independent TypeScript forward pass.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { analyseGraph, loadModel, type OnnxLanguageModel } from '../../../../src/core/runtime';
import { cutAt } from '../../../../src/core/runtime/edit';
import { decodeModel } from '../../../../src/core/runtime/onnxProto';
import { matrix } from '../../../../src/core/tensor';
import { buildLlama, LLAMA_DEFAULT, type LlamaModel } from '../../../fixtures/llamaModel';
import { maxAbsDiff } from '../../../fixtures/reference';
import { tempDir, type TempDir } from '../../../fixtures/tempModel';

const IDS = Int32Array.from([3, 17, 42, 5, 88, 1, 0, 64, 23, 9, 95, 30]);

describe('Llama-style model built in the test', () => {
  let tmp: TempDir;
  let fixture: LlamaModel;
  let lm: OnnxLanguageModel;

  before(async () => {
    tmp = tempDir();
    fixture = buildLlama();
    tmp.write('model.onnx', fixture.bytes);
    lm = await loadModel(tmp.path('model.onnx'), { cacheDir: tmp.path('cache'), intraOpThreads: 1 });
  });
  after(async () => {
    await lm?.dispose();
    tmp.cleanup();
  });

  test('finds two blocks with five sites each, and the model shape', () => {
    const names = lm.sites().map((s) => s.name);
    assert.equal(names.length, 10);
    for (const L of [0, 1]) {
      for (const k of ['hook_resid_pre', 'hook_attn_out', 'hook_resid_mid', 'hook_mlp_out', 'hook_resid_post']) {
        assert.ok(names.includes(`blocks.${L}.${k}`), `blocks.${L}.${k}`);
      }
    }
    assert.equal(lm.info.layers, 2);
    assert.equal(lm.info.dModel, LLAMA_DEFAULT.d);
    assert.equal(lm.info.vocabSize, LLAMA_DEFAULT.vocab);
    assert.equal(lm.info.contextLength, LLAMA_DEFAULT.ctx, 'context from the rotary tables, without a config.json');
    assert.ok(lm.sites().every((s) => s.dim === LLAMA_DEFAULT.d));
  });

  test('resid_pre(0) is the token Gather output and resid_post(L) is resid_pre(L+1)', () => {
    const graph = decodeModel(fixture.bytes, 'llama').graph!;
    const a = analyseGraph(graph, 'llama');
    const gather = graph.node!.find((n) => n.output!.includes(a.embedding))!;
    assert.equal(gather.opType, 'Gather');
    assert.equal(gather.input![1], 'input_ids');
    assert.equal(a.blocks[0].residPost, a.blocks[1].residPre);
  });

  test('every site matches the reference forward pass to 1e-4', async () => {
    const ref = fixture.referenceForward(IDS);
    const names = lm.sites().map((s) => s.name);
    const acts = await lm.activations([IDS], names);
    for (const name of names) {
      const got = acts.get(name)![0];
      assert.equal(got.rows, IDS.length);
      const diff = maxAbsDiff(got.data, ref.sites.get(name)!);
      assert.ok(diff < 1e-4, `${name}: max |Δ| = ${diff}`);
    }
    const [logits] = await lm.logits([IDS]);
    assert.ok(maxAbsDiff(logits.data, ref.logits) < 1e-4);
  });

  test('a right-padded batch gives each sequence the activations it has alone', async () => {
    const a = IDS.subarray(0, 5);
    const b = IDS;
    const batch = await lm.activations([a, b], ['blocks.1.hook_resid_post']);
    const alone = await lm.activations([a], ['blocks.1.hook_resid_post']);
    const [ma, mb] = batch.get('blocks.1.hook_resid_post')!;
    assert.equal(ma.rows, 5);
    assert.equal(mb.rows, IDS.length);
    assert.ok(maxAbsDiff(ma.data, alone.get('blocks.1.hook_resid_post')![0].data) < 1e-5);
  });

  test('splicing the unchanged activation reproduces the logits to 1e-5; zeros change them', async () => {
    const [clean] = await lm.logits([IDS]);
    const names = lm.sites().map((s) => s.name);
    const acts = await lm.activations([IDS], names);
    for (const name of names) {
      const same = await lm.runWithSplice(IDS, name, acts.get(name)![0]);
      assert.ok(maxAbsDiff(same.data, clean.data) < 1e-5, `${name}: identity splice moved logits by ${maxAbsDiff(same.data, clean.data)}`);
      const zeros = await lm.runWithSplice(IDS, name, matrix(IDS.length, LLAMA_DEFAULT.d));
      assert.ok(maxAbsDiff(zeros.data, clean.data) > 1e-2, `${name}: zero splice left the logits unchanged`);
    }
  });

  test('zeroing mlp_out equals the reference with that branch removed', async () => {
    // Independent check of the splice: resid_post(1) = resid_mid(1) + 0, so the logits follow from resid_mid(1).
    const ref = fixture.referenceForward(IDS);
    const withoutMlp = await lm.runWithSplice(IDS, 'blocks.1.hook_mlp_out', matrix(IDS.length, LLAMA_DEFAULT.d));
    const viaResid = await lm.runWithSplice(
      IDS,
      'blocks.1.hook_resid_post',
      matrix(IDS.length, LLAMA_DEFAULT.d, Float32Array.from(ref.sites.get('blocks.1.hook_resid_mid')!)),
    );
    assert.ok(maxAbsDiff(withoutMlp.data, viaResid.data) < 1e-4);
  });

  test('spliced() passes each sequence its original activations and batch edits stay per sequence', async () => {
    const seqs = [IDS.subarray(0, 7), IDS];
    const seen: number[] = [];
    const r = await lm.spliced(seqs, 'blocks.0.hook_resid_mid', (acts, i) => {
      seen.push(acts.rows);
      return i === 0 ? matrix(acts.rows, acts.cols) : acts;
    });
    assert.deepEqual(seen, [7, IDS.length]);
    const clean = await lm.logits(seqs);
    assert.ok(maxAbsDiff(r.logits[1].data, clean[1].data) < 1e-5, 'unedited sequence changed');
    assert.ok(maxAbsDiff(r.logits[0].data, clean[0].data) > 1e-2, 'edited sequence unchanged');
    const orig = await lm.activations(seqs, ['blocks.0.hook_resid_mid']);
    assert.ok(maxAbsDiff(r.original[0].data, orig.get('blocks.0.hook_resid_mid')![0].data) < 1e-6);
  });

  test('the cut at attn_out hands the residual input to the suffix', () => {
    const proto = decodeModel(fixture.bytes, 'llama');
    const a = analyseGraph(proto.graph!, 'llama');
    const cut = cutAt(proto, a.blocks[1].attnOut, ['logits']);
    assert.ok(cut.boundary.includes(a.blocks[1].residPre), `boundary: ${cut.boundary.join(', ')}`);
    assert.ok(!cut.prefix.graph!.node!.some((n) => n.output!.includes('logits')));
  });

  test('windowed activations take each token from the window with the most left context', async () => {
    const long = Int32Array.from({ length: 40 }, (_, i) => (i * 37 + 11) % LLAMA_DEFAULT.vocab);
    const site = 'blocks.1.hook_resid_post';
    const r = await lm.activationsLong(long, [site], { window: 16, stride: 8, batchSize: 2 });
    assert.equal(r.tokensUsed, 40);
    assert.equal(r.truncated, false);
    const got = r.acts.get(site)!;
    // Windows start at 0, 8, 16, 24: token t < 16 from window 0, then each window's last 8 tokens.
    for (let t = 0; t < 40; t++) {
      const start = t < 16 ? 0 : Math.min(Math.floor((t - 16) / 8) * 8 + 8, 24);
      const ref = fixture.referenceForward(long.subarray(start, start + 16)).sites.get(site)!;
      const want = ref.subarray((t - start) * LLAMA_DEFAULT.d, (t - start + 1) * LLAMA_DEFAULT.d);
      const diff = maxAbsDiff(got.data.subarray(t * LLAMA_DEFAULT.d, (t + 1) * LLAMA_DEFAULT.d), want);
      assert.ok(diff < 1e-4, `token ${t}: ${diff}`);
    }
    const capped = await lm.activationsLong(long, [site], { window: 16, maxTokens: 20 });
    assert.equal(capped.tokensUsed, 20);
    assert.equal(capped.truncated, true);
    assert.match(capped.message ?? '', /40 tokens.*first 20/);
  });

  test('a decomposed final norm is analysed the same way', () => {
    const other = buildLlama({ ...LLAMA_DEFAULT, finalNorm: 'decomposed', layers: 3, seed: 11 });
    const a = analyseGraph(decodeModel(other.bytes, 'llama3').graph!, 'llama3');
    assert.equal(a.blocks.length, 3);
  });
});
