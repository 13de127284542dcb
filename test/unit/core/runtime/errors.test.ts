// Bad input gives errors that name the file and the problem, never a crash.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadModel, ModelFileError, SiteAnalysisError, type OnnxLanguageModel } from '../../../../src/core/runtime';
import { attr, FLOAT, GraphBuilder, INT64, randomArray, rng } from '../../../fixtures/onnxBuilder';
import { buildLlama } from '../../../fixtures/llamaModel';
import { BUNDLED_MODEL, tempDir, type TempDir } from '../../../fixtures/tempModel';

describe('model loading errors', () => {
  let tmp: TempDir;
  const opts = () => ({ cacheDir: tmp.path('cache'), intraOpThreads: 1 });
  before(() => {
    tmp = tempDir();
  });
  after(() => tmp.cleanup());

  test('a missing path', async () => {
    await assert.rejects(loadModel(tmp.path('nope'), opts()), (e: Error) => e instanceof ModelFileError && /nope: no such file/.test(e.message));
  });

  test('a folder without an .onnx file', async () => {
    tmp.write('empty-dir-marker.txt', 'x');
    await assert.rejects(loadModel(tmp.dir, opts()), /holds no \.onnx file/);
  });

  test('an empty, a truncated and a random .onnx file', async () => {
    const bytes = buildLlama().bytes;
    const empty = tmp.write('empty.onnx', new Uint8Array(0));
    const truncated = tmp.write('truncated.onnx', bytes.subarray(0, Math.floor(bytes.length * 0.6)));
    const noise = tmp.write('noise.onnx', Uint8Array.from(randomArray(rng(3), 5000, 127, 128)));
    await assert.rejects(loadModel(empty, opts()), (e: Error) => e.message.startsWith(empty) && /empty/.test(e.message));
    await assert.rejects(loadModel(truncated, opts()), (e: Error) => e.message.startsWith(truncated) && /corrupt or truncated/.test(e.message));
    await assert.rejects(loadModel(noise, opts()), (e: Error) => e.message.startsWith(noise) && /not a valid ONNX model/.test(e.message));
  });

  test('a model without a logits output', async () => {
    const g = new GraphBuilder();
    g.input('input_ids', INT64, ['b', 's']);
    g.init('emb', randomArray(rng(1), 40, 1), [10, 4]);
    g.op('Gather', ['emb', 'input_ids'], [], 'hidden_states');
    g.output('hidden_states', FLOAT, ['b', 's', 4]);
    const file = tmp.write('nologits.onnx', g.build());
    await assert.rejects(loadModel(file, opts()), (e: Error) => e instanceof ModelFileError && e.message.startsWith(file) && /no "logits" output.*hidden_states/.test(e.message));
  });

  test('a graph whose blocks cannot be identified lists what it found', async () => {
    // One residual Add whose branch is an MLP with no attention before it: not a transformer block.
    const g = new GraphBuilder();
    const r = rng(5);
    g.input('input_ids', INT64, ['b', 's']);
    g.init('emb', randomArray(r, 16 * 8, 1), [16, 8]);
    const x = g.op('Gather', ['emb', 'input_ids']);
    const h = g.op('LayerNormalization', [x, g.init('g', randomArray(r, 8, 0.1, 1), [8]), g.init('bb', randomArray(r, 8, 0.1), [8])], [attr.i('axis', -1)]);
    const mlp = g.op('MatMul', [g.op('Tanh', [g.op('MatMul', [h, g.init('w1', randomArray(r, 64, 0.3), [8, 8])])]), g.init('w2', randomArray(r, 64, 0.3), [8, 8])]);
    const y = g.op('Add', [x, mlp]);
    g.op('MatMul', [y, g.init('wu', randomArray(r, 128, 0.3), [8, 16])], [], 'logits');
    g.output('logits', FLOAT, ['b', 's', 16]);
    const file = tmp.write('odd.onnx', g.build());
    const lm = await loadModel(file, opts()); // logits still work
    try {
      assert.throws(() => lm.sites(), (e: Error) => e instanceof SiteAnalysisError && e.message.startsWith(file) && /1 residual sums with branches \[mlp\]/.test(e.message) && /Supported families: GPT-2, Llama/.test(e.message));
      const [logits] = await lm.logits([Int32Array.of(1, 2, 3)]);
      assert.equal(logits.cols, 16);
    } finally {
      await lm.dispose();
    }
  });

  describe('with a loaded model', () => {
    let lm: OnnxLanguageModel;
    before(async () => {
      tmp.write('llama.onnx', buildLlama().bytes);
      lm = await loadModel(tmp.path('llama.onnx'), opts());
    });
    after(async () => lm?.dispose());

    test('ids out of vocabulary name the file, the id and its position', async () => {
      await assert.rejects(lm.logits([Int32Array.of(1, 2, 96)]), (e: Error) => /llama\.onnx: token id 96 at position 2 is outside the model's vocabulary \(0\.\.95\)/.test(e.message));
      await assert.rejects(lm.activations([Int32Array.of(-1)], ['blocks.0.hook_resid_pre']), /token id -1/);
    });

    test('an unknown site lists the sites found', async () => {
      await assert.rejects(lm.activations([Int32Array.of(1)], ['blocks.7.hook_resid_post']), (e: Error) =>
        /hook site "blocks\.7\.hook_resid_post" not found\. Sites found: blocks\.0\.hook_resid_pre, .*blocks\.1\.hook_resid_post/.test(e.message),
      );
    });

    test('empty sequences, wrong replacement shapes and too-long inputs are refused', async () => {
      await assert.rejects(lm.logits([new Int32Array(0)]), /empty/);
      await assert.rejects(lm.runWithSplice(Int32Array.of(1, 2), 'blocks.0.hook_resid_post', { data: new Float32Array(3), rows: 1, cols: 3 }), /needs a 2×32 replacement, got 1×3/);
      await assert.rejects(lm.logits([new Int32Array(lm.info.contextLength + 1)]), /takes at most/);
    });
  });

  test('a tokenizer.json of an unsupported type names the file', async () => {
    const dir = join(tmp.dir, 'badtok');
    tmp.write('badtok-model.onnx', buildLlama().bytes);
    const { mkdirSync, writeFileSync } = await import('node:fs');
    mkdirSync(dir);
    copyFileSync(tmp.path('badtok-model.onnx'), join(dir, 'model.onnx'));
    writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify({ model: { type: 'CharLevel', vocab: {} } }));
    await assert.rejects(loadModel(dir, opts()), (e: Error) => e.message.startsWith(join(dir, 'tokenizer.json')) && /unsupported tokenizer model type "CharLevel"/.test(e.message));
    writeFileSync(join(dir, 'tokenizer.json'), '{ not json');
    await assert.rejects(loadModel(dir, opts()), /tokenizer\.json: not valid JSON/);
  });

  test('a tokenizer larger than the model vocabulary is refused', async () => {
    const dir = join(tmp.dir, 'mismatch');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(dir);
    tmp.write('mismatch/model.onnx', buildLlama().bytes); // vocabulary 96
    copyFileSync(join(BUNDLED_MODEL, 'tokenizer.json'), join(dir, 'tokenizer.json')); // 4096 tokens
    await assert.rejects(loadModel(dir, opts()), /tokenizer has 4096 tokens but the model .* only 96/);
  });

  test('a corrupt cache entry is rebuilt', async () => {
    const file = tmp.write('cached.onnx', buildLlama().bytes);
    const first = await loadModel(file, opts());
    const acts = await first.activations([Int32Array.of(1, 2)], ['blocks.0.hook_mlp_out']);
    await first.runWithSplice(Int32Array.of(1, 2), 'blocks.0.hook_mlp_out', acts.get('blocks.0.hook_mlp_out')![0]);
    await first.dispose();
    const { readdirSync, writeFileSync } = await import('node:fs');
    for (const f of readdirSync(tmp.path('cache'))) writeFileSync(join(tmp.path('cache'), f), 'garbage');
    const second = await loadModel(file, opts());
    try {
      assert.equal(second.sites().length, 10);
      const [clean] = await second.logits([Int32Array.of(1, 2)]);
      const spliced = await second.runWithSplice(Int32Array.of(1, 2), 'blocks.0.hook_mlp_out', acts.get('blocks.0.hook_mlp_out')![0]);
      assert.ok(Math.abs(spliced.data[5] - clean.data[5]) < 1e-5);
    } finally {
      await second.dispose();
    }
  });
});
