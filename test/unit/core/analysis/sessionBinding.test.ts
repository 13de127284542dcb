// Loading SAEs of every format into an analysis session on the bundled model: bound to their own hook
// when the model has it at the SAE's width, otherwise waiting for the user's choice of hook or site.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { analyzeText } from '../../../../src/core/analysis/analyzeText';
import { defaultLoaders } from '../../../../src/core/analysis/defaultLoaders';
import { AnalysisSession, BUNDLED_LAYER_SAES, findBundledSae } from '../../../../src/core/analysis/session';
import { writeSparsifyFolder } from '../../../../src/core/formats/sparsify';
import type { SaeWeights } from '../../../../src/core/sae/weights';
import { exactValues, f32Bytes, npyFile, storedZip } from '../fixtures/bytes';

const root = resolve(__dirname, '../../../..');
const tmp = mkdtempSync(join(tmpdir(), 'fl-binding-'));
const loaders = defaultLoaders({ cacheDir: join(tmp, 'cache') });
const D_MODEL = 128;
let session: AnalysisSession | undefined;

/** Opens `selection` reusing the loaded model; the previous session's encoder is released. */
async function open(selection: Parameters<typeof AnalysisSession.open>[0]): Promise<AnalysisSession> {
  session = await AnalysisSession.open(selection, root, loaders, session);
  return session;
}

/** A Gemma Scope params.npz (no b_dec subtraction, JumpReLU) under `sub`. */
function gemmaScope(sub: string, dIn = D_MODEL, dSae = 32): string {
  const arrays: Record<string, [number[], Float32Array]> = {
    W_enc: [[dIn, dSae], exactValues(dIn * dSae, 1, 0.2)],
    W_dec: [[dSae, dIn], exactValues(dSae * dIn, 2, 0.2)],
    b_enc: [[dSae], new Float32Array(dSae)],
    b_dec: [[dIn], new Float32Array(dIn)],
    threshold: [[dSae], new Float32Array(dSae).fill(0.05)],
  };
  const files: Record<string, Uint8Array> = {};
  for (const [name, [shape, data]] of Object.entries(arrays)) files[`${name}.npy`] = npyFile('<f4', shape, f32Bytes(data));
  const dir = join(tmp, sub);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'params.npz'), storedZip(files));
  return join(dir, 'params.npz');
}

function topk(seed: number): SaeWeights {
  const dSae = 48;
  return {
    config: { architecture: 'topk', dIn: D_MODEL, dSae, k: 4, applyBDecToInput: true },
    tensors: new Map([
      ['W_enc', { shape: [D_MODEL, dSae], data: exactValues(D_MODEL * dSae, seed, 0.2) }],
      ['W_dec', { shape: [dSae, D_MODEL], data: exactValues(dSae * D_MODEL, seed + 1, 0.2) }],
      ['b_enc', { shape: [dSae], data: new Float32Array(dSae) }],
      ['b_dec', { shape: [D_MODEL], data: new Float32Array(D_MODEL) }],
    ]),
  };
}

before(async () => {
  await writeSparsifyFolder(join(tmp, 'sparsify', 'layers.0'), topk(10));
  await writeSparsifyFolder(join(tmp, 'sparsify', 'layers.2'), topk(20));
});
after(async () => {
  await session?.dispose();
  rmSync(tmp, { recursive: true, force: true });
});

test('a Gemma Scope file whose path names its layer is bound to that site and analyses text', async () => {
  const file = gemmaScope('gemma-scope-2b-pt-res/layer_1/width_32/average_l0_8');
  const s = await open({ saePath: file });
  assert.equal(s.info.site, 'blocks.1.hook_resid_post');
  assert.equal(s.info.saeChoice, undefined);
  assert.equal(s.info.sae?.architecture, 'jumprelu');
  assert.equal(s.labelsDir, dirname(file), 'labels are saved beside params.npz');
  const r = await analyzeText(s.model, s.requireSae(), s.site, 'The cat sat on the mat.', { topK: 4, maxTokens: 64 });
  assert.equal(r.tokens.map((t) => t.text).join(''), 'The cat sat on the mat.');
  assert.ok(r.meanL0 > 0, 'features fire');
});

test('an SAE that names no hook waits for the site; the chosen site binds it', async () => {
  const file = gemmaScope('plain');
  const waiting = await open({ saePath: file });
  assert.equal(waiting.info.saeChoice?.kind, 'site');
  assert.equal(waiting.sae, undefined);
  assert.match(waiting.info.saeProblem ?? '', /does not say which hook/);
  assert.throws(() => waiting.requireSae(), (e: Error & { code?: string }) => e.code === 'noSae');
  const bound = await open({ saePath: file, site: 'blocks.3.hook_mlp_out' });
  assert.equal(bound.site, 'blocks.3.hook_mlp_out');
  assert.ok(bound.sae);
  assert.equal(bound.info.saeChoice, undefined);
});

test('a sparsify folder of several hooks asks which one, then binds the chosen hook to its site', async () => {
  const folder = join(tmp, 'sparsify');
  const waiting = await open({ saePath: folder });
  assert.deepEqual(waiting.info.saeChoice, { kind: 'hook', path: folder, hooks: ['layers.0', 'layers.2'] });
  assert.equal(waiting.sae, undefined);
  const bound = await open({ saePath: folder, saeHook: 'layers.2' });
  assert.equal(bound.info.sae?.architecture, 'topk');
  assert.equal(bound.site, 'blocks.2.hook_resid_post');
  assert.equal(bound.labelsDir, join(folder, 'layers.2'), 'labels are saved in the hook’s own folder');
  const r = await analyzeText(bound.model, bound.requireSae(), bound.site, 'hello world', { topK: 8, maxTokens: 16 });
  assert.ok(r.tokens.every((t) => t.l0 <= 4), 'TopK k = 4');
});

test('an SAE for a hook or width the model does not have waits for a site, and a site of another width is refused naming both', async () => {
  const narrow = gemmaScope('gemma-scope-2b-pt-res/layer_1/width_16/x', 64, 16);
  const waiting = await open({ saePath: narrow });
  assert.equal(waiting.info.saeChoice?.kind, 'site');
  assert.match(waiting.info.saeProblem ?? '', /d_in 64, but site blocks\.1\.hook_resid_post .* has width 128/);
  await assert.rejects(
    open({ saePath: narrow, site: 'blocks.0.hook_resid_post' }),
    (e: Error & { code?: string }) => e.code === 'saeMismatch' && /d_in 64/.test(e.message) && /width 128/.test(e.message),
  );
  const still = await waiting.model.activations(Int32Array.of(1, 2), 'blocks.0.hook_resid_post');
  assert.equal(still.rows, 2, 'the refused load left the loaded model usable');
  const deep = gemmaScope('gemma-scope-2b-pt-res/layer_20/width_32/x');
  const other = await open({ saePath: deep });
  assert.match(other.info.saeProblem ?? '', /reads blocks\.20\.hook_resid_post, which model .* does not have/);
});

test('with no SAE chosen, choosing a layer loads the bundled SAE of that layer; the default comes back for its own site', async () => {
  const layers = join(root, BUNDLED_LAYER_SAES);
  const folder = readdirSync(layers).sort()[0];
  assert.ok(folder, 'a per-layer SAE is bundled');
  const hook = (JSON.parse(readFileSync(join(layers, folder, 'cfg.json'), 'utf8')) as { metadata: { hook_name: string } }).metadata.hook_name;
  const s = await open({ site: hook });
  assert.equal(s.site, hook);
  assert.equal(s.saePath, join(layers, folder));
  assert.equal(s.info.sae?.hookName, hook);
  assert.ok(!s.info.warnings.some((w) => /was trained on/.test(w)), `no "trained on another site" warning: ${s.info.warnings.join('; ')}`);
  const back = await open({ site: 'blocks.1.hook_resid_post' });
  assert.equal(back.saePath, findBundledSae(root));
  const elsewhere = await open({ site: 'blocks.0.hook_mlp_out' });
  assert.equal(elsewhere.saePath, findBundledSae(root), 'a site with no bundled SAE of its own gets the default');
  assert.ok(elsewhere.info.warnings.some((w) => /was trained on blocks\.1\.hook_resid_post/.test(w)));
});
