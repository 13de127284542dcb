// Interventions and attribution on the bundled model and SAE: the batched cut against the runtime's own
// splice (a separate code path), and the invariances that must hold exactly.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { attribute, logSoftmaxAt } from '../../../../src/core/analysis/attribution';
import { defaultLoaders } from '../../../../src/core/analysis/defaultLoaders';
import { intervene, type Intervention } from '../../../../src/core/analysis/interventions';
import { AnalysisSession } from '../../../../src/core/analysis/session';
import type { Matrix } from '../../../../src/core/tensor';
import { maxAbsDiff } from '../../../fixtures/reference';
import { tempDir, type TempDir } from '../../../fixtures/tempModel';

const ROOT = join(__dirname, '..', '..', '..', '..');
const TEXT = 'It was a bright cold day in April, and the clocks were striking thirteen. The dog';

describe('steering and attribution on the bundled model and SAE', () => {
  let tmp: TempDir;
  let session: AnalysisSession;

  before(async () => {
    tmp = tempDir();
    session = await AnalysisSession.open({}, ROOT, defaultLoaders({ cacheDir: tmp.path('cache'), intraOpThreads: 1 }));
  });
  after(async () => {
    await session?.dispose();
    tmp?.cleanup();
  });

  test('no interventions, or every feature set to its own value, reproduce the model', async () => {
    const { model, site } = session;
    const sae = session.requireSae();
    const ids = model.tokenize(TEXT).ids;
    const cut = await model.cutAtSite(ids, site);
    const enc = await sae.encode(cut.acts);
    const own: Intervention[] = [];
    for (let t = 0; t < enc.features.rows; t++) {
      for (let e = enc.features.rowPtr[t]; e < enc.features.rowPtr[t + 1]; e++) {
        own.push({ feature: enc.features.colIdx[e], op: { kind: 'scale', factor: 1 }, positions: { kind: 'all' } });
      }
    }
    assert.ok(own.length > ids.length, 'features fire');
    assert.deepEqual(intervene(cut.acts, enc, sae.inference, []).data, cut.acts.data);
    assert.deepEqual(intervene(cut.acts, enc, sae.inference, own).data, cut.acts.data);
    const [viaCut] = await cut.lastLogits([intervene(cut.acts, enc, sae.inference, own)]);
    const plain = await model.lastLogits(ids);
    assert.ok(maxAbsDiff(viaCut, plain) < 1e-4, `cut vs plain forward: ${maxAbsDiff(viaCut, plain)}`);
  });

  test('attribution rows (features and error term) equal single splices through the runtime', async () => {
    const { model, site } = session;
    const sae = session.requireSae();
    const ids = model.tokenize(TEXT).ids;
    const p = ids.length - 1;
    const a = await attribute(model, sae, site, TEXT, { position: p });
    const target = a.target.id;
    const x = (await model.cutAtSite(ids, site)).acts;
    const enc = await sae.encode(x);
    const clean = await model.lastLogits(ids);
    const spliced = async (edit: Matrix) => {
      const l = await model.lastLogits(ids, undefined, { site, edit: () => edit });
      return { logit: clean[target] - l[target], logProb: logSoftmaxAt(clean, target) - logSoftmaxAt(l, target) };
    };
    const check = (got: { logit: number; logProb: number } | undefined, want: { logit: number; logProb: number }, what: string) => {
      assert.ok(got);
      assert.ok(Math.abs(got.logit - want.logit) < 1e-3 && Math.abs(got.logProb - want.logProb) < 1e-3, `${what}: ${JSON.stringify(got)} vs ${JSON.stringify(want)}`);
    };
    const features = a.rows.filter((r) => r.kind === 'feature');
    assert.equal(features.length, enc.features.rowPtr[p + 1] - enc.features.rowPtr[p], 'one row per feature active at the position');
    for (const r of features.slice(0, 4)) {
      check(r.here, await spliced(intervene(x, enc, sae.inference, [{ feature: r.feature!, op: { kind: 'zero' }, positions: { kind: 'range', start: p, end: p + 1 } }])), `#${r.feature}`);
    }
    const recon = sae.inference.decode(enc, x);
    const noError = Float32Array.from(x.data);
    noError.set(recon.data.subarray(p * x.cols), p * x.cols);
    check(a.rows.find((r) => r.kind === 'error')?.here, await spliced({ data: noError, rows: x.rows, cols: x.cols }), 'error term');
    const allHere = features.map((r) => ({ feature: r.feature!, op: { kind: 'zero' as const }, positions: { kind: 'range' as const, start: p, end: p + 1 } }));
    check(a.here.joint, await spliced(intervene(x, enc, sae.inference, allHere)), 'joint');
    assert.ok(Math.abs(a.here.sumOfSingles.logit - a.here.joint.logit) > 1e-4, 'interactions: the sum of single effects is not the joint effect');
  });

  test('bad requests are refused with a message', async () => {
    const { model, site } = session;
    const sae = session.requireSae();
    const n = model.tokenize(TEXT).ids.length;
    await assert.rejects(attribute(model, sae, site, TEXT, { position: n + 3 }), new RegExp(`position ${n + 3} is beyond the text: it has ${n} tokens`));
    await assert.rejects(attribute(model, sae, site, TEXT, { position: 0, target: { text: ' internationalisation' } }), /tokens .*: type a single token/);
  });
});
