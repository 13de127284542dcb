// Load SAE… with a checkpoint in another format than SAELens: a Gemma-Scope-style params.npz written
// here (numpy's .npy layout by hand, zipped) for the bundled model's width, then Analyze Selection.
const assert = require('node:assert/strict');
const { mkdirSync, mkdtempSync, writeFileSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const vscode = require('vscode');
const { zipSync } = require('fflate');
const { test, waitFor, activeExtension, allTabs, closeAllEditors, editorWith } = require('./harness');
const { testSaeDir } = require('../fixtures/testSae.js');

const D_IN = 128; // the bundled model's d_model
const D_SAE = 64;
const TEXT = 'The quick brown fox jumps over the lazy dog.';

/** A version-1.0 .npy of little-endian float32 values. */
function npy(shape, values) {
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shapeText}, }`;
  header += ' '.repeat((64 - ((10 + header.length + 1) % 64)) % 64) + '\n';
  const out = Buffer.alloc(10 + header.length + 4 * values.length);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]).copy(out, 0);
  out.writeUInt16LE(header.length, 8);
  out.write(header, 10, 'latin1');
  values.forEach((v, i) => out.writeFloatLE(v, 10 + header.length + 4 * i));
  return new Uint8Array(out);
}

/** Gemma Scope's arrays: random encoder/decoder directions, zero biases, a small threshold. */
function writeParams(dir) {
  let s = 7;
  const rand = () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32 - 0.5) * 0.4;
  const arrays = {
    W_enc: npy([D_IN, D_SAE], Array.from({ length: D_IN * D_SAE }, rand)),
    W_dec: npy([D_SAE, D_IN], Array.from({ length: D_SAE * D_IN }, rand)),
    b_enc: npy([D_SAE], new Array(D_SAE).fill(0)),
    b_dec: npy([D_IN], new Array(D_IN).fill(0)),
    threshold: npy([D_SAE], new Array(D_SAE).fill(0.05)),
  };
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'params.npz');
  writeFileSync(file, zipSync(Object.fromEntries(Object.entries(arrays).map(([k, v]) => [`${k}.npy`, v])), { level: 0 }));
  return file;
}

async function analyze(text) {
  await closeAllEditors();
  await editorWith(text);
  const analysed = await vscode.commands.executeCommand('featureLens.analyzeSelection');
  assert.ok(analysed, 'the command returned no analysis');
  return analysed.result;
}

const root = mkdtempSync(join(tmpdir(), 'fl-it-formats-'));

test('a Gemma Scope params.npz is bound to the site its path names, and a selection is analyzed with it', async () => {
  await activeExtension();
  const file = writeParams(join(root, 'gemma-scope-2b-pt-res', 'layer_1', 'width_64', 'average_l0_20'));
  const info = await vscode.commands.executeCommand('featureLens.loadSae', file);
  assert.ok(info, 'Load SAE… returned nothing (an error was shown)');
  assert.equal(info.saeChoice, undefined);
  assert.equal(info.site, 'blocks.1.hook_resid_post');
  assert.equal(info.sae.architecture, 'jumprelu');
  assert.equal(info.sae.dSae, D_SAE);
  const result = await analyze(TEXT);
  assert.equal(result.tokens.map((t) => t.text).join(''), TEXT);
  assert.equal(result.site, 'blocks.1.hook_resid_post');
  assert.equal(result.dSae, D_SAE);
  assert.ok(result.tokens.some((t) => t.features.length > 0), 'no feature fires anywhere');
  assert.ok(result.tokens.every((t) => t.features.every((f) => f.id < D_SAE && f.activation > 0.05)), 'JumpReLU: only activations above the threshold');
  await waitFor(() => allTabs().some((t) => t.label === 'Feature Lens: Tokens'), { what: 'the token view tab' });
  const posted = await vscode.commands.executeCommand('featureLens._test.tokenMessages');
  assert.ok(posted.includes('analysis'), `the token view got ${posted.join(', ')}`);
}, { timeout: 180_000 });

test('a params.npz whose path names no site waits for one; given the site, it analyzes there', async () => {
  const file = writeParams(join(root, 'unnamed'));
  // Through the service: the command would now ask for the site with a quick pick.
  const waiting = await vscode.commands.executeCommand('featureLens._test.loadWithoutPrompts', file);
  assert.equal(waiting.saeChoice.kind, 'site');
  assert.equal(waiting.saeChoice.dIn, D_IN);
  assert.equal(waiting.sae, undefined);
  const info = await vscode.commands.executeCommand('featureLens.loadSae', file, { site: 'blocks.3.hook_resid_post' });
  assert.equal(info.site, 'blocks.3.hook_resid_post');
  assert.equal(info.sae.dSae, D_SAE);
  const result = await analyze(TEXT);
  assert.equal(result.site, 'blocks.3.hook_resid_post');
  assert.equal(result.tokens.length > 0, true);
}, { timeout: 180_000 });

/** A safetensors file of float32 tensors, written by hand (8-byte header length, JSON header, raw data). */
function safetensors(tensors) {
  const header = {};
  let offset = 0;
  for (const [name, { shape, values }] of Object.entries(tensors)) {
    header[name] = { dtype: 'F32', shape, data_offsets: [offset, offset + 4 * values.length] };
    offset += 4 * values.length;
  }
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const out = Buffer.alloc(8 + json.length + offset);
  out.writeBigUInt64LE(BigInt(json.length), 0);
  json.copy(out, 8);
  let at = 8 + json.length;
  for (const { values } of Object.values(tensors)) for (const v of values) at = out.writeFloatLE(v, at);
  return out;
}

test('a SAELens transcoder built here binds its input and output sites; the analysis reads the input and measures against the output', async () => {
  let s = 11;
  const rand = () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32 - 0.5) * 0.4;
  const dir = join(root, 'transcoder-layer-1');
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'cfg.json'),
    JSON.stringify({
      architecture: 'jumprelu_transcoder',
      d_in: D_IN,
      d_sae: D_SAE,
      d_out: D_IN,
      apply_b_dec_to_input: false,
      normalize_activations: 'none',
      metadata: { sae_lens_version: '6.5.0', hook_name: 'blocks.1.hook_resid_mid', hook_name_out: 'blocks.1.hook_mlp_out' },
    }),
  );
  writeFileSync(
    join(dir, 'sae_weights.safetensors'),
    safetensors({
      W_enc: { shape: [D_IN, D_SAE], values: Array.from({ length: D_IN * D_SAE }, rand) },
      W_dec: { shape: [D_SAE, D_IN], values: Array.from({ length: D_SAE * D_IN }, rand) },
      b_enc: { shape: [D_SAE], values: new Array(D_SAE).fill(0) },
      b_dec: { shape: [D_IN], values: new Array(D_IN).fill(0) },
      threshold: { shape: [D_SAE], values: new Array(D_SAE).fill(0.05) },
    }),
  );
  const info = await vscode.commands.executeCommand('featureLens.loadSae', dir);
  assert.ok(info, 'Load SAE… returned nothing (an error was shown)');
  assert.equal(info.saeChoice, undefined);
  assert.equal(info.site, 'blocks.1.hook_resid_mid');
  assert.equal(info.sae.siteOut, 'blocks.1.hook_mlp_out');
  assert.equal(info.sae.dOut, D_IN);
  const result = await analyze(TEXT);
  assert.equal(result.tokens.map((t) => t.text).join(''), TEXT);
  assert.equal(result.site, 'blocks.1.hook_resid_mid');
  assert.ok(result.tokens.some((t) => t.features.length > 0), 'no feature fires anywhere');
  assert.ok(result.tokens.every((t) => Number.isFinite(t.reconError) && t.reconError >= 0));
  // A transcoder whose output width is not the output site's is refused, naming both sites.
  const narrow = join(root, 'transcoder-narrow');
  mkdirSync(narrow, { recursive: true });
  writeFileSync(
    join(narrow, 'cfg.json'),
    JSON.stringify({ architecture: 'transcoder', d_in: D_IN, d_sae: 4, d_out: 8, apply_b_dec_to_input: false, metadata: { hook_name: 'blocks.1.hook_resid_mid', hook_name_out: 'blocks.1.hook_mlp_out' } }),
  );
  writeFileSync(
    join(narrow, 'sae_weights.safetensors'),
    safetensors({
      W_enc: { shape: [D_IN, 4], values: new Array(D_IN * 4).fill(0.01) },
      W_dec: { shape: [4, 8], values: new Array(32).fill(0.01) },
      b_enc: { shape: [4], values: [0, 0, 0, 0] },
      b_dec: { shape: [8], values: new Array(8).fill(0) },
    }),
  );
  const refused = await vscode.commands.executeCommand('featureLens._test.loadWithoutPrompts', narrow).then(
    () => undefined,
    (err) => err,
  );
  assert.ok(refused, 'a transcoder writing width 8 into a 128-wide site loads');
  const message = String(refused.message ?? refused);
  for (const part of ['blocks.1.hook_resid_mid', 'blocks.1.hook_mlp_out', 'width 8', 'width 128']) assert.ok(message.includes(part), `${part} in: ${message}`);
}, { timeout: 180_000 });

test('the test SAE loads again afterwards', async () => {
  const info = await vscode.commands.executeCommand('featureLens.loadSae', testSaeDir());
  assert.equal(info.site, 'blocks.2.hook_resid_post');
}, { timeout: 180_000 });
