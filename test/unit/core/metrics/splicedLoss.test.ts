// Spliced ΔLM loss on the Llama-style test model: identity reconstruction → ΔLM 0, loss recovered 1, KL 0;
// zero reconstruction → CE equals zero-ablation, loss recovered 0; a noisy reconstruction sits in between.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { splicedLoss } from '../../../../src/core/metrics/splicedLoss';
import { loadModel, meanCrossEntropy, type OnnxLanguageModel } from '../../../../src/core/runtime';
import { tokenCrossEntropy } from '../../../../src/core/runtime/loss';
import { matrix } from '../../../../src/core/tensor';
import { rng } from '../../../fixtures/onnxBuilder';
import { buildLlama } from '../../../fixtures/llamaModel';
import { BUNDLED_MODEL, tempDir, type TempDir } from '../../../fixtures/tempModel';

describe('splicedLoss', () => {
  let tmp: TempDir;
  let lm: OnnxLanguageModel;
  const r = rng(9);
  const seqs = [10, 17, 5, 24, 1, 12].map((n) => Int32Array.from({ length: n }, () => Math.floor(r() * 96)));
  const site = 'blocks.1.hook_resid_mid';

  before(async () => {
    tmp = tempDir();
    tmp.write('model.onnx', buildLlama().bytes);
    lm = await loadModel(tmp.path('model.onnx'), { cacheDir: tmp.path('cache'), intraOpThreads: 1 });
  });
  after(async () => {
    await lm?.dispose();
    tmp.cleanup();
  });

  test('identity reconstruction: ΔLM 0, loss recovered 1, KL 0', async () => {
    const res = await splicedLoss(lm, seqs, site, (a) => a, { batchSize: 4 });
    assert.equal(res.sequences, 5); // the 1-token sequence predicts nothing
    assert.equal(res.predictedTokens, 9 + 16 + 4 + 23 + 11);
    assert.ok(Math.abs(res.deltaLoss) < 1e-5, `ΔLM ${res.deltaLoss}`);
    assert.ok(Math.abs(res.lossRecovered - 1) < 1e-4, `recovered ${res.lossRecovered}`);
    assert.ok(res.klCleanSpliced < 1e-6);
    const scored = seqs.filter((s) => s.length > 1);
    assert.ok(Math.abs(res.ceClean - meanCrossEntropy(await lm.logits(scored), scored)) < 1e-9);
  });

  test('zero reconstruction equals zero-ablation: loss recovered 0', async () => {
    const res = await splicedLoss(lm, seqs, site, (a) => matrix(a.rows, a.cols));
    assert.ok(Math.abs(res.ceSpliced - res.ceZero) < 1e-9);
    assert.ok(Math.abs(res.lossRecovered) < 1e-6);
    assert.ok(Math.abs(res.deltaLoss) > 1e-3, 'zeroing the residual stream changed nothing');
    assert.ok(res.klCleanSpliced > 0.001);
  });

  test('on the bundled (trained) model, zero-ablation hurts and a noisy reconstruction lands in between', async () => {
    const bundled = await loadModel(BUNDLED_MODEL, { cacheDir: tmp.path('cache'), intraOpThreads: 1 });
    try {
      const texts = ['The cat sat on the mat and looked at the door.', 'function add(a, b) {\n  return a + b;\n}', 'It was the best of times, it was the worst of times.'];
      const ids = texts.map((t) => bundled.tokenizer!.encode(t).ids);
      const resid = 'blocks.2.hook_resid_pre';
      const zero = await splicedLoss(bundled, ids, resid, (a) => matrix(a.rows, a.cols));
      assert.ok(zero.deltaLoss > 0.1, `zero-ablation ΔLM ${zero.deltaLoss}`);
      const noise = rng(2);
      const scale = 0.3;
      const noisy = await splicedLoss(bundled, ids, resid, (a) => matrix(a.rows, a.cols, a.data.map((v) => v * (1 + (noise() - 0.5) * scale))));
      assert.ok(noisy.deltaLoss > 0 && noisy.deltaLoss < zero.deltaLoss, `noisy ΔLM ${noisy.deltaLoss} vs zero ${zero.deltaLoss}`);
      assert.ok(noisy.lossRecovered > 0 && noisy.lossRecovered < 1, `recovered ${noisy.lossRecovered}`);
      assert.ok(noisy.klCleanSpliced > 0 && noisy.klCleanSpliced < zero.klCleanSpliced);
    } finally {
      await bundled.dispose();
    }
  });

  test('keepLeading: the first position is neither spliced nor ablated, and its prediction is not scored', async () => {
    const seen: number[] = [];
    const res = await splicedLoss(
      lm,
      seqs,
      site,
      (a) => {
        seen.push(a.rows);
        return matrix(a.rows, a.cols);
      },
      { keepLeading: 1, batchSize: 4 },
    );
    const scored = seqs.filter((s) => s.length >= 3);
    assert.equal(res.sequences, scored.length);
    assert.deepEqual(seen, scored.map((s) => s.length - 1));
    assert.equal(res.predictedTokens, scored.reduce((n, s) => n + s.length - 2, 0));
    let clean = 0;
    for (const [i, l] of (await lm.logits(scored)).entries()) for (const v of tokenCrossEntropy(l, scored[i]).subarray(1)) clean += v;
    assert.ok(Math.abs(res.ceClean - clean / res.predictedTokens) < 1e-9);
    assert.ok(Math.abs(res.ceSpliced - res.ceZero) < 1e-9, 'zeros after position 0 are the zero-ablation');
    const keptFirst = await lm.spliced(scored, site, (a) => matrix(a.rows, a.cols, a.data.map((v, i) => (i < a.cols ? v : 0))));
    let zero = 0;
    for (const [i, l] of keptFirst.logits.entries()) for (const v of tokenCrossEntropy(l, scored[i]).subarray(1)) zero += v;
    assert.ok(Math.abs(res.ceZero - zero / res.predictedTokens) < 1e-9);
  });

  test('a reconstruction of the wrong shape and an input with nothing to predict are errors', async () => {
    await assert.rejects(splicedLoss(lm, seqs, site, (a) => matrix(a.rows, a.cols + 1)), /reconstruction at blocks\.1\.hook_resid_mid is \d+×33/);
    await assert.rejects(splicedLoss(lm, [Int32Array.of(3)], site, (a) => a), /nothing is predicted/);
  });
});
