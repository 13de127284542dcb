// Every format through the one loader, as a user runs it: `feature-lens encode --sae <path>` (and `eval`,
// `convert`) on SAEs whose files are written byte by byte here, compared with each library's own forward
// pass re-implemented below from its source (float64, one token at a time, on the tensors as stored).
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { convertCommand } from '../../../src/cli/commands/convert';
import { encodeCommand } from '../../../src/cli/commands/encode';
import { evalCommand } from '../../../src/cli/commands/eval';
import { readNpyMatrix, writeNpyMatrix } from '../../../src/core/npy';
import { tempDir } from '../../fixtures/tempModel';
import { f32Bytes, npyFile, safetensorsFile, seeded, storedZip, type RawTensor } from '../core/fixtures/bytes';
import { torchStateDictZip } from '../core/fixtures/torch-pickle';
import { captured } from './captureOutput';

const tmp = tempDir('fl-every-format-');
after(() => tmp.cleanup());

const D_IN = 6;
const D_SAE = 10;
const ROWS = 9;

function randoms(n: number, seed: number, scale = 1): Float64Array {
  const rnd = seeded(seed);
  return Float64Array.from({ length: n }, () => (rnd() * 2 - 1) * scale);
}

/** Activations with varied scales and offsets, an all-zero token (row 0) and a constant token (row 1). */
function activations(seed: number): Float64Array {
  const x = randoms(ROWS * D_IN, seed, 3);
  for (let j = 0; j < D_IN; j++) {
    x[j] = 0;
    x[D_IN + j] = 1.5;
  }
  for (let r = 2; r < ROWS; r++) for (let j = 0; j < D_IN; j++) x[r * D_IN + j] = x[r * D_IN + j] * (1 + r) + r;
  return x;
}

const f32 = (shape: number[], v: ArrayLike<number>): RawTensor => ({ dtype: 'F32', shape, bytes: f32Bytes(v) });

// ---- the libraries' forward passes on stored tensors (row-major, float64) -------------------------

type Forward = (x: Float64Array) => { f: Float64Array; y: Float64Array };

/** out[j] = Σ_i x[i]·M[i, j] for M [rows, cols] (x has `rows` entries). */
function vecMat(x: ArrayLike<number>, m: ArrayLike<number>, rows: number, cols: number): Float64Array {
  const out = new Float64Array(cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j] += x[i] * m[i * cols + j];
  return out;
}

function keepTopK(h: Float64Array, k: number): Float64Array {
  const order = [...h.keys()].sort((a, b) => h[b] - h[a]).slice(0, k);
  const out = new Float64Array(h.length);
  for (const i of order) out[i] = h[i];
  return out;
}

/** SAELens (sae.py / jumprelu_sae.py / topk_sae.py): run_time_activation_norm_fn_in/out around encode/decode. */
function saeLensForward(arch: 'standard' | 'jumprelu' | 'topk', norm: 'none' | 'constant_norm_rescale' | 'layer_norm', t: Record<string, Float64Array>, k = 0): Forward {
  return (raw) => {
    let x = Float64Array.from(raw);
    let undo = (y: Float64Array) => y;
    if (norm === 'constant_norm_rescale') {
      const n = Math.hypot(...x);
      if (n === 0) {
        // Undefined in SAELens (NaN); Feature Lens documents zeros for such a token.
        x = new Float64Array(D_IN);
        undo = (y) => y.map(() => 0);
      } else {
        const c = Math.sqrt(D_IN) / n;
        x = x.map((v) => v * c);
        undo = (y) => y.map((v) => v / c);
      }
    } else if (norm === 'layer_norm') {
      const mu = x.reduce((a, b) => a + b, 0) / D_IN;
      const std = Math.sqrt(x.reduce((a, b) => a + (b - mu) ** 2, 0) / (D_IN - 1));
      x = x.map((v) => (v - mu) / (std + 1e-5));
      undo = (y) => y.map((v) => v * std + mu);
    }
    const h = vecMat(x.map((v, j) => v - t.b_dec[j]), t.W_enc, D_IN, D_SAE).map((v, i) => v + t.b_enc[i]);
    let f: Float64Array;
    if (arch === 'standard') f = h.map((v) => Math.max(v, 0));
    else if (arch === 'jumprelu') f = h.map((v, i) => (v > t.threshold[i] ? Math.max(v, 0) : 0));
    else f = keepTopK(h, k).map((v) => Math.max(v, 0));
    const y = undo(vecMat(f, t.W_dec, D_SAE, D_IN).map((v, j) => v + t.b_dec[j]));
    return { f, y };
  };
}

/** Gemma Scope's JumpReLU: no b_dec subtraction, f = pre·[pre > θ]. */
function gemmaScopeForward(t: Record<string, Float64Array>): Forward {
  return (x) => {
    const h = vecMat(x, t.W_enc, D_IN, D_SAE).map((v, i) => v + t.b_enc[i]);
    const f = h.map((v, i) => (v > t.threshold[i] ? v : 0));
    return { f, y: vecMat(f, t.W_dec, D_SAE, D_IN).map((v, j) => v + t.b_dec[j]) };
  };
}

/** sparsify SparseCoder: TopK of ReLU(encoder(x − b_dec)); decode + b_dec + x·W_skipᵀ. */
function sparsifyForward(t: Record<string, Float64Array>, k: number): Forward {
  return (x) => {
    const centred = x.map((v, j) => v - t.b_dec[j]);
    const h = new Float64Array(D_SAE);
    for (let i = 0; i < D_SAE; i++) {
      let s = t['encoder.bias'][i];
      for (let j = 0; j < D_IN; j++) s += t['encoder.weight'][i * D_IN + j] * centred[j];
      h[i] = Math.max(s, 0);
    }
    const f = keepTopK(h, k);
    const y = vecMat(f, t.W_dec, D_SAE, D_IN).map((v, j) => v + t.b_dec[j]);
    if (t.W_skip) for (let j = 0; j < D_IN; j++) for (let i = 0; i < D_IN; i++) y[j] += x[i] * t.W_skip[j * D_IN + i];
    return { f, y };
  };
}

/** dictionary_learning AutoEncoder: ReLU(encoder(x − bias)); decoder(f) + bias. */
function dictionaryLearningReluForward(t: Record<string, Float64Array>): Forward {
  return (x) => {
    const f = new Float64Array(D_SAE);
    for (let i = 0; i < D_SAE; i++) {
      let s = t['encoder.bias'][i];
      for (let j = 0; j < D_IN; j++) s += t['encoder.weight'][i * D_IN + j] * (x[j] - t.bias[j]);
      f[i] = Math.max(s, 0);
    }
    const y = new Float64Array(D_IN);
    for (let j = 0; j < D_IN; j++) {
      let s = t.bias[j];
      for (let i = 0; i < D_SAE; i++) s += t['decoder.weight'][j * D_SAE + i] * f[i];
      y[j] = s;
    }
    return { f, y };
  };
}

// ---- running the CLI -------------------------------------------------------------------------------

let counter = 0;

/** encode --sae <path> on activations x; checks features and reconstructions against `forward` row by row. */
async function encodeMatches(saePath: string, forward: Forward, x: Float64Array, extra: string[] = []): Promise<{ stderr: string; maxErr: number }> {
  const n = counter++;
  const acts = tmp.path(`acts-${n}.npy`);
  writeNpyMatrix(acts, { data: Float32Array.from(x), rows: x.length / D_IN, cols: D_IN });
  const feats = tmp.path(`f-${n}.npy`);
  const recon = tmp.path(`r-${n}.npy`);
  const r = await captured(() => encodeCommand.run(['--sae', saePath, '--acts', acts, '--out', feats, '--recon', recon, ...extra]));
  assert.equal(r.code, 0, r.stderr);
  const f = readNpyMatrix(feats);
  const y = readNpyMatrix(recon);
  let maxErr = 0;
  for (let row = 0; row < x.length / D_IN; row++) {
    // The library runs in float32: the reference gets the same float32 input.
    const expected = forward(Float64Array.from(Float32Array.from(x.subarray(row * D_IN, (row + 1) * D_IN))));
    for (let i = 0; i < D_SAE; i++) maxErr = Math.max(maxErr, Math.abs(f.data[row * D_SAE + i] - expected.f[i]));
    for (let j = 0; j < D_IN; j++) maxErr = Math.max(maxErr, Math.abs(y.data[row * D_IN + j] - expected.y[j]));
    for (const v of [...f.data.subarray(row * D_SAE, (row + 1) * D_SAE), ...y.data.subarray(row * D_IN, (row + 1) * D_IN)]) assert.ok(Number.isFinite(v), `row ${row}: ${v}`);
  }
  assert.ok(maxErr <= 1e-4, `${saePath}: max abs difference ${maxErr} against the library's forward`);
  return { stderr: r.stderr, maxErr };
}

function tensors(seed: number, names: Record<string, number[]>, scales: Record<string, number> = {}): Record<string, Float64Array> {
  const out: Record<string, Float64Array> = {};
  let s = seed;
  // Rounded to float32 so reference and file hold the same numbers.
  for (const [name, shape] of Object.entries(names)) out[name] = Float64Array.from(Float32Array.from(randoms(shape.reduce((a, b) => a * b, 1), s++, scales[name] ?? 1)));
  return out;
}

const SAE_SHAPES = { W_enc: [D_IN, D_SAE], W_dec: [D_SAE, D_IN], b_enc: [D_SAE], b_dec: [D_IN] };

function saeLensFolder(name: string, cfg: Record<string, unknown>, t: Record<string, Float64Array>, shapes: Record<string, number[]>): string {
  const dir = tmp.path(name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'cfg.json'), JSON.stringify(cfg));
  const raw: Record<string, RawTensor> = {};
  for (const [k, v] of Object.entries(t)) raw[k] = f32(shapes[k], v);
  writeFileSync(join(dir, 'sae_weights.safetensors'), safetensorsFile(raw));
  return dir;
}

const x = activations(500);

for (const norm of ['none', 'constant_norm_rescale', 'layer_norm'] as const) {
  for (const arch of ['standard', 'jumprelu', 'topk'] as const) {
    test(`SAELens ${arch} with normalize_activations ${norm}: encode matches SAELens`, async () => {
      const shapes: Record<string, number[]> = { ...SAE_SHAPES, ...(arch === 'jumprelu' ? { threshold: [D_SAE] } : {}) };
      const t = tensors(100, shapes, { b_enc: 0.3, b_dec: 0.5, threshold: 0.4 });
      if (t.threshold) t.threshold = t.threshold.map(Math.abs);
      const cfg = {
        architecture: arch,
        d_in: D_IN,
        d_sae: D_SAE,
        apply_b_dec_to_input: true,
        normalize_activations: norm,
        ...(arch === 'topk' ? { k: 3 } : {}),
        metadata: { sae_lens_version: '6.5.0', hook_name: 'blocks.1.hook_resid_post', model_name: 'm' },
      };
      const dir = saeLensFolder(`saelens-${arch}-${norm}`, cfg, t, shapes);
      const { stderr } = await encodeMatches(dir, saeLensForward(arch, norm, t, 3), x);
      if (norm === 'constant_norm_rescale') {
        assert.match(stderr, /1 token had zero norm/);
        // eval warns too, and its metrics stay finite.
        const acts = tmp.path(`eval-zero-${arch}.npy`);
        writeNpyMatrix(acts, { data: Float32Array.from(x), rows: ROWS, cols: D_IN });
        const e = await captured(() => evalCommand.run(['--sae', dir, '--acts', acts, '--json']));
        assert.equal(e.code, 0, e.stderr);
        assert.match(e.stderr, /1 token had zero norm/);
        const m = JSON.parse(e.stdout) as { mse: number; fvu: number };
        assert.ok(Number.isFinite(m.mse) && Number.isFinite(m.fvu));
      }
      if (norm === 'layer_norm') assert.match(stderr, /2 tokens had zero spread/);
      if (norm === 'none') assert.doesNotMatch(stderr, /zero norm|zero spread/);
    });
  }
}

test('Gemma Scope params.npz with Fortran-order W_enc and W_dec: encode matches Gemma Scope', async () => {
  const t = tensors(200, { ...SAE_SHAPES, threshold: [D_SAE] }, { b_enc: 0.3, b_dec: 0.5, threshold: 0.4 });
  t.threshold = t.threshold.map(Math.abs);
  /** Column-major bytes of a row-major [r, c] matrix, as numpy writes an F-contiguous array. */
  const fortran = (m: Float64Array, r: number, c: number) => {
    const out = new Float32Array(r * c);
    for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[j * r + i] = m[i * c + j];
    return new Uint8Array(out.buffer);
  };
  const files = {
    'W_enc.npy': npyFile('<f4', [D_IN, D_SAE], fortran(t.W_enc, D_IN, D_SAE), { fortran: true }),
    'W_dec.npy': npyFile('<f4', [D_SAE, D_IN], fortran(t.W_dec, D_SAE, D_IN), { fortran: true }),
    'b_enc.npy': npyFile('<f4', [D_SAE], f32Bytes(t.b_enc)),
    'b_dec.npy': npyFile('<f4', [D_IN], f32Bytes(t.b_dec)),
    'threshold.npy': npyFile('<f4', [D_SAE], f32Bytes(t.threshold)),
  };
  const dir = tmp.path('gemma-scope-2b-pt-res/layer_1/width_16k/average_l0_5');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'params.npz'), storedZip(files));
  await encodeMatches(join(dir, 'params.npz'), gemmaScopeForward(t), x);
  await encodeMatches(dir, gemmaScopeForward(t), x);
});

test('a sparsify parent folder holding one hook is taken without --hook; W_skip and bf16-free f32 weights match sparsify', async () => {
  const shapes = { 'encoder.weight': [D_SAE, D_IN], 'encoder.bias': [D_SAE], W_dec: [D_SAE, D_IN], b_dec: [D_IN], W_skip: [D_IN, D_IN] };
  const t = tensors(300, shapes, { 'encoder.bias': 0.3, b_dec: 0.5, W_skip: 0.2 });
  const parent = tmp.path('sparsify-run');
  const hook = join(parent, 'layers.1');
  mkdirSync(hook, { recursive: true });
  writeFileSync(
    join(hook, 'cfg.json'),
    JSON.stringify({ activation: 'topk', expansion_factor: 2, normalize_decoder: true, num_latents: D_SAE, k: 4, multi_topk: false, skip_connection: true, transcode: false, d_in: D_IN }),
  );
  const raw: Record<string, RawTensor> = {};
  for (const [k, v] of Object.entries(t)) raw[k] = f32(shapes[k as keyof typeof shapes], v);
  writeFileSync(join(hook, 'sae.safetensors'), safetensorsFile(raw));
  await encodeMatches(parent, sparsifyForward(t, 4), x);
});

test('dictionary_learning AutoEncoder ae.pt: encode matches dictionary_learning', async () => {
  const shapes = { 'encoder.weight': [D_SAE, D_IN], 'encoder.bias': [D_SAE], 'decoder.weight': [D_IN, D_SAE], bias: [D_IN] };
  const t = tensors(400, shapes, { 'encoder.bias': 0.3, bias: 0.5 });
  const dir = tmp.path('dl/resid_post_layer_1/trainer_0');
  mkdirSync(dir, { recursive: true });
  const state: Record<string, { shape: number[]; values: ArrayLike<number> }> = {};
  for (const [k, v] of Object.entries(t)) state[k] = { shape: shapes[k as keyof typeof shapes], values: Float32Array.from(v) };
  writeFileSync(join(dir, 'ae.pt'), torchStateDictZip(state));
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ trainer: { dict_class: 'AutoEncoder', layer: 1, submodule_name: 'resid_post_layer_1' } }));
  await encodeMatches(join(dir, 'ae.pt'), dictionaryLearningReluForward(t), x);
});

test('eval --acts and convert take any format: eval FVU equals the one of the library reconstruction; converted folders encode identically', async () => {
  const shapes = { ...SAE_SHAPES, threshold: [D_SAE] };
  const t = tensors(600, shapes, { b_enc: 0.3, b_dec: 0.5, threshold: 0.4 });
  t.threshold = t.threshold.map(Math.abs);
  const dir = tmp.path('gs-eval/layer_2');
  mkdirSync(dir, { recursive: true });
  const files: Record<string, Uint8Array> = {};
  for (const [k, v] of Object.entries(t)) files[`${k}.npy`] = npyFile('<f4', shapes[k as keyof typeof shapes], f32Bytes(v));
  writeFileSync(join(dir, 'params.npz'), storedZip(files));
  const forward = gemmaScopeForward(t);
  const rowsX = x.subarray(2 * D_IN); // non-degenerate rows
  const acts = tmp.path('eval-acts.npy');
  writeNpyMatrix(acts, { data: Float32Array.from(rowsX), rows: rowsX.length / D_IN, cols: D_IN });
  const r = await captured(() => evalCommand.run(['--sae', dir, '--acts', acts, '--json']));
  assert.equal(r.code, 0, r.stderr);
  const result = JSON.parse(r.stdout) as { fvu: number; l0: number };
  let sse = 0;
  let l0 = 0;
  const n = rowsX.length / D_IN;
  const mean = new Float64Array(D_IN);
  for (let row = 0; row < n; row++) for (let j = 0; j < D_IN; j++) mean[j] += Math.fround(rowsX[row * D_IN + j]) / n;
  let sst = 0;
  for (let row = 0; row < n; row++) {
    const xr = Float64Array.from(Float32Array.from(rowsX.subarray(row * D_IN, (row + 1) * D_IN)));
    const e = forward(xr);
    for (let j = 0; j < D_IN; j++) {
      sse += (e.y[j] - xr[j]) ** 2;
      sst += (xr[j] - mean[j]) ** 2;
    }
    l0 += e.f.filter((v) => v !== 0).length;
  }
  assert.ok(Math.abs(result.fvu - sse / sst) < 1e-4, `fvu ${result.fvu} vs ${sse / sst}`);
  assert.ok(Math.abs(result.l0 - l0 / n) < 1e-9, `l0 ${result.l0} vs ${l0 / n}`);

  for (const format of ['saelens'] as const) {
    const to = tmp.path(`converted-${format}`);
    const c = await captured(() => convertCommand.run(['--from', join(dir, 'params.npz'), '--to', to, '--format', format]));
    assert.equal(c.code, 0, c.stderr);
    await encodeMatches(to, forward, x);
  }
});

test('CLI options: unknown options and missing values are usage errors; --sae of a multi-SAE folder names the hooks', async () => {
  const r = await captured(() => encodeCommand.run(['--sae', 'x', '--nope', '1']).catch((e: Error) => (e.message === 'unknown option --nope' ? 2 : 99)));
  assert.equal(r.code, 2);
  await assert.rejects(() => encodeCommand.run(['--sae']), /--sae needs a value/);
  const parent = tmp.path('two-hooks');
  for (const h of ['layers.0', 'layers.1']) {
    mkdirSync(join(parent, h), { recursive: true });
    writeFileSync(join(parent, h, 'cfg.json'), JSON.stringify({ activation: 'topk', num_latents: D_SAE, k: 2, d_in: D_IN }));
    writeFileSync(join(parent, h, 'sae.safetensors'), safetensorsFile({}));
  }
  await assert.rejects(() => encodeCommand.run(['--sae', parent, '--acts', 'a.npy', '--out', 'f.npy']), /holds 2 SAEs .*pass --hook layers\.0 \| layers\.1/);
});

// ---- transcoders --------------------------------------------------------------------------------------

const D_OUT = 4;

/** SAELens Transcoder / SkipTranscoder / JumpReLU variants: norm_in on x, no b_dec subtraction, no norm_out; skip adds x·W_skipᵀ on raw x. */
function saeLensTranscoderForward(jump: boolean, norm: 'none' | 'layer_norm', t: Record<string, Float64Array>): (x: Float64Array) => { f: Float64Array; y: Float64Array } {
  return (raw) => {
    let x = Float64Array.from(raw);
    if (norm === 'layer_norm') {
      const mu = x.reduce((a, b) => a + b, 0) / D_IN;
      const std = Math.sqrt(x.reduce((a, b) => a + (b - mu) ** 2, 0) / (D_IN - 1));
      x = x.map((v) => (v - mu) / (std + 1e-5));
    }
    const h = vecMat(x, t.W_enc, D_IN, D_SAE).map((v, i) => v + t.b_enc[i]);
    const f = h.map((v, i) => (jump && !(v > t.threshold[i]) ? 0 : Math.max(v, 0)));
    const y = vecMat(f, t.W_dec, D_SAE, D_OUT).map((v, j) => v + t.b_dec[j]);
    if (t.W_skip) for (let j = 0; j < D_OUT; j++) for (let i = 0; i < D_IN; i++) y[j] += raw[i] * t.W_skip[j * D_IN + i];
    return { f, y };
  };
}

async function encodeTranscoder(saePath: string, forward: Forward, dOut: number): Promise<Record<string, unknown>> {
  const n = counter++;
  const acts = tmp.path(`tc-acts-${n}.npy`);
  const rows = x.subarray(2 * D_IN); // normal tokens
  writeNpyMatrix(acts, { data: Float32Array.from(rows), rows: rows.length / D_IN, cols: D_IN });
  const r = await captured(() => encodeCommand.run(['--sae', saePath, '--acts', acts, '--out', tmp.path(`tc-f-${n}.npy`), '--recon', tmp.path(`tc-r-${n}.npy`)]));
  assert.equal(r.code, 0, r.stderr);
  const f = readNpyMatrix(tmp.path(`tc-f-${n}.npy`));
  const y = readNpyMatrix(tmp.path(`tc-r-${n}.npy`));
  assert.equal(y.cols, dOut);
  let maxErr = 0;
  for (let row = 0; row < f.rows; row++) {
    const e = forward(Float64Array.from(Float32Array.from(rows.subarray(row * D_IN, (row + 1) * D_IN))));
    for (let i = 0; i < D_SAE; i++) maxErr = Math.max(maxErr, Math.abs(f.data[row * D_SAE + i] - e.f[i]));
    for (let j = 0; j < dOut; j++) maxErr = Math.max(maxErr, Math.abs(y.data[row * dOut + j] - e.y[j]));
  }
  assert.ok(maxErr <= 1e-4, `${saePath}: max abs difference ${maxErr}`);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

for (const [arch, jump, skip, norm] of [
  ['transcoder', false, false, 'none'],
  ['skip_transcoder', false, true, 'layer_norm'],
  ['jumprelu_transcoder', true, false, 'none'],
  ['jumprelu_skip_transcoder', true, true, 'none'],
] as const) {
  test(`SAELens ${arch} (normalize_activations ${norm}): encode predicts the output site as SAELens does`, async () => {
    const shapes: Record<string, number[]> = {
      W_enc: [D_IN, D_SAE],
      W_dec: [D_SAE, D_OUT],
      b_enc: [D_SAE],
      b_dec: [D_OUT],
      ...(jump ? { threshold: [D_SAE] } : {}),
      ...(skip ? { W_skip: [D_OUT, D_IN] } : {}),
    };
    const t = tensors(700, shapes, { b_enc: 0.3, b_dec: 0.5, threshold: 0.4, W_skip: 0.3 });
    if (t.threshold) t.threshold = t.threshold.map(Math.abs);
    const cfg = {
      architecture: arch,
      d_in: D_IN,
      d_sae: D_SAE,
      d_out: D_OUT,
      apply_b_dec_to_input: false,
      normalize_activations: norm,
      metadata: { sae_lens_version: '6.5.0', hook_name: 'blocks.1.hook_resid_mid', hook_name_out: 'blocks.1.hook_mlp_out' },
    };
    const dir = saeLensFolder(`tc-${arch}`, cfg, t, shapes);
    const summary = await encodeTranscoder(dir, saeLensTranscoderForward(jump, norm, t), D_OUT);
    assert.equal(summary.transcoder, true);
    assert.equal(summary.dOut, D_OUT);
    // And back out through convert: the SAELens writer keeps the transcoder.
    const to = tmp.path(`tc-${arch}-converted`);
    const c = await captured(() => convertCommand.run(['--from', dir, '--to', to]));
    assert.equal(c.code, 0, c.stderr);
    await encodeTranscoder(to, saeLensTranscoderForward(jump, norm, t), D_OUT);
  });
}

test('a sparsify transcoder (transcode: true, W_skip): no b_dec subtraction, prediction matches sparsify', async () => {
  const shapes = { 'encoder.weight': [D_SAE, D_IN], 'encoder.bias': [D_SAE], W_dec: [D_SAE, D_IN], b_dec: [D_IN], W_skip: [D_IN, D_IN] };
  const t = tensors(800, shapes, { 'encoder.bias': 0.3, b_dec: 0.5, W_skip: 0.2 });
  const dir = tmp.path('sparsify-tc/layers.1.mlp');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'cfg.json'), JSON.stringify({ activation: 'topk', num_latents: D_SAE, k: 3, skip_connection: true, transcode: true, d_in: D_IN }));
  const raw: Record<string, RawTensor> = {};
  for (const [k, v] of Object.entries(t)) raw[k] = f32(shapes[k as keyof typeof shapes], v);
  writeFileSync(join(dir, 'sae.safetensors'), safetensorsFile(raw));
  const forward: Forward = (xr) => {
    const h = new Float64Array(D_SAE);
    for (let i = 0; i < D_SAE; i++) {
      let s = t['encoder.bias'][i];
      for (let j = 0; j < D_IN; j++) s += t['encoder.weight'][i * D_IN + j] * xr[j]; // not centred
      h[i] = Math.max(s, 0);
    }
    const f = keepTopK(h, 3);
    const y = vecMat(f, t.W_dec, D_SAE, D_IN).map((v, j) => v + t.b_dec[j]);
    for (let j = 0; j < D_IN; j++) for (let i = 0; i < D_IN; i++) y[j] += xr[i] * t.W_skip[j * D_IN + i];
    return { f, y };
  };
  const summary = await encodeTranscoder(dir, forward, D_IN);
  assert.equal(summary.transcoder, true);
});

test('a Gemma Scope transcoder npz with an affine skip connection: x·A is added (A [d_in, d_out])', async () => {
  const shapes: Record<string, number[]> = { w_enc: [D_IN, D_SAE], w_dec: [D_SAE, D_OUT], b_enc: [D_SAE], b_dec: [D_OUT], threshold: [D_SAE], affine_skip_connection: [D_IN, D_OUT] };
  const t = tensors(900, shapes, { b_enc: 0.3, b_dec: 0.5, threshold: 0.4, affine_skip_connection: 0.3 });
  t.threshold = t.threshold.map(Math.abs);
  const files: Record<string, Uint8Array> = {};
  for (const [k, v] of Object.entries(t)) files[`${k}.npy`] = npyFile('<f4', shapes[k], f32Bytes(v));
  const dir = tmp.path('gemma-scope-2-270m-pt-transcoders/layer_1/width_16k/average_l0_5');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'params.npz'), storedZip(files));
  const forward: Forward = (xr) => {
    const h = vecMat(xr, t.w_enc, D_IN, D_SAE).map((v, i) => v + t.b_enc[i]);
    const f = h.map((v, i) => (v > t.threshold[i] ? Math.max(v, 0) : 0));
    const skip = vecMat(xr, t.affine_skip_connection, D_IN, D_OUT);
    return { f, y: vecMat(f, t.w_dec, D_SAE, D_OUT).map((v, j) => v + t.b_dec[j] + skip[j]) };
  };
  await encodeTranscoder(dir, forward, D_OUT);
  // A Gemma Scope 2 folder: params.safetensors + config.json naming both sites.
  const dir2 = tmp.path('gs2/transcoder/layer_1_width_16k_l0_small_affine');
  mkdirSync(dir2, { recursive: true });
  const raw: Record<string, RawTensor> = {};
  for (const [k, v] of Object.entries(t)) raw[k] = f32(shapes[k], v);
  writeFileSync(join(dir2, 'params.safetensors'), safetensorsFile(raw));
  writeFileSync(
    join(dir2, 'config.json'),
    JSON.stringify({ architecture: 'jump_relu', hf_hook_point_in: 'model.layers.1.pre_feedforward_layernorm.output', hf_hook_point_out: 'model.layers.1.post_feedforward_layernorm.output' }),
  );
  await encodeTranscoder(dir2, forward, D_OUT);
  const { openSae } = await import('../../../src/core/formats/open-sae');
  const opened = openSae(dir2);
  assert.equal(opened.hookName, 'blocks.1.ln2.hook_normalized');
  assert.equal(opened.hookNameOut, 'blocks.1.hook_mlp_out');
});
