// One-site activations come from the graph cut at the site (no later layers, no logits): they must equal
// what the full hooked graph gives. The dense layer (ONNX GEMM) must equal a plain matrix product.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createDenseLayer, loadModel, type OnnxLanguageModel } from '../../../../src/core/runtime';
import { BUNDLED_MODEL, tempDir, type TempDir } from '../../../fixtures/tempModel';

let tmp: TempDir;
let lm: OnnxLanguageModel;
before(async () => {
  tmp = tempDir();
  lm = await loadModel(BUNDLED_MODEL, { cacheDir: tmp.path('cache') });
});
after(async () => {
  await lm?.dispose();
  tmp?.cleanup();
});

test('activations of one site (graph prefix) equal those of the full hooked graph', async () => {
  const ids = lm.tokenizer!.encode('The cat sat on the mat, and then it slept.').ids;
  const sites = ['blocks.0.hook_resid_pre', 'blocks.1.hook_mlp_out', 'blocks.3.hook_resid_post'];
  const all = await lm.activations([ids, ids.subarray(0, 5)], [...sites, 'blocks.2.hook_attn_out']);
  for (const site of sites) {
    const alone = await lm.activations([ids, ids.subarray(0, 5)], [site]);
    for (let b = 0; b < 2; b++) {
      const got = alone.get(site)![b];
      const want = all.get(site)![b];
      assert.equal(got.rows, want.rows);
      let diff = 0;
      for (let i = 0; i < got.data.length; i++) diff = Math.max(diff, Math.abs(got.data[i] - want.data[i]));
      assert.ok(diff < 1e-4, `${site} sequence ${b}: max diff ${diff}`);
    }
  }
});

test('a dense layer computes x·W + b, also for a view into a larger buffer', async () => {
  const [n, k, m] = [5, 3, 4];
  const w = Float32Array.from({ length: k * m }, (_, i) => (i % 7) - 3);
  const b = Float32Array.from({ length: m }, (_, i) => i / 2);
  const backing = Float32Array.from({ length: 2 + n * k }, (_, i) => i * 0.25 - 1);
  const x = { data: backing.subarray(2), rows: n, cols: k };
  const layer = await createDenseLayer({ data: w, rows: k, cols: m }, b);
  try {
    const y = await layer.apply(x);
    assert.equal(y.rows, n);
    assert.equal(y.cols, m);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < m; j++) {
        let s = b[j];
        for (let p = 0; p < k; p++) s += x.data[i * k + p] * w[p * m + j];
        assert.ok(Math.abs(y.data[i * m + j] - s) < 1e-5, `[${i},${j}] ${y.data[i * m + j]} vs ${s}`);
      }
    }
    assert.equal((await layer.apply({ data: new Float32Array(0), rows: 0, cols: k })).rows, 0);
    await assert.rejects(layer.apply({ data: new Float32Array(2), rows: 1, cols: 2 }), /input width 2, expected 3/);
  } finally {
    await layer.dispose();
  }
});
