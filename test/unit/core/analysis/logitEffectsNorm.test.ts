// Direct logit effects follow the model's final norm: LayerNorm centres the decoder direction, RMSNorm does
// not. The norm is recognised in real ONNX graphs (fused and written out).
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { logitEffects, normedDirection, type Unembedding } from '../../../../src/core/analysis/logitEffects';
import { readUnembedding } from '../../../../src/core/analysis/unembedding';
import type { SaeWeights } from '../../../../src/core/sae/weights';
import { buildGpt2WithPast } from '../../../fixtures/gpt2Model';
import { buildLlama, LLAMA_DEFAULT } from '../../../fixtures/llamaModel';
import { tempDir } from '../../../fixtures/tempModel';

test('the ranking depends on the norm: centred for LayerNorm, not for RMSNorm', () => {
  // d = 2, feature 0's decoder row (3, 1). Token rows: A = (1, 1), B = (1, -1), C = (0, 0).
  // LayerNorm: centred direction (1, -1) → B ranks first (2), A scores 0.
  // RMSNorm: direction (3, 1) → A ranks first (4), B scores 2.
  const weights: SaeWeights = {
    config: { architecture: 'relu', dIn: 2, dSae: 1, applyBDecToInput: false },
    tensors: new Map([['W_dec', { shape: [1, 2], data: Float32Array.of(3, 1) }]]),
  };
  const weight = { data: Float32Array.of(1, 1, 1, -1, 0, 0), rows: 3, cols: 2 };
  const ln: Unembedding = { weight, finalNorm: { kind: 'layernorm' } };
  const rms: Unembedding = { weight, finalNorm: { kind: 'rmsnorm' } };
  assert.deepEqual(logitEffects(weights, 0, ln, 1).promoted, [{ id: 1, value: 2 }]);
  assert.deepEqual(logitEffects(weights, 0, rms, 1).promoted, [{ id: 0, value: 4 }]);
  // The gain applies per dimension in both cases.
  assert.deepEqual(Array.from(normedDirection(Float32Array.of(3, 1), { kind: 'rmsnorm', gamma: Float32Array.of(2, 0.5) })), [6, 0.5]);
  assert.deepEqual(Array.from(normedDirection(Float32Array.of(3, 1), { kind: 'layernorm', gamma: Float32Array.of(2, 0.5) })), [2, -0.5]);
});

test('the final norm is read from the graph: GPT-2 LayerNormalization, Llama SimplifiedLayerNormalization and written-out RMSNorm', () => {
  const tmp = tempDir();
  try {
    const write = (name: string, bytes: Uint8Array) => {
      const p = tmp.path(name);
      writeFileSync(p, bytes);
      return p;
    };
    const gpt2 = readUnembedding(write('gpt2.onnx', buildGpt2WithPast().bytes));
    assert.equal(gpt2?.finalNorm?.kind, 'layernorm');
    const llama = readUnembedding(write('llama.onnx', buildLlama().bytes));
    assert.equal(llama?.finalNorm?.kind, 'rmsnorm');
    assert.equal(llama?.finalNorm?.gamma?.length, LLAMA_DEFAULT.d);
    const decomposed = readUnembedding(write('llama-dec.onnx', buildLlama({ ...LLAMA_DEFAULT, finalNorm: 'decomposed' }).bytes));
    assert.equal(decomposed?.finalNorm?.kind, 'rmsnorm');
    assert.deepEqual(Array.from(decomposed!.finalNorm!.gamma!), Array.from(llama!.finalNorm!.gamma!));
  } finally {
    tmp.cleanup();
  }
});
