// Exported weights read raw activations: folding C back (src/core/sae/fold.ts) must give C× the features and C× the
// reconstruction the trained model gives on x/C, for every architecture.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSae, saeFromWeights } from '../../../../src/core/sae/create';
import { foldInputScale } from '../../../../src/core/sae/fold';
import { sparseToDense } from '../../../../src/core/tensor';
import type { SaeArchitecture } from '../../../../src/core/sae/weights';
import { Rng } from '../../../../src/core/util/rng';

const dIn = 6;
const dSae = 12;
const C = 3.7;

for (const arch of ['jumprelu', 'gated', 'topk', 'batchtopk', 'relu'] as SaeArchitecture[]) {
  for (const subtract of [true, false]) {
    test(`${arch} (b_dec subtracted: ${subtract}): folded weights on x equal C × model on x/C`, () => {
      const rng = new Rng(21);
      const model = createSae(
        {
          architecture: arch,
          dIn,
          dSae,
          applyBDecToInput: subtract,
          k: 3,
          jumpRelu: { thresholdParam: 'raw', sparsity: { kind: 'l0' }, thresholdInit: 0.2 },
        },
        rng,
      );
      for (const p of model.params.values()) for (let i = 0; i < p.length; i++) p[i] += 0.1 * rng.normal();
      const x = { data: Float32Array.from({ length: 10 * dIn }, () => C * (rng.normal() + 0.5)), rows: 10, cols: dIn };
      const xs = { ...x, data: x.data.map((v) => v / C) };
      if (arch === 'batchtopk') model.lossAndGrads(xs, { sparsityCoeff: 0, training: true }); // sets the global threshold
      const expectF = sparseToDense(model.encode(xs)).data.map((v) => v * C);
      const expectR = model.forward(xs).reconstruction.data.map((v) => v * C);
      const folded = foldInputScale(model.toWeights(), C);
      assert.equal(folded.config.applyBDecToInput, false);
      assert.equal(folded.config.inputScale, undefined);
      const raw = saeFromWeights(folded);
      const gotF = sparseToDense(raw.encode(x)).data;
      const gotR = raw.forward(x).reconstruction.data;
      let active = 0;
      for (let i = 0; i < gotF.length; i++) {
        assert.ok(Math.abs(gotF[i] - expectF[i]) < 1e-4 * C, `feature ${i}: ${gotF[i]} vs ${expectF[i]}`);
        if (gotF[i] > 0) active++;
      }
      assert.ok(active > 0);
      for (let i = 0; i < gotR.length; i++) assert.ok(Math.abs(gotR[i] - expectR[i]) < 1e-4 * C, `recon ${i}`);
      // An unfolded inputScale in the config means the same thing.
      const unfolded = saeFromWeights({ ...model.toWeights(), config: { ...model.toWeights().config, inputScale: C } });
      const viaScale = unfolded.forward(x).reconstruction.data;
      for (let i = 0; i < viaScale.length; i++) assert.ok(Math.abs(viaScale[i] - expectR[i]) < 1e-4 * C);
    });
  }
}

test('BatchTopK exports as a JumpReLU with one uniform threshold', () => {
  const rng = new Rng(2);
  const model = createSae({ architecture: 'batchtopk', dIn, dSae, applyBDecToInput: true, k: 2 }, rng);
  const x = { data: Float32Array.from({ length: 20 * dIn }, () => rng.normal()), rows: 20, cols: dIn };
  model.lossAndGrads(x, { sparsityCoeff: 0, training: true });
  const w = model.toWeights();
  assert.equal(w.config.architecture, 'jumprelu');
  const t = w.tensors.get('threshold');
  assert.ok(t && t.data.every((v) => v === t.data[0] && v > 0));
});

test('encoding one token gives the same features as that row of a batch', () => {
  const rng = new Rng(4);
  for (const arch of ['jumprelu', 'topk', 'gated', 'relu'] as SaeArchitecture[]) {
    const model = createSae({ architecture: arch, dIn, dSae, applyBDecToInput: true, k: 4, jumpRelu: { thresholdParam: 'raw', sparsity: { kind: 'l0' }, thresholdInit: 0.1 } }, rng);
    const x = { data: Float32Array.from({ length: 5 * dIn }, () => rng.normal()), rows: 5, cols: dIn };
    const batch = sparseToDense(model.encode(x));
    for (let r = 0; r < 5; r++) {
      const one = sparseToDense(model.encode({ data: x.data.slice(r * dIn, (r + 1) * dIn), rows: 1, cols: dIn }));
      assert.deepEqual(Array.from(one.data), Array.from(batch.data.subarray(r * dSae, (r + 1) * dSae)), `${arch} row ${r}`);
    }
  }
});

test('weights with absurd or inconsistent sizes are refused before allocating', () => {
  const rng = new Rng(1);
  const w = createSae({ architecture: 'relu', dIn, dSae, applyBDecToInput: false }, rng).toWeights();
  assert.throws(() => saeFromWeights({ ...w, config: { ...w.config, dSae: 1e9 } }), /too large/);
  assert.throws(() => saeFromWeights({ ...w, config: { ...w.config, dSae: dSae + 1 } }), /values, expected/);
  assert.throws(() => saeFromWeights({ ...w, config: { ...w.config, dIn: -1 } }), /positive integer/);
});
