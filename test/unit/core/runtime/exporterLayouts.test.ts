// Exporter layouts: Optimum's merged decoder (one If on use_cache_branch) and the transformers.js folder
// (onnx/model*.onnx beside config.json, one file per weight variant).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { onnx } from 'onnx-proto';
import { listModelVariants, loadModel, ModelFileError, resolveModelFiles } from '../../../../src/core/runtime';
import { buildFamily, FAMILY_BASE, type FamilyModel } from '../../../fixtures/familyModel';
import { attr, FLOAT, INT64, valueInfo } from '../../../fixtures/onnxBuilder';
import { maxAbsDiff } from '../../../fixtures/reference';
import { tempDir, type TempDir } from '../../../fixtures/tempModel';

const IDS = Int32Array.from([4, 9, 31, 2, 50, 7, 12]);
const BOOL = onnx.TensorProto.DataType.BOOL;

function constantNode(output: string, values: number[]): onnx.INodeProto {
  return {
    opType: 'Constant',
    output: [output],
    attribute: [{ name: 'value', type: onnx.AttributeProto.AttributeType.TENSOR, t: { dataType: INT64, dims: [values.length], int64Data: values } }],
  };
}

/**
 * The model wrapped the way Optimum merges a decoder: the graph becomes the If's else branch (no cache);
 * the then branch reads past_key_values and returns zero logits, so running the wrong branch shows.
 */
function mergeDecoder(bytes: Uint8Array, vocab: number): Uint8Array {
  const m = onnx.ModelProto.decode(bytes);
  const g = m.graph as onnx.IGraphProto;
  const cacheBranch: onnx.IGraphProto = {
    name: 'with_cache',
    node: [
      { opType: 'Shape', input: ['input_ids'], output: ['ids_shape'] },
      constantNode('vocab_dim', [vocab]),
      { opType: 'Concat', input: ['ids_shape', 'vocab_dim'], output: ['logits_shape'], attribute: [attr.i('axis', 0)] },
      { opType: 'ConstantOfShape', input: ['logits_shape'], output: ['zeros'] },
      { opType: 'ReduceSum', input: ['past_key_values.0.key'], output: ['past_sum'], attribute: [attr.i('keepdims', 0)] },
      { opType: 'Add', input: ['zeros', 'past_sum'], output: ['logits_cached'] },
    ],
    output: [valueInfo('logits_cached', FLOAT, ['batch', 'sequence', vocab])],
  };
  const noCacheBranch: onnx.IGraphProto = { name: 'no_cache', node: g.node, output: g.output };
  const ifNode: onnx.INodeProto = {
    opType: 'If',
    name: 'optimum::if',
    input: ['use_cache_branch'],
    output: ['logits'],
    attribute: [
      { name: 'then_branch', type: onnx.AttributeProto.AttributeType.GRAPH, g: cacheBranch },
      { name: 'else_branch', type: onnx.AttributeProto.AttributeType.GRAPH, g: noCacheBranch },
    ],
  };
  const merged: onnx.IModelProto = {
    ...m,
    graph: {
      name: 'merged',
      node: [ifNode],
      initializer: g.initializer,
      input: [
        ...(g.input ?? []),
        valueInfo('past_key_values.0.key', FLOAT, ['batch', 2, 'past', 8]),
        valueInfo('use_cache_branch', BOOL, [1]),
      ],
      output: g.output,
    },
  };
  return onnx.ModelProto.encode(merged).finish();
}

describe('merged decoder (If on use_cache_branch)', () => {
  let tmp: TempDir;
  let fixture: FamilyModel;
  before(() => {
    tmp = tempDir();
    fixture = buildFamily({ ...FAMILY_BASE, norm: 'rms' });
  });
  after(() => tmp.cleanup());

  test('runs the no-cache branch: sites and logits match the reference', async () => {
    const file = tmp.write('decoder_model_merged.onnx', mergeDecoder(fixture.bytes, FAMILY_BASE.vocab));
    const lm = await loadModel(file, { cacheDir: tmp.path('cache'), intraOpThreads: 1 });
    try {
      const ref = fixture.referenceForward(IDS);
      const names = lm.sites().map((s) => s.name);
      assert.equal(names.length, 10);
      const acts = await lm.activations([IDS], names);
      for (const name of names) {
        const d = maxAbsDiff((acts.get(name) as { data: Float32Array }[])[0].data, ref.sites.get(name) as Float64Array);
        assert.ok(d < 1e-4, `${name}: ${d}`);
      }
      const [logits] = await lm.logits([IDS]);
      assert.ok(maxAbsDiff(logits.data, ref.logits) < 1e-4, 'logits of the no-cache branch (the cache branch returns zeros)');
    } finally {
      await lm.dispose();
    }
  });
});

describe('transformers.js folder layout', () => {
  let tmp: TempDir;
  before(() => {
    tmp = tempDir();
    const fp32 = buildFamily({ ...FAMILY_BASE, norm: 'rms' }).bytes;
    tmp.write('tjs/config.json', JSON.stringify({ _name_or_path: 'tiny-tjs', model_type: 'llama' }));
    tmp.write('tjs/onnx/model.onnx', fp32);
    tmp.write('tjs/onnx/model_quantized.onnx', buildFamily({ ...FAMILY_BASE, norm: 'rms', weights: 'int8' }).bytes);
    tmp.write('tjs/onnx/model_q4.onnx', buildFamily({ ...FAMILY_BASE, norm: 'rms', weights: 'q4' }).bytes);
    tmp.write('nofp32/onnx/model_fp16.onnx', fp32);
    tmp.write('nofp32/onnx/model_q4.onnx', fp32);
  });
  after(() => tmp.cleanup());

  test('lists the weight variants found in onnx/', () => {
    assert.deepEqual(
      listModelVariants(tmp.path('tjs')).map((v) => v.variant),
      ['fp32', 'int8', 'q4'],
    );
  });

  test('loads fp32 by default with config.json from the folder above onnx/', async () => {
    const lm = await loadModel(tmp.path('tjs'), { cacheDir: tmp.path('cache'), intraOpThreads: 1 });
    try {
      assert.match(lm.info.onnxFile, /onnx[/\\]model\.onnx$/);
      assert.equal(lm.info.name, 'tiny-tjs');
    } finally {
      await lm.dispose();
    }
  });

  test('loads the variant the user picks, and finds its sites', async () => {
    const lm = await loadModel(tmp.path('tjs'), { cacheDir: tmp.path('cache'), intraOpThreads: 1, variant: 'q4' });
    try {
      assert.match(lm.info.onnxFile, /model_q4\.onnx$/);
      assert.equal(lm.sites().length, 10);
    } finally {
      await lm.dispose();
    }
    assert.equal(resolveModelFiles(tmp.path('tjs/onnx/model_quantized.onnx')).configFile, tmp.path('tjs/config.json'));
  });

  test('an absent variant, or several without fp32, names the variants found', () => {
    assert.throws(() => resolveModelFiles(tmp.path('tjs'), 'fp16'), (e: Error) => e instanceof ModelFileError && /no fp16 weights.*fp32, int8, q4/.test(e.message));
    assert.throws(() => resolveModelFiles(tmp.path('nofp32')), (e: Error) => e instanceof ModelFileError && /fp16 \(model_fp16\.onnx\), q4 \(model_q4\.onnx\); pick one/.test(e.message));
  });
});
