// The bundled GPT-2-style model against a reference forward pass written here: its weights are read from the
// ONNX file (embedding Gathers, LayerNormalization gains/biases and MatMul weights + bias Adds in graph order),
// and LayerNorm, causal attention, GELU-tanh and the MLP are computed in float64 TypeScript.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadModel, meanCrossEntropy, type OnnxLanguageModel } from '../../../../src/core/runtime';
import { decodeModel, dimsOf, tensorToFloat32, type TensorProto } from '../../../../src/core/runtime/onnxProto';
import { matrix } from '../../../../src/core/tensor';
import { add, causalAttention, embed, geluTanh, layerNorm, matmul, maxAbsDiff, type Mat } from '../../../fixtures/reference';
import { BUNDLED_MODEL, tempDir, type TempDir } from '../../../fixtures/tempModel';

interface Linear {
  w: Float32Array;
  inDim: number;
  outDim: number;
  b?: Float32Array;
}
interface Norm {
  g: Float32Array;
  b: Float32Array;
  eps: number;
}

/** Weights of a GPT-2-style export, found by graph structure (not by name). */
function readGpt2Weights(file: string) {
  const graph = decodeModel(readFileSync(file), file).graph!;
  const nodes = graph.node!;
  const inits = new Map<string, TensorProto>(graph.initializer!.map((t) => [t.name!, t]));
  const data = (name: string) => tensorToFloat32(inits.get(name)!);
  const gathers = nodes.filter((n) => n.opType === 'Gather' && inits.has(n.input![0]) && dimsOf(inits.get(n.input![0])!).length === 2);
  const wte = gathers.find((n) => n.input![1] === 'input_ids')!;
  const wpe = gathers.find((n) => n.input![1] === 'position_ids')!;
  const norms: Norm[] = nodes
    .filter((n) => n.opType === 'LayerNormalization')
    .map((n) => ({ g: data(n.input![1]), b: data(n.input![2]), eps: n.attribute!.find((a) => a.name === 'epsilon')?.f ?? 1e-5 }));
  const linears: Linear[] = nodes
    .filter((n) => n.opType === 'MatMul' && inits.has(n.input![1]))
    .map((n) => {
      const [inDim, outDim] = dimsOf(inits.get(n.input![1])!);
      const biasAdd = nodes.find((m) => m.opType === 'Add' && m.input!.includes(n.output![0]) && m.input!.some((i) => inits.has(i)));
      const bias = biasAdd?.input!.find((i) => inits.has(i));
      return { w: data(n.input![1]), inDim, outDim, b: bias ? data(bias) : undefined };
    });
  const [vocab, d] = dimsOf(inits.get(wte.input![0])!);
  return { wte: data(wte.input![0]), wpe: data(wpe.input![0]), vocab, d, norms, linears };
}

function gpt2Reference(w: ReturnType<typeof readGpt2Weights>, heads: number, ids: ArrayLike<number>) {
  const { d } = w;
  const n = ids.length;
  const lin = (x: Mat, l: Linear) => matmul(x, n, l.inDim, l.w, l.outDim, l.b);
  const ln = (x: Mat, k: Norm) => layerNorm(x, n, d, k.g, k.b, k.eps);
  const layers = (w.norms.length - 1) / 2;
  // A tied unembedding may be exported as a MatMul with the transposed token table instead of a copy.
  const head: Linear = w.linears[4 * layers] ?? {
    w: Float32Array.from({ length: d * w.vocab }, (_, i) => w.wte[(i % w.vocab) * d + Math.floor(i / w.vocab)]),
    inDim: d,
    outDim: w.vocab,
  };
  const sites = new Map<string, Mat>();
  let x = add(embed(w.wte, d, ids), embed(w.wpe, d, Array.from({ length: n }, (_, i) => i)));
  for (let L = 0; L < layers; L++) {
    const [qkvW, projW, fcW, outW] = w.linears.slice(4 * L, 4 * L + 4);
    sites.set(`blocks.${L}.hook_resid_pre`, x);
    const qkv = lin(ln(x, w.norms[2 * L]), qkvW);
    const part = (k: number) => {
      const out = new Float64Array(n * d);
      for (let t = 0; t < n; t++) for (let j = 0; j < d; j++) out[t * d + j] = qkv[t * 3 * d + k * d + j];
      return out;
    };
    const attnOut = lin(causalAttention(part(0), part(1), part(2), n, heads, d / heads), projW);
    sites.set(`blocks.${L}.hook_attn_out`, attnOut);
    const mid = add(x, attnOut);
    sites.set(`blocks.${L}.hook_resid_mid`, mid);
    const fc = lin(ln(mid, w.norms[2 * L + 1]), fcW);
    const mlpOut = matmul(geluTanh(fc), n, fcW.outDim, outW.w, d, outW.b);
    sites.set(`blocks.${L}.hook_mlp_out`, mlpOut);
    x = add(mid, mlpOut);
    sites.set(`blocks.${L}.hook_resid_post`, x);
  }
  const logits = lin(ln(x, w.norms[2 * layers]), head);
  return { sites, logits };
}

describe('bundled model (models/tiny-lm)', () => {
  let lm: OnnxLanguageModel;
  let tmp: TempDir;
  let weights: ReturnType<typeof readGpt2Weights>;
  let heads: number;

  before(async () => {
    tmp = tempDir();
    lm = await loadModel(BUNDLED_MODEL, { cacheDir: tmp.path('cache'), intraOpThreads: 1 });
    weights = readGpt2Weights(lm.info.onnxFile);
    heads = (JSON.parse(readFileSync(join(BUNDLED_MODEL, 'config.json'), 'utf8')) as { n_head: number }).n_head;
  });
  after(async () => {
    await lm?.dispose();
    tmp.cleanup();
  });

  test('has ≥ 4 blocks, context ≥ 256 and a tokenizer that fits the vocabulary', () => {
    assert.ok(lm.info.layers >= 4);
    assert.ok(lm.info.contextLength >= 256);
    assert.equal(lm.info.dModel, weights.d);
    assert.equal(lm.info.vocabSize, weights.vocab);
    assert.ok(lm.tokenizer && lm.tokenizer.vocabSize <= lm.info.vocabSize);
    assert.equal(lm.sites().length, 5 * lm.info.layers);
  });

  test('resid_pre / attn_out / resid_mid / mlp_out / resid_post of every layer match the reference to 1e-4', async () => {
    const text = 'The quick brown fox jumps over the lazy dog.\nfunction add(a, b) { return a + b; }';
    const ids = lm.tokenizer!.encode(text).ids;
    const ref = gpt2Reference(weights, heads, ids);
    const names = lm.sites().map((s) => s.name);
    const acts = await lm.activations([ids], names);
    let worst = 0;
    for (const name of names) {
      const diff = maxAbsDiff(acts.get(name)![0].data, ref.sites.get(name)!);
      worst = Math.max(worst, diff);
      assert.ok(diff < 1e-4, `${name}: max |Δ| = ${diff}`);
    }
    const [logits] = await lm.logits([ids]);
    assert.ok(maxAbsDiff(logits.data, ref.logits) < 1e-3, 'logits');
    process.stdout.write(`# worst site deviation from the reference forward: ${worst.toExponential(2)}\n`);
  });

  test('batches with padding (attention_mask) agree with single sequences', async () => {
    const a = lm.tokenizer!.encode('short text').ids;
    const b = lm.tokenizer!.encode('a somewhat longer piece of text, to force padding of the other one').ids;
    const [la, lb] = await lm.logits([a, b]);
    const [sa] = await lm.logits([a]);
    const [sb] = await lm.logits([b]);
    assert.ok(maxAbsDiff(la.data, sa.data) < 1e-4);
    assert.ok(maxAbsDiff(lb.data, sb.data) < 1e-4);
  });

  test('splicing: identity reproduces the logits to 1e-5, zeros change them, for each kind of site', async () => {
    const ids = lm.tokenizer!.encode('Splicing must be exact, in every layer of the model.').ids;
    const [clean] = await lm.logits([ids]);
    const sites = ['blocks.0.hook_resid_pre', 'blocks.1.hook_attn_out', 'blocks.2.hook_mlp_out', 'blocks.3.hook_resid_post'];
    const acts = await lm.activations([ids], sites);
    for (const site of sites) {
      const same = await lm.runWithSplice(ids, site, acts.get(site)![0]);
      assert.ok(maxAbsDiff(same.data, clean.data) < 1e-5, `${site}: ${maxAbsDiff(same.data, clean.data)}`);
      const zero = await lm.runWithSplice(ids, site, matrix(ids.length, lm.info.dModel));
      assert.ok(meanCrossEntropy([zero], [ids]) !== meanCrossEntropy([clean], [ids]), `${site}: zeros changed nothing`);
    }
  });

  test('a 100k-character selection is tokenized, windowed and capped with a message', async () => {
    const unit = 'function f(x) { return x * 2; } // héllo 😀 The quick brown fox.\r\n';
    const text = unit.repeat(Math.ceil(100_000 / unit.length)).slice(0, 100_000);
    const { ids } = lm.tokenizer!.encode(text);
    const r = await lm.activationsLong(ids, ['blocks.1.hook_resid_post'], { maxTokens: 1024 });
    assert.equal(r.tokensTotal, ids.length);
    assert.equal(r.tokensUsed, 1024);
    assert.ok(r.truncated);
    assert.match(r.message ?? '', new RegExp(`${ids.length} tokens; only the first 1024`));
    const acts = r.acts.get('blocks.1.hook_resid_post')!;
    assert.equal(acts.rows, 1024);
    // Tokens of the first window equal a plain forward of that window.
    const first = (await lm.activations([ids.subarray(0, lm.info.contextLength)], ['blocks.1.hook_resid_post'])).get('blocks.1.hook_resid_post')![0];
    assert.ok(maxAbsDiff(acts.data.subarray(0, first.data.length), first.data) < 1e-5);
    assert.ok(acts.data.every((v) => Number.isFinite(v)));
  });

  test('greedy generation is deterministic and stays in the vocabulary', async () => {
    const prompt = lm.tokenizer!.encode('Once upon a time').ids;
    const a = await lm.generate(prompt, 5);
    const b = await lm.generate(prompt, 5);
    assert.deepEqual(a, b);
    assert.equal(a.length, 5);
    assert.ok(a.every((id) => id >= 0 && id < lm.info.vocabSize));
  });
});
