import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readDictionaryLearning } from '../../../../src/core/formats/dictionary-learning';
import { readTorchStateDict } from '../../../../src/core/formats/torch-zip';
import { exactValues } from '../fixtures/bytes';
import { assertClose, coreEncode, internalDecode, internalEncode } from '../fixtures/internal-encode';
import { hostilePickleZip, torchStateDictZip, type TorchFixtureTensor } from '../fixtures/torch-pickle';

const D_IN = 5;
const D_SAE = 9;
const V = {
  encW: exactValues(D_SAE * D_IN, 61), // nn.Linear(d_in, d_sae).weight: [d_sae, d_in]
  encB: exactValues(D_SAE, 62, 0.25),
  decW: exactValues(D_IN * D_SAE, 63), // nn.Linear(d_sae, d_in).weight: [d_in, d_sae]
  bDec: exactValues(D_IN, 64, 0.5),
  theta: exactValues(D_SAE, 65, 0.5),
  rMag: exactValues(D_SAE, 66, 0.5),
  gB: exactValues(D_SAE, 67, 0.25),
  mB: exactValues(D_SAE, 68, 0.25),
};

function aePt(tensors: Record<string, TorchFixtureTensor>, config?: object): string {
  const dir = mkdtempSync(join(tmpdir(), 'fl-dl-'));
  writeFileSync(join(dir, 'ae.pt'), torchStateDictZip(tensors));
  if (config) writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  return dir;
}

const linearEnc = (x: Float32Array, sub: boolean, bias = true) =>
  Array.from({ length: D_SAE }, (_, i) => {
    let s = bias ? V.encB[i] : 0;
    for (let j = 0; j < D_IN; j++) s += (sub ? x[j] - V.bDec[j] : x[j]) * V.encW[i * D_IN + j];
    return s;
  });
const linearDec = (f: ArrayLike<number>) =>
  Array.from({ length: D_IN }, (_, j) => {
    let s = V.bDec[j];
    for (let i = 0; i < D_SAE; i++) s += f[i] * V.decW[j * D_SAE + i];
    return s;
  });

/** The encode of each dictionary_learning class (dictionary.py / trainers/*.py, current main). */
const REFERENCE: Record<string, (x: Float32Array) => number[]> = {
  AutoEncoder: (x) => linearEnc(x, true).map((p) => Math.max(p, 0)),
  AutoEncoderTopK: (x) => {
    const post = linearEnc(x, true).map((p) => Math.max(p, 0));
    const top = new Set([...post.keys()].sort((a, b) => post[b] - post[a]).slice(0, 3));
    return post.map((v, i) => (top.has(i) ? v : 0));
  },
  BatchTopKSAE: (x) => linearEnc(x, true).map((p) => Math.max(p, 0)).map((v) => (v > 0.125 ? v : 0)),
  GatedAutoEncoder: (x) =>
    linearEnc(x, true, false).map((e, i) => (e + V.gB[i] > 0 ? 1 : 0) * Math.max(0, Math.exp(V.rMag[i]) * e + V.mB[i])),
};

const common = {
  'encoder.weight': { shape: [D_SAE, D_IN], values: V.encW },
  'decoder.weight': { shape: [D_IN, D_SAE], values: V.decW, transposedView: true },
};

test('dictionary_learning classes: features and reconstruction match the library semantics', () => {
  const cases: [string, Record<string, TorchFixtureTensor>, string][] = [
    ['AutoEncoder', { bias: { shape: [D_IN], values: V.bDec }, ...common, 'encoder.bias': { shape: [D_SAE], values: V.encB } }, 'relu'],
    [
      'AutoEncoderTopK',
      { ...common, 'encoder.bias': { shape: [D_SAE], values: V.encB }, b_dec: { shape: [D_IN], values: V.bDec }, k: { shape: [], values: [3], storage: 'IntStorage' }, threshold: { shape: [], values: [-1] } },
      'topk',
    ],
    [
      'BatchTopKSAE',
      { ...common, 'encoder.bias': { shape: [D_SAE], values: V.encB }, b_dec: { shape: [D_IN], values: V.bDec }, k: { shape: [], values: [3], storage: 'IntStorage' }, threshold: { shape: [], values: [0.125] } },
      'jumprelu',
    ],
    [
      'GatedAutoEncoder',
      { decoder_bias: { shape: [D_IN], values: V.bDec }, ...common, r_mag: { shape: [D_SAE], values: V.rMag }, gate_bias: { shape: [D_SAE], values: V.gB }, mag_bias: { shape: [D_SAE], values: V.mB } },
      'gated',
    ],
  ];
  for (const [cls, tensors, arch] of cases) {
    const loaded = readDictionaryLearning(aePt(tensors, { trainer: { dict_class: cls, layer: 4, lm_name: 'EleutherAI/pythia-70m-deduped', submodule_name: 'resid_post_layer_4' } }));
    assert.equal(loaded.weights.config.architecture, arch, cls);
    assert.equal(loaded.weights.config.hookName, 'blocks.4.hook_resid_post');
    let active = 0;
    for (let s = 0; s < 4; s++) {
      const x = exactValues(D_IN, 70 + s, 2);
      const f = internalEncode(loaded.weights, x);
      const ref = REFERENCE[cls](x);
      active += ref.filter((v) => v !== 0).length;
      assertClose(f, ref, 1e-6, `${cls} features`);
      assertClose(coreEncode(loaded.weights, x), ref, 1e-5, `${cls} src/core/sae features`);
      assertClose(internalDecode(loaded.weights, f, x), linearDec(ref), 1e-6, `${cls} reconstruction`);
    }
    assert.ok(active > 0, `${cls}: fixture has active features`);
  }
});

test('JumpReluAutoEncoder: ReLU(pre·[pre > θ]) without b_dec subtraction, negative thresholds included', () => {
  const wEnc = exactValues(D_IN * D_SAE, 81);
  const wDec = exactValues(D_SAE * D_IN, 82);
  const loaded = readDictionaryLearning(
    aePt({ W_enc: { shape: [D_IN, D_SAE], values: wEnc }, b_enc: { shape: [D_SAE], values: V.encB }, W_dec: { shape: [D_SAE, D_IN], values: wDec }, b_dec: { shape: [D_IN], values: V.bDec }, threshold: { shape: [D_SAE], values: V.theta } }),
  );
  assert.equal(loaded.weights.config.applyBDecToInput, false);
  assert.ok(V.theta.some((t) => t < 0), 'fixture has negative thresholds');
  for (let s = 0; s < 4; s++) {
    const x = exactValues(D_IN, 90 + s, 2);
    const ref = Array.from({ length: D_SAE }, (_, i) => {
      let pre = V.encB[i];
      for (let j = 0; j < D_IN; j++) pre += x[j] * wEnc[j * D_SAE + i];
      return Math.max(0, pre * (pre > V.theta[i] ? 1 : 0));
    });
    assertClose(internalEncode(loaded.weights, x), ref, 1e-6, 'features');
    assertClose(coreEncode(loaded.weights, x), ref, 1e-5, 'src/core/sae features');
  }
});

test('the restricted unpickler refuses code execution, unknown opcodes and huge storages, naming the culprit', () => {
  assert.throws(() => readTorchStateDict(hostilePickleZip('os.system'), 'evil.pt'), /references os\.system.*nothing was executed/);
  assert.throws(() => readTorchStateDict(hostilePickleZip('builtins.eval'), 'evil.pt'), /references builtins\.eval/);
  assert.throws(() => readTorchStateDict(hostilePickleZip('inst'), 'evil.pt'), /opcode 0x69/);
  assert.throws(() => readTorchStateDict(hostilePickleZip('huge-storage'), 'evil.pt'), /over the limit; refusing to allocate/);
  assert.throws(() => readTorchStateDict(new Uint8Array([1, 2, 3]), 'x.pt'), /not a readable zip/);
});

test('unknown state dicts are refused with their keys listed', () => {
  assert.throws(() => readDictionaryLearning(aePt({ foo: { shape: [2], values: [1, 2] } })), /unrecognised state dict \(keys: foo\)/);
});
