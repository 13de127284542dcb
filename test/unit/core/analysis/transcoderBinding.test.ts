// A transcoder in an analysis session on the bundled model: bound to its input and output sites from its
// hook names (else the user is asked for the output site), features read at the input site, the error
// measured against the output site, steering and ΔLM splicing at the output site. Expected values are
// computed here from the weights and the model's own activations.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { analyzeText } from '../../../../src/core/analysis/analyzeText';
import { attribute } from '../../../../src/core/analysis/attribution';
import { defaultLoaders } from '../../../../src/core/analysis/defaultLoaders';
import { softmax } from '../../../../src/core/analysis/nextToken';
import { AnalysisSession } from '../../../../src/core/analysis/session';
import { steerText } from '../../../../src/core/analysis/steerText';
import { evaluateOnModel } from '../../../../src/core/store/evaluateSae';
import { exactValues, f32Tensor, safetensorsFile } from '../fixtures/bytes';

const root = resolve(__dirname, '../../../..');
const tmp = mkdtempSync(join(tmpdir(), 'fl-transcoder-'));
const loaders = defaultLoaders({ cacheDir: join(tmp, 'cache') });
const D = 128;
const D_SAE = 32;
const IN = 'blocks.1.hook_resid_mid';
const OUT = 'blocks.1.hook_mlp_out';
let session: AnalysisSession | undefined;
after(async () => {
  await session?.dispose();
  rmSync(tmp, { recursive: true, force: true });
});

async function open(selection: Parameters<typeof AnalysisSession.open>[0]): Promise<AnalysisSession> {
  session = await AnalysisSession.open(selection, root, loaders, session);
  return session;
}

const W = { W_enc: exactValues(D * D_SAE, 31, 0.3), W_dec: exactValues(D_SAE * D, 32, 0.3), b_enc: exactValues(D_SAE, 33, 0.1), b_dec: exactValues(D, 34, 0.1) };

function transcoder(name: string, meta: Record<string, unknown>, dOut = D): string {
  const dir = join(tmp, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'cfg.json'), JSON.stringify({ architecture: 'transcoder', d_in: D, d_sae: D_SAE, d_out: dOut, apply_b_dec_to_input: false, metadata: { sae_lens_version: '6.5.0', ...meta } }));
  writeFileSync(
    join(dir, 'sae_weights.safetensors'),
    safetensorsFile({
      W_enc: f32Tensor([D, D_SAE], W.W_enc),
      W_dec: f32Tensor([D_SAE, dOut], W.W_dec.subarray(0, D_SAE * dOut)),
      b_enc: f32Tensor([D_SAE], W.b_enc),
      b_dec: f32Tensor([dOut], W.b_dec.subarray(0, dOut)),
    }),
  );
  return dir;
}

/** The transcoder's prediction of one row (ReLU, no b_dec subtraction), in float64. */
function predict(x: Float32Array): { f: Float64Array; y: Float64Array } {
  const f = new Float64Array(D_SAE);
  for (let i = 0; i < D_SAE; i++) {
    let s = W.b_enc[i];
    for (let j = 0; j < D; j++) s += x[j] * W.W_enc[j * D_SAE + i];
    f[i] = Math.max(s, 0);
  }
  const y = new Float64Array(D);
  for (let j = 0; j < D; j++) {
    let s = W.b_dec[j];
    for (let i = 0; i < D_SAE; i++) s += f[i] * W.W_dec[i * D + j];
    y[j] = s;
  }
  return { f, y };
}

test('bound from its hook names: features at the input site, reconstruction error against the output site', async () => {
  const s = await open({ saePath: transcoder('tc', { hook_name: IN, hook_name_out: OUT }) });
  assert.equal(s.info.saeChoice, undefined);
  assert.equal(s.site, IN);
  assert.equal(s.info.sae?.siteOut, OUT);
  assert.equal(s.requireSae().outputSite, OUT);
  const text = 'The cat sat on the mat.';
  const r = await analyzeText(s.model, s.requireSae(), s.site, text, { topK: 3, maxTokens: 64 });
  const ids = s.model.tokenize(text).ids;
  const xin = await s.model.activations(ids, IN);
  const xout = await s.model.activations(ids, OUT);
  r.tokens.forEach((t, row) => {
    const { f, y } = predict(xin.data.subarray(row * D, (row + 1) * D));
    let err = 0;
    let norm = 0;
    for (let j = 0; j < D; j++) {
      err += (xout.data[row * D + j] - y[j]) ** 2;
      norm += xout.data[row * D + j] ** 2;
    }
    assert.ok(Math.abs(t.reconError - err / norm) < 1e-4 * Math.max(1, err / norm), `token ${row}: ${t.reconError} vs ${err / norm}`);
    assert.equal(t.l0, f.filter((v) => v > 0).length);
    if (t.features.length > 0) assert.ok(Math.abs(t.features[0].activation - Math.max(...f)) < 1e-4);
  });
});

test('steering splices at the output site; ΔLM evaluation reads the input site and splices the prediction at the output site', async () => {
  const s = await open({ saePath: transcoder('tc', { hook_name: IN, hook_name_out: OUT }) });
  const sae = s.requireSae();
  const text = 'Once upon a time there was';
  const ids = s.model.tokenize(text).ids;
  const feature = 3;
  const value = 4;
  const steered = await steerText(s.model, sae, s.site, text, feature, value, { topK: 3, maxTokens: 64 });
  // Expected: at every position the output site moves by (value − f_j)·W_dec[j].
  const xin = await s.model.activations(ids, IN);
  const edit = (acts: { data: Float32Array; rows: number; cols: number }) => {
    const out = Float32Array.from(acts.data);
    for (let row = 0; row < acts.rows; row++) {
      const fj = predict(xin.data.subarray(row * D, (row + 1) * D)).f[feature];
      for (let j = 0; j < D; j++) out[row * D + j] += (value - fj) * W.W_dec[feature * D + j];
    }
    return { data: out, rows: acts.rows, cols: acts.cols };
  };
  const expected = softmax(await s.model.lastLogits(ids, undefined, { site: OUT, edit }));
  for (const t of steered.after) {
    const id = [...expected.keys()].find((i) => s.model.tokenText(i) === t.token)!;
    assert.ok(Math.abs(t.probability - expected[id]) < 1e-4, `${t.token}: ${t.probability} vs ${expected[id]}`);
  }
  assert.ok(steered.kl > 0, 'the edit changes the prediction');

  const T = 8;
  const windows = { ids: Int32Array.from({ length: 2 * T }, (_, i) => 5 + ((i * 7) % 50)), count: 2, length: T };
  const result = await evaluateOnModel(sae.inference, s.lm, OUT, windows, { inputSite: IN });
  // MSE of the prediction against the output site over positions 1..T−1 of each window.
  const acts = await s.lm.activations([windows.ids.subarray(0, T), windows.ids.subarray(T)], [IN, OUT]);
  let sse = 0;
  let n = 0;
  for (let w = 0; w < 2; w++) {
    const a = acts.get(IN)![w];
    const b = acts.get(OUT)![w];
    for (let row = 1; row < T; row++) {
      const { y } = predict(a.data.subarray(row * D, (row + 1) * D));
      for (let j = 0; j < D; j++) sse += (b.data[row * D + j] - y[j]) ** 2;
      n++;
    }
  }
  assert.equal(result.tokens, n);
  assert.ok(Math.abs(result.mse - sse / n) < 1e-4 * Math.max(1, sse / n), `mse ${result.mse} vs ${sse / n}`);
  assert.ok(Number.isFinite(result.lm!.deltaLoss) && result.lm!.deltaLoss !== 0);
});

test('without an output hook the session asks for it; a site of the wrong width is refused naming both sites', async () => {
  const dir = transcoder('tc-no-out', { hook_name: IN });
  const waiting = await open({ saePath: dir });
  assert.equal(waiting.info.saeChoice?.kind, 'siteOut');
  assert.match(waiting.info.saeProblem ?? '', /does not say which site it predicts/);
  assert.equal(waiting.sae, undefined);
  const bound = await open({ saePath: dir, siteOut: OUT });
  assert.equal(bound.info.sae?.siteOut, OUT);
  const narrow = transcoder('tc-narrow', { hook_name: IN, hook_name_out: OUT }, 64);
  await assert.rejects(
    open({ saePath: narrow }),
    (e: Error & { code?: string }) => e.code === 'saeMismatch' && e.message.includes(IN) && e.message.includes(OUT) && /width 64/.test(e.message) && /width 128/.test(e.message),
  );
});

test('attribution on a transcoder: features of the input site, the error row is the prediction error at the output site', async () => {
  const s = await open({ saePath: transcoder('tc', { hook_name: IN, hook_name_out: OUT }) });
  const text = 'The cat sat on the mat';
  const ids = s.model.tokenize(text).ids;
  const position = ids.length - 1;
  const a = await attribute(s.model, s.requireSae(), s.site, text, { position, upTo: false });
  const xin = await s.model.activations(ids, IN);
  const xout = await s.model.activations(ids, OUT);
  const { f, y } = predict(xin.data.subarray(position * D, (position + 1) * D));
  let err = 0;
  for (let j = 0; j < D; j++) err += (xout.data[position * D + j] - y[j]) ** 2;
  const errorRow = a.rows.find((r) => r.kind === 'error')!;
  assert.ok(Math.abs(errorRow.activation - Math.sqrt(err)) < 1e-3, `error ${errorRow.activation} vs ${Math.sqrt(err)}`);
  const featureRows = a.rows.filter((r) => r.kind === 'feature') as { feature: number; activation: number }[];
  assert.equal(featureRows.length, f.filter((v) => v > 0).length);
  for (const r of featureRows) assert.ok(Math.abs(r.activation - f[r.feature]) < 1e-4, `feature ${r.feature}`);
});
