// Interventions, attribution and generation on the GPT-2- and Llama-style models built in the tests, checked
// against the independent TypeScript forward pass with the site edited by hand.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { attribute, logSoftmaxAt } from '../../../../src/core/analysis/attribution';
import { generateSideBySide } from '../../../../src/core/analysis/generation';
import { intervene } from '../../../../src/core/analysis/interventions';
import type { AnalysisModel, AnalysisSae } from '../../../../src/core/analysis/ports';
import { GREEDY } from '../../../../src/core/analysis/sampling';
import { loadModel, type OnnxLanguageModel } from '../../../../src/core/runtime';
import { matrix, type Matrix } from '../../../../src/core/tensor';
import { buildGpt2WithPast, type Gpt2Model } from '../../../fixtures/gpt2Model';
import { buildLlama } from '../../../fixtures/llamaModel';
import { maxAbsDiff } from '../../../fixtures/reference';
import { tempDir, type TempDir } from '../../../fixtures/tempModel';
import { fixtureSae, idsModel } from './fixtureSae';

const IDS = [4, 8, 15, 16, 23, 42, 7, 79, 0, 33];
const TEXT = IDS.join(' ');
const SITE = 'blocks.0.hook_resid_post';

function lastRow(m: Float64Array, cols: number): Float64Array {
  return m.subarray(m.length - cols);
}

describe('steering and attribution on a GPT-2-style test model', () => {
  let tmp: TempDir;
  let fixture: Gpt2Model;
  let lm: OnnxLanguageModel;
  let model: AnalysisModel;
  let sae: AnalysisSae;
  const V = 80;
  const d = 24;

  before(async () => {
    tmp = tempDir();
    fixture = buildGpt2WithPast();
    tmp.write('decoder_with_past_model.onnx', fixture.bytes);
    lm = await loadModel(tmp.dir, { cacheDir: tmp.path('cache'), intraOpThreads: 1 });
    model = idsModel(lm);
    sae = fixtureSae(d, 16, 0.15);
  });
  after(async () => {
    await lm?.dispose();
    tmp.cleanup();
  });

  test('the cut runs the rest of the model on a batch of variants exactly as separate splices do', async () => {
    for (const site of [SITE, 'blocks.1.hook_attn_out', 'blocks.1.hook_resid_mid']) {
      const ids = Int32Array.from(IDS);
      const cut = await lm.cutAtSite(ids, site);
      const half = matrix(cut.acts.rows, cut.acts.cols, cut.acts.data.map((v) => v * 0.5));
      const shifted = matrix(cut.acts.rows, cut.acts.cols, cut.acts.data.map((v, i) => v + Math.sin(i)));
      const got = await cut.lastLogits([cut.acts, half, shifted]);
      const ref = lastRow(fixture.referenceForward(IDS).logits, V);
      assert.ok(maxAbsDiff(got[0], ref) < 1e-4, `${site}: clean variant = reference`);
      for (const [k, v] of [half, shifted].entries()) {
        const spliced = (await lm.spliced([ids], site, () => v)).logits[0];
        assert.ok(maxAbsDiff(got[k + 1], spliced.data.subarray((spliced.rows - 1) * V)) < 1e-5, `${site}: variant ${k + 1} = its own splice`);
      }
      assert.ok(maxAbsDiff(got[1], got[0]) > 1e-2, 'the variants differ');
    }
  });

  test('ablating a feature of known decoder direction changes the logits as the hand-computed forward says', async () => {
    const ids = Int32Array.from(IDS);
    const cut = await lm.cutAtSite(ids, SITE);
    const enc = await sae.encode(cut.acts);
    const f = enc.features;
    const last = ids.length - 1;
    const j = f.colIdx[f.rowPtr[last]];
    assert.ok(f.rowPtr[last + 1] > f.rowPtr[last], 'some feature fires at the last token');
    const [edited] = await cut.lastLogits([intervene(cut.acts, enc, sae.inference, [{ feature: j, op: { kind: 'zero' }, positions: { kind: 'all' } }])]);
    // By hand: x − f_j(t)·W_dec[j] at every row where j fires, through the reference network.
    const dir = sae.inference.wDec.subarray(j * d, (j + 1) * d);
    const value = (t: number) => {
      for (let e = f.rowPtr[t]; e < f.rowPtr[t + 1]; e++) if (f.colIdx[e] === j) return f.values[e];
      return 0;
    };
    const hand = fixture.referenceForward(IDS, {
      site: SITE,
      replace: (x) => x.map((v, i) => v - value(Math.floor(i / d)) * dir[i % d]),
    });
    assert.ok(maxAbsDiff(edited, lastRow(hand.logits, V)) < 1e-4);
    assert.ok(maxAbsDiff(edited, lastRow(fixture.referenceForward(IDS).logits, V)) > 1e-3, 'the ablation changed the logits');
  });

  test('attribution: every feature row and the error row equal a direct computation', async () => {
    const p = 6;
    const a = await attribute(model, sae, SITE, TEXT, { position: p, includeEarlier: true });
    const ids = IDS.slice(0, p + 1);
    const cut = await lm.cutAtSite(Int32Array.from(ids), SITE);
    const enc = sae.inference.encode(cut.acts);
    const recon = sae.inference.decode(enc, cut.acts);
    const clean = lastRow(fixture.referenceForward(ids).logits, V);
    let best = 0;
    for (let i = 1; i < V; i++) if (clean[i] > clean[best]) best = i;
    assert.equal(a.target.id, best, 'default target: the top prediction');
    const logProb = (l: Float64Array) => logSoftmaxAt(Float32Array.from(l), best);
    const direct = (replace: (x: Float64Array) => Float64Array) => {
      const l = lastRow(fixture.referenceForward(ids, { site: SITE, replace }).logits, V);
      return { logit: clean[best] - l[best], logProb: logProb(clean) - logProb(l) };
    };
    const value = (t: number, j: number) => {
      for (let e = enc.features.rowPtr[t]; e < enc.features.rowPtr[t + 1]; e++) if (enc.features.colIdx[e] === j) return enc.features.values[e];
      return 0;
    };
    const ablated = (js: number[], rows: (t: number) => boolean) => (x: Float64Array) =>
      x.map((v, i) => {
        const t = Math.floor(i / d);
        if (!rows(t)) return v;
        let s = v;
        for (const j of js) s -= value(t, j) * sae.inference.wDec[j * d + (i % d)];
        return s;
      });
    const close = (got: { logit: number; logProb: number } | undefined, want: { logit: number; logProb: number }, what: string) => {
      assert.ok(got, what);
      assert.ok(Math.abs(got.logit - want.logit) < 2e-4 && Math.abs(got.logProb - want.logProb) < 2e-4, `${what}: ${JSON.stringify(got)} vs ${JSON.stringify(want)}`);
    };
    const features = a.rows.filter((r) => r.kind === 'feature');
    assert.ok(features.filter((r) => r.here).length >= 2, 'several features fire at the position');
    assert.ok(features.some((r) => !r.here), 'includeEarlier lists a feature that fires only before the position');
    for (const r of features) {
      const j = r.feature!;
      assert.equal(r.activation, value(p, j));
      if (r.here) close(r.here, direct(ablated([j], (t) => t === p)), `feature ${j} here`);
      close(r.upTo, direct(ablated([j], () => true)), `feature ${j} up to the position`);
    }
    const error = a.rows.find((r) => r.kind === 'error');
    const withRecon = (rows: (t: number) => boolean) => (x: Float64Array) => x.map((v, i) => (rows(Math.floor(i / d)) ? recon.data[i] : v));
    close(error?.here, direct(withRecon((t) => t === p)), 'error term here');
    close(error?.upTo, direct(withRecon(() => true)), 'error term up to the position');
    const hereIds = features.filter((r) => r.here).map((r) => r.feature!);
    close(a.here.joint, direct(ablated(hereIds, (t) => t === p)), 'all features together');
    const sum = features.reduce((s, r) => s + (r.here?.logit ?? 0), 0);
    assert.ok(Math.abs(a.here.sumOfSingles.logit - sum) < 1e-9);
    // Ranked by the size of the effect.
    const keys = a.rows.map((r) => Math.abs((r.here ?? r.upTo)!.logit));
    for (let i = 1; i < keys.length; i++) assert.ok(keys[i - 1] >= keys[i]);
  });

  test('attribution of a typed target, and bad positions/targets', async () => {
    const a = await attribute(model, sae, SITE, TEXT, { position: 3, target: { text: '17' } });
    assert.equal(a.target.id, 17);
    assert.ok(a.target.probability > 0 && a.target.probability < 1);
    const hereOnly = await attribute(model, sae, SITE, TEXT, { position: 3, target: { text: '17' }, upTo: false });
    assert.equal(hereOnly.upTo, undefined);
    assert.ok(hereOnly.rows.every((r) => r.upTo === undefined && r.here !== undefined));
    assert.deepEqual(hereOnly.here, a.here, 'the same numbers without the "up to" ablations');
    assert.ok(hereOnly.variants < a.variants);
    await assert.rejects(attribute(model, sae, SITE, TEXT, { position: IDS.length }), /position 10 is beyond the text: it has 10 tokens/);
    await assert.rejects(attribute(model, sae, SITE, TEXT, { position: 2, target: { text: '1 2' } }), /is 2 tokens/);
    await assert.rejects(attribute(model, sae, SITE, TEXT, { position: 2, target: { id: V } }), /outside the vocabulary/);
  });

  test('setting every active feature to its own value changes nothing', async () => {
    const cut = await lm.cutAtSite(Int32Array.from(IDS), SITE);
    const enc = await sae.encode(cut.acts);
    const own = [];
    for (let t = 0; t < enc.features.rows; t++) {
      for (let e = enc.features.rowPtr[t]; e < enc.features.rowPtr[t + 1]; e++) {
        own.push({ feature: enc.features.colIdx[e], op: { kind: 'clamp', value: enc.features.values[e] } as const, positions: { kind: 'range', start: t, end: t + 1 } as const });
      }
    }
    assert.ok(own.length > 5);
    const edited = intervene(cut.acts, enc, sae.inference, own);
    assert.deepEqual(edited.data, cut.acts.data);
    const [a, b] = await cut.lastLogits([cut.acts, edited]);
    assert.deepEqual(a, b);
  });

  test('generation: no interventions reproduce the plain model, a clamp steers it, cancelling keeps what was made', async () => {
    const plain = await lm.generate(Int32Array.from(IDS), 8);
    const same = await generateSideBySide(model, sae, SITE, TEXT, { maxNewTokens: 8, interventions: [], sampling: GREEDY });
    assert.deepEqual(same.clean.ids, Array.from(plain));
    assert.deepEqual(same.steered.ids, same.clean.ids);
    assert.ok(same.steered.kl.every((k) => k < 1e-9));
    assert.equal(same.cancelled, false);

    const steered = await generateSideBySide(model, sae, SITE, TEXT, {
      maxNewTokens: 8,
      interventions: [{ feature: 2, op: { kind: 'clamp', value: 30 }, positions: { kind: 'from', start: 7 } }],
      sampling: GREEDY,
    });
    assert.deepEqual(steered.clean.ids, same.clean.ids);
    assert.ok(steered.steered.kl.every((k) => k > 1e-4), `KL at every new token: ${steered.steered.kl}`);
    assert.notDeepEqual(steered.steered.ids, steered.clean.ids);

    const sampled = (seed: number) => generateSideBySide(model, sae, SITE, TEXT, { maxNewTokens: 12, interventions: [], sampling: { temperature: 1, topP: 0.9, seed } });
    const s1 = await sampled(5);
    assert.deepEqual((await sampled(5)).clean.ids, s1.clean.ids, 'a seed repeats a run');
    assert.deepEqual(s1.steered.ids, s1.clean.ids, 'same seed, no interventions: the two runs agree');

    const controller = new AbortController();
    const steps: number[] = [];
    const cut = await generateSideBySide(model, sae, SITE, TEXT, {
      maxNewTokens: 20,
      interventions: [],
      sampling: GREEDY,
      signal: controller.signal,
      onStep: (s) => {
        steps.push(s.index);
        if (s.index === 2) controller.abort();
      },
    });
    assert.equal(cut.cancelled, true);
    assert.deepEqual(steps, [0, 1, 2]);
    assert.equal(cut.clean.ids.length, 3);
    const again = await generateSideBySide(model, sae, SITE, TEXT, { maxNewTokens: 2, interventions: [], sampling: GREEDY });
    assert.equal(again.cancelled, false, 'usable after a cancel');
  });

  test('generation past the context slides a window; bad requests are refused', async () => {
    const ctx = lm.info.contextLength;
    const long = Array.from({ length: ctx + 5 }, (_, i) => (i * 7) % V).join(' ');
    const r = await generateSideBySide(model, sae, SITE, long, { maxNewTokens: 3, interventions: [{ feature: 1, op: { kind: 'zero' }, positions: { kind: 'all' } }], sampling: GREEDY });
    assert.match(r.windowNote ?? '', new RegExp(`the last ${ctx}`));
    assert.equal(r.steered.ids.length, 3);
    const near = Array.from({ length: ctx - 2 }, (_, i) => (i * 5) % V).join(' ');
    const filled = await generateSideBySide(model, sae, SITE, near, { maxNewTokens: 4, interventions: [], sampling: GREEDY });
    assert.match(filled.windowNote ?? '', /filled up after 2 new tokens/);
    await assert.rejects(generateSideBySide(model, sae, SITE, TEXT, { maxNewTokens: 0, interventions: [], sampling: GREEDY }), /new tokens must be an integer in 1\.\.512/);
    await assert.rejects(
      generateSideBySide(model, sae, SITE, TEXT, { maxNewTokens: 2, interventions: [{ feature: 0, op: { kind: 'clamp', value: Infinity }, positions: { kind: 'all' } }], sampling: GREEDY }),
      /finite/,
    );
    await assert.rejects(
      generateSideBySide(model, sae, SITE, TEXT, { maxNewTokens: 2, interventions: [{ feature: 0, op: { kind: 'zero' }, positions: { kind: 'from', start: 99 } }], sampling: GREEDY }),
      /position 99 is beyond the text/,
    );
  });
});

describe('a transcoder on the GPT-2-style test model: features read at resid_mid, edits at mlp_out', () => {
  test('attribution rows and an empty intervention agree with the hand-computed forward', async () => {
    const tmp = tempDir();
    try {
      const fixture = buildGpt2WithPast();
      tmp.write('decoder_with_past_model.onnx', fixture.bytes);
      const lm = await loadModel(tmp.dir, { cacheDir: tmp.path('cache'), intraOpThreads: 1 });
      try {
        const d = 24;
        const V = 80;
        const read = 'blocks.1.hook_resid_mid';
        const write = 'blocks.1.hook_mlp_out';
        const model = idsModel(lm);
        const tc = fixtureSae(d, 16, 0.15, 5, write);
        const p = 5;
        const ids = IDS.slice(0, p + 1);
        const a = await attribute(model, tc, read, TEXT, { position: p, upTo: false });
        const xIn = (await lm.activations([Int32Array.from(ids)], [read])).get(read)![0];
        const enc = tc.inference.encode(xIn);
        const prediction = tc.inference.decode(enc, xIn);
        const clean = lastRow(fixture.referenceForward(ids).logits, V);
        const t = a.target.id;
        const direct = (replace: (x: Float64Array) => Float64Array) => clean[t] - lastRow(fixture.referenceForward(ids, { site: write, replace }).logits, V)[t];
        const features = a.rows.filter((r) => r.kind === 'feature');
        assert.ok(features.length >= 2);
        for (const r of features) {
          const j = r.feature!;
          const want = direct((x) => x.map((v, i) => (Math.floor(i / d) === p ? v - r.activation * tc.inference.wDec[j * d + (i % d)] : v)));
          assert.ok(Math.abs(r.here!.logit - want) < 2e-4, `feature ${j}: ${r.here!.logit} vs ${want}`);
        }
        const error = a.rows.find((r) => r.kind === 'error')!;
        const want = direct((x) => x.map((v, i) => (Math.floor(i / d) === p ? prediction.data[i] : v)));
        assert.ok(Math.abs(error.here!.logit - want) < 2e-4, `error term: ${error.here!.logit} vs ${want}`);
        const same = await generateSideBySide(model, tc, read, TEXT, { maxNewTokens: 3, interventions: [], sampling: GREEDY });
        assert.deepEqual(same.steered.ids, Array.from(await lm.generate(Int32Array.from(IDS), 3)));
      } finally {
        await lm.dispose();
      }
    } finally {
      tmp.cleanup();
    }
  });
});

describe('the cut on a Llama-style test model (rotary tensors cross it)', () => {
  test('variants in one batch equal separate splices', async () => {
    const tmp = tempDir();
    try {
      const fixture = buildLlama();
      tmp.write('model.onnx', fixture.bytes);
      const lm = await loadModel(tmp.path('model.onnx'), { cacheDir: tmp.path('cache'), intraOpThreads: 1 });
      try {
        const ids = Int32Array.from([3, 17, 42, 5, 88, 1, 0, 64]);
        for (const site of ['blocks.0.hook_resid_mid', 'blocks.1.hook_mlp_out']) {
          const cut = await lm.cutAtSite(ids, site);
          const variants: Matrix[] = [cut.acts, matrix(cut.acts.rows, cut.acts.cols, cut.acts.data.map((v, i) => v * Math.cos(i)))];
          const got = await cut.lastLogits(variants);
          const V = got[0].length;
          const ref = fixture.referenceForward(ids).logits;
          assert.ok(maxAbsDiff(got[0], ref.subarray(ref.length - V)) < 1e-4, site);
          const spliced = (await lm.spliced([ids], site, () => variants[1])).logits[0];
          assert.ok(maxAbsDiff(got[1], spliced.data.subarray((spliced.rows - 1) * V)) < 1e-5, site);
        }
      } finally {
        await lm.dispose();
      }
    } finally {
      tmp.cleanup();
    }
  });
});
