// Hand-written gradients of every architecture against central finite differences of an independent
// float64 forward loss (test/unit/core/sae/reference64.ts). STE parameters (θ) are checked separately.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSae, type SaeSpec } from '../../../../src/core/sae/create';
import type { LossOptions, SaeModel } from '../../../../src/core/sae/model';
import { Rng } from '../../../../src/core/util/rng';
import { blendLosses } from '../../../../src/core/train/trainer';
import { gatedLoss, jumpReluLoss, reluLoss, topKLoss, type P, type Shape } from './reference64';

const B = 6;
const dIn = 5;
const dSae = 8;
const H = 1e-5;

function setup(spec: Omit<SaeSpec, 'dIn' | 'dSae'>, seed: number): { model: SaeModel; x: Float32Array } {
  const rng = new Rng(seed);
  const model = createSae({ ...spec, dIn, dSae }, rng);
  // Move every parameter off its symmetric init so all gradient paths are exercised.
  for (const [name, p] of model.params) {
    if (name === 'threshold' || name === 'log_threshold') continue;
    for (let i = 0; i < p.length; i++) p[i] += (name.startsWith('W') ? 0.3 : 0.2) * rng.normal();
  }
  const x = Float32Array.from({ length: B * dIn }, () => rng.normal() + 0.3);
  return { model, x };
}

function toP(model: SaeModel, extra: Record<string, Float32Array> = {}): P {
  const out: P = {};
  for (const [k, v] of model.params) out[k] = Float64Array.from(v);
  for (const [k, v] of Object.entries(extra)) out[k] = Float64Array.from(v);
  return out;
}

/** Max relative error of the analytic gradient over all coordinates of `names`; counts skipped crossings. */
function check(
  model: SaeModel,
  x: Float32Array,
  opts: LossOptions,
  names: string[],
  ref: (p: P) => { loss: number; pattern: string },
  extra: Record<string, Float32Array> = {},
): { maxErr: number; checked: number; skipped: number; lossDiff: number } {
  const res = model.lossAndGrads({ data: x, rows: B, cols: dIn }, opts);
  const p = toP(model, extra);
  const base = ref(p);
  let maxErr = 0;
  let checked = 0;
  let skipped = 0;
  for (const name of names) {
    const g = res.grads.get(name);
    assert.ok(g, `gradient for ${name}`);
    for (let i = 0; i < p[name].length; i++) {
      const orig = p[name][i];
      p[name][i] = orig + H;
      const plus = ref(p);
      p[name][i] = orig - H;
      const minus = ref(p);
      p[name][i] = orig;
      if (plus.pattern !== base.pattern || minus.pattern !== base.pattern) {
        skipped++;
        continue;
      }
      const fd = (plus.loss - minus.loss) / (2 * H);
      const err = Math.abs(fd - g[i]) / Math.max(1e-2, Math.abs(fd), Math.abs(g[i]));
      maxErr = Math.max(maxErr, err);
      checked++;
    }
  }
  return { maxErr, checked, skipped, lossDiff: Math.abs(res.loss - base.loss) / Math.max(1, Math.abs(base.loss)) };
}

function shape(subtract: boolean): Shape {
  return { B, dIn, dSae, subtractBDec: subtract };
}

const TOL = 2e-3;
const report: string[] = [];
const deadMask = Uint8Array.from({ length: dSae }, (_, j) => (j % 3 === 0 ? 1 : 0));

for (const subtract of [false, true]) {
  for (const target of [undefined, 3]) {
    test(`JumpReLU gradients (b_dec subtracted: ${subtract}, ${target ? 'target-L0' : 'λ·L0'} loss)`, () => {
      const { model, x } = setup(
        {
          architecture: 'jumprelu',
          applyBDecToInput: subtract,
          jumpRelu: { thresholdParam: 'raw', sparsity: target ? { kind: 'targetL0', targetL0: target } : { kind: 'l0' }, thresholdInit: 0.4 },
        },
        11,
      );
      const opts = { sparsityCoeff: 0.3, bandwidth: 0.001 };
      const r = check(model, x, opts, ['W_enc', 'W_dec', 'b_enc', 'b_dec'], (p) =>
        jumpReluLoss(p, Float64Array.from(x), shape(subtract), { coeff: 0.3, targetL0: target }),
      );
      report.push(`jumprelu sub=${subtract} target=${target}: max rel err ${r.maxErr.toExponential(2)} over ${r.checked}`);
      assert.ok(r.checked > 80, `checked ${r.checked}`);
      assert.ok(r.lossDiff < 1e-5, `loss differs by ${r.lossDiff}`);
      assert.ok(r.maxErr < TOL, `max relative error ${r.maxErr}`);
    });
  }
}

test('ReLU + decoder-norm-weighted L1 gradients', () => {
  const { model, x } = setup({ architecture: 'relu', applyBDecToInput: true }, 12);
  const r = check(model, x, { sparsityCoeff: 0.2 }, ['W_enc', 'W_dec', 'b_enc', 'b_dec'], (p) =>
    reluLoss(p, Float64Array.from(x), shape(true), 0.2),
  );
  report.push(`relu: max rel err ${r.maxErr.toExponential(2)} over ${r.checked}`);
  assert.ok(r.checked > 80);
  assert.ok(r.lossDiff < 1e-5, `loss differs by ${r.lossDiff}`);
  assert.ok(r.maxErr < TOL, `max relative error ${r.maxErr}`);
});

test('Gated gradients (weight sharing via r_mag, aux loss through a frozen decoder)', () => {
  const { model, x } = setup({ architecture: 'gated', applyBDecToInput: true }, 13);
  const frozen = { W_dec: Float64Array.from(model.params.get('W_dec') ?? []), b_dec: Float64Array.from(model.params.get('b_dec') ?? []) };
  const r = check(model, x, { sparsityCoeff: 0.15 }, ['W_enc', 'W_dec', 'b_gate', 'b_mag', 'r_mag', 'b_dec'], (p) =>
    gatedLoss(p, frozen, Float64Array.from(x), shape(true), 0.15),
  );
  report.push(`gated: max rel err ${r.maxErr.toExponential(2)} over ${r.checked}`);
  assert.ok(r.checked > 80, `checked ${r.checked}`);
  assert.ok(r.lossDiff < 1e-5, `loss differs by ${r.lossDiff}`);
  assert.ok(r.maxErr < TOL, `max relative error ${r.maxErr}`);
});

for (const arch of ['topk', 'batchtopk'] as const) {
  test(`${arch} gradients with AuxK on dead latents (residual detached)`, () => {
    const { model, x } = setup({ architecture: arch, applyBDecToInput: true, k: 3, topK: { kAux: 2, auxCoeff: 0.5 } }, 14);
    const dead = deadMask;
    const xs = Float64Array.from(x);
    const residual = topKLoss(toP(model), xs, shape(true), { k: 3, batch: arch === 'batchtopk' }).residual;
    const r = check(model, x, { sparsityCoeff: 0, dead, training: false }, ['W_enc', 'W_dec', 'b_enc', 'b_dec'], (p) =>
      topKLoss(p, xs, shape(true), { k: 3, batch: arch === 'batchtopk', dead, kAux: 2, alpha: 0.5, residual }),
    );
    report.push(`${arch}: max rel err ${r.maxErr.toExponential(2)} over ${r.checked}`);
    assert.ok(r.checked > 80, `checked ${r.checked}`);
    assert.ok(r.lossDiff < 1e-5, `loss differs by ${r.lossDiff}`);
    assert.ok(r.maxErr < TOL, `max relative error ${r.maxErr}`);
  });
}

test('JumpReLU TopK warm-start gradients are TopK gradients; θ gets none', () => {
  const { model, x } = setup(
    { architecture: 'jumprelu', applyBDecToInput: true, jumpRelu: { thresholdParam: 'raw', sparsity: { kind: 'l0' }, thresholdInit: 0.4 } },
    15,
  );
  const xs = Float64Array.from(x);
  const r = check(model, x, { sparsityCoeff: 0.3, topKWarmup: 3 }, ['W_enc', 'W_dec', 'b_enc', 'b_dec'], (p) => topKLoss(p, xs, shape(true), { k: 3 }));
  report.push(`jumprelu topk warm start: max rel err ${r.maxErr.toExponential(2)} over ${r.checked}`);
  assert.ok(r.checked > 80, `checked ${r.checked}`);
  assert.ok(r.maxErr < TOL, `max relative error ${r.maxErr}`);
  // No θ gradient at all: the optimiser then leaves θ and its Adam step count alone.
  assert.equal(model.lossAndGrads({ data: x, rows: B, cols: dIn }, { sparsityCoeff: 0.3, topKWarmup: 3 }).grads.get('threshold'), undefined);
});


test('JumpReLU gradients with AuxK on dead latents and a frequency penalty (its value; θ is checked by hand)', () => {
  const jr = {
    thresholdParam: 'raw' as const,
    sparsity: { kind: 'targetL0' as const, targetL0: 3 },
    thresholdInit: 0.4,
    auxK: { kAux: 2, coeff: 0.5 },
    frequencyPenalty: { cap: 0.2, coeff: 0.7 },
  };
  const { model, x } = setup({ architecture: 'jumprelu', applyBDecToInput: true, jumpRelu: jr }, 16);
  const xs = Float64Array.from(x);
  const residual = jumpReluLoss(toP(model), xs, shape(true), { coeff: 0.3, targetL0: 3 }).residual;
  const r = check(model, x, { sparsityCoeff: 0.3, bandwidth: 0.001, dead: deadMask }, ['W_enc', 'W_dec', 'b_enc', 'b_dec'], (p) =>
    jumpReluLoss(p, xs, shape(true), { coeff: 0.3, targetL0: 3, freq: jr.frequencyPenalty, auxK: { dead: deadMask, kAux: 2, alpha: 0.5, residual } }),
  );
  report.push(`jumprelu + auxK + freq: max rel err ${r.maxErr.toExponential(2)} over ${r.checked}`);
  const res = model.lossAndGrads({ data: x, rows: B, cols: dIn }, { sparsityCoeff: 0.3, bandwidth: 0.001, dead: deadMask });
  assert.ok(res.auxLoss > 0, 'AuxK selected something');
  assert.ok(r.checked > 80, `checked ${r.checked}`);
  assert.ok(r.lossDiff < 1e-5, `loss differs by ${r.lossDiff}`);
  assert.ok(r.maxErr < TOL, `max relative error ${r.maxErr}`);
});

test('Anthropic JumpReLU gradients: tanh sparsity on f·‖d‖, free decoder norms, pre-activation loss on dead latents (incl. θ)', () => {
  const jr = {
    thresholdParam: 'raw' as const,
    sparsity: { kind: 'tanh' as const, scale: 4 },
    thresholdInit: 0.4,
    steToInput: true,
    unitNormDecoder: false,
    preActCoeff: 0.05,
  };
  const { model, x } = setup({ architecture: 'jumprelu', applyBDecToInput: true, jumpRelu: jr }, 17);
  const xs = Float64Array.from(x);
  // ε so small that no pre-activation lies in the STE window: the pseudo-derivatives (which finite
  // differences cannot see) vanish and every remaining term, θ's pre-activation-loss gradient included, is exact.
  const opts = { sparsityCoeff: 0.3, bandwidth: 1e-7, dead: deadMask };
  const r = check(model, x, opts, ['W_enc', 'W_dec', 'b_enc', 'b_dec', 'threshold'], (p) =>
    jumpReluLoss(p, xs, shape(true), { coeff: 0.3, tanhScale: 4, preAct: { coeff: 0.05, dead: deadMask } }),
  );
  report.push(`jumprelu anthropic: max rel err ${r.maxErr.toExponential(2)} over ${r.checked}`);
  const res = model.lossAndGrads({ data: x, rows: B, cols: dIn }, opts);
  assert.ok(res.sparsityLoss > 0 && res.auxLoss > 0, `tanh ${res.sparsityLoss}, pre-act ${res.auxLoss}`);
  assert.ok(r.checked > 90, `checked ${r.checked}`);
  assert.ok(r.lossDiff < 1e-5, `loss differs by ${r.lossDiff}`);
  assert.ok(r.maxErr < TOL, `max relative error ${r.maxErr}`);
});

test('Gated gradients with AuxK on dead latents through π_gate', () => {
  const { model, x } = setup({ architecture: 'gated', applyBDecToInput: true, gated: { auxK: { kAux: 2, coeff: 0.5 } } }, 18);
  const frozen = { W_dec: Float64Array.from(model.params.get('W_dec') ?? []), b_dec: Float64Array.from(model.params.get('b_dec') ?? []) };
  const xs = Float64Array.from(x);
  const residual = gatedLoss(toP(model), frozen, xs, shape(true), 0.15).residual;
  const r = check(model, x, { sparsityCoeff: 0.15, dead: deadMask }, ['W_enc', 'W_dec', 'b_gate', 'b_mag', 'r_mag', 'b_dec'], (p) =>
    gatedLoss(p, frozen, xs, shape(true), 0.15, { dead: deadMask, kAux: 2, alpha: 0.5, residual }),
  );
  report.push(`gated + auxK: max rel err ${r.maxErr.toExponential(2)} over ${r.checked}`);
  assert.ok(r.checked > 80, `checked ${r.checked}`);
  assert.ok(r.lossDiff < 1e-5, `loss differs by ${r.lossDiff}`);
  assert.ok(r.maxErr < TOL, `max relative error ${r.maxErr}`);
});

test('Matryoshka BatchTopK gradients: summed prefix losses, AuxK', () => {
  const widths = [2, 5, 8];
  const { model, x } = setup({ architecture: 'batchtopk', applyBDecToInput: true, k: 3, topK: { kAux: 2, auxCoeff: 0.5, matryoshkaWidths: widths } }, 19);
  const xs = Float64Array.from(x);
  const residual = topKLoss(toP(model), xs, shape(true), { k: 3, batch: true }).residual;
  const r = check(model, x, { sparsityCoeff: 0, dead: deadMask, training: false }, ['W_enc', 'W_dec', 'b_enc', 'b_dec'], (p) =>
    topKLoss(p, xs, shape(true), { k: 3, batch: true, dead: deadMask, kAux: 2, alpha: 0.5, residual, widths }),
  );
  report.push(`matryoshka: max rel err ${r.maxErr.toExponential(2)} over ${r.checked}`);
  assert.ok(r.checked > 80, `checked ${r.checked}`);
  assert.ok(r.lossDiff < 1e-5, `loss differs by ${r.lossDiff}`);
  assert.ok(r.maxErr < TOL, `max relative error ${r.maxErr}`);
});

test('Matryoshka BatchTopK gradients: weighted levels, AuxK over raw (signed) dead pre-activations', () => {
  const widths = [2, 5, 8];
  const weights = [0.25, 0.5, 1];
  const { model, x } = setup(
    { architecture: 'batchtopk', applyBDecToInput: true, k: 3, topK: { kAux: 2, auxCoeff: 0.5, matryoshkaWidths: widths, matryoshkaWeights: weights, auxKSelection: 'signed' } },
    20,
  );
  // Push every dead latent's pre-activations below zero: signed AuxK must still reach them.
  const bEnc = model.params.get('b_enc');
  assert.ok(bEnc);
  for (let j = 0; j < dSae; j++) if (deadMask[j]) bEnc[j] -= 20;
  const xs = Float64Array.from(x);
  const residual = topKLoss(toP(model), xs, shape(true), { k: 3, batch: true }).residual;
  const r = check(model, x, { sparsityCoeff: 0, dead: deadMask, training: false }, ['W_enc', 'W_dec', 'b_enc', 'b_dec'], (p) =>
    topKLoss(p, xs, shape(true), { k: 3, batch: true, dead: deadMask, kAux: 2, alpha: 0.5, residual, widths, weights, signedAux: true }),
  );
  report.push(`matryoshka weighted + signed AuxK: max rel err ${r.maxErr.toExponential(2)} over ${r.checked}`);
  assert.ok(r.checked > 80, `checked ${r.checked}`);
  assert.ok(r.lossDiff < 1e-5, `loss differs by ${r.lossDiff}`);
  assert.ok(r.maxErr < TOL, `max relative error ${r.maxErr}`);
  const deadGrad = (m: SaeModel): number => {
    const g = m.lossAndGrads({ data: x, rows: B, cols: dIn }, { sparsityCoeff: 0, dead: deadMask, training: false }).grads.get('b_enc');
    assert.ok(g);
    return g.reduce((sum, v, j) => sum + (deadMask[j] ? Math.abs(v) : 0), 0);
  };
  assert.ok(deadGrad(model) > 0, 'dead latents with only negative pre-activations get an AuxK gradient');
  // The ReLU'd selection gives them nothing: nothing could ever revive them.
  const positive = setup({ architecture: 'batchtopk', applyBDecToInput: true, k: 3, topK: { kAux: 2, auxCoeff: 0.5, matryoshkaWidths: widths } }, 20).model;
  for (const [name, v] of model.params) positive.params.get(name)?.set(v);
  assert.equal(deadGrad(positive), 0);
});

for (const selection of ['signed', 'positive'] as const) {
  test(`Matryoshka BatchTopK gradients: per-level ${selection} AuxK (each group against its level's residual), α damped by min(n_dead/k_aux, 1)`, () => {
    const widths = [2, 5, 8];
    // k_aux 4 with one dead latent per group (0, 3, 6): each per-level term is damped to 1/4, the full one to 3/4.
    const topK = { kAux: 4, auxCoeff: 0.5, matryoshkaWidths: widths, auxKSelection: selection };
    const { model, x } = setup({ architecture: 'batchtopk', applyBDecToInput: true, k: 3, topK: { ...topK, auxKDeadScale: true, matryoshkaAuxK: 'perLevel' } }, 24);
    const bEnc = model.params.get('b_enc');
    assert.ok(bEnc);
    // Signed: every dead latent's pre-activations below zero (AuxK must still reach them). Positive: lifted
    // so that the ReLU'd pick has positive values to take.
    for (let j = 0; j < dSae; j++) if (deadMask[j]) bEnc[j] += selection === 'signed' ? -20 : 1;
    const xs = Float64Array.from(x);
    const levelResiduals = topKLoss(toP(model), xs, shape(true), { k: 3, batch: true, widths }).levelResiduals;
    const opts = { sparsityCoeff: 0, dead: deadMask, training: false };
    const r = check(model, x, opts, ['W_enc', 'W_dec', 'b_enc', 'b_dec'], (p) =>
      topKLoss(p, xs, shape(true), {
        k: 3, batch: true, dead: deadMask, kAux: 4, alpha: 0.5, widths, signedAux: selection === 'signed', deadScale: true, perLevelAux: true, levelResiduals,
      }),
    );
    report.push(`matryoshka per-level ${selection} AuxK, damped: max rel err ${r.maxErr.toExponential(2)} over ${r.checked}`);
    assert.ok(r.checked > 80, `checked ${r.checked}`);
    assert.ok(r.lossDiff < 1e-5, `loss differs by ${r.lossDiff}`);
    assert.ok(r.maxErr < TOL, `max relative error ${r.maxErr}`);
    // The damping is exactly min(n_dead/k_aux, 1): 3 dead of k_aux 4 scale the full-residual term by 3/4.
    const auxOf = (extra: object): number => {
      const m = setup({ architecture: 'batchtopk', applyBDecToInput: true, k: 3, topK: { ...topK, ...extra } }, 24).model;
      for (const [name, v] of model.params) m.params.get(name)?.set(v);
      return m.lossAndGrads({ data: x, rows: B, cols: dIn }, opts).auxLoss;
    };
    const full = auxOf({});
    assert.ok(full > 0);
    assert.ok(Math.abs(auxOf({ auxKDeadScale: true }) - 0.75 * full) <= 1e-6 * full);
    // Per level, each group's dead latent reconstructs its own level's residual: a different term from the full one.
    const perLevel = auxOf({ matryoshkaAuxK: 'perLevel' });
    assert.ok(Math.abs(auxOf({ matryoshkaAuxK: 'perLevel', auxKDeadScale: true }) - 0.25 * perLevel) <= 1e-6 * perLevel);
    assert.ok(Math.abs(perLevel - full) > 1e-3 * full);
  });
}

test('JumpReLU gradual switch: (1 − α)·TopK loss + α·JumpReLU loss, both gradients mixed (α 0.3)', () => {
  const { model, x } = setup(
    { architecture: 'jumprelu', applyBDecToInput: true, jumpRelu: { thresholdParam: 'raw', sparsity: { kind: 'targetL0', targetL0: 3 }, thresholdInit: 0.4 } },
    17,
  );
  const xs = Float64Array.from(x);
  const alpha = 0.3;
  const blended = {
    params: model.params,
    lossAndGrads: (xm: Parameters<SaeModel['lossAndGrads']>[0], o: LossOptions) =>
      blendLosses(model.lossAndGrads(xm, { ...o, topKWarmup: 3, training: false }), model.lossAndGrads(xm, o), alpha),
  } as unknown as SaeModel;
  const r = check(blended, x, { sparsityCoeff: 0.3, bandwidth: 0.001 }, ['W_enc', 'W_dec', 'b_enc', 'b_dec'], (p) => {
    const a = topKLoss(p, xs, shape(true), { k: 3 });
    const b = jumpReluLoss(p, xs, shape(true), { coeff: 0.3, targetL0: 3 });
    return { loss: (1 - alpha) * a.loss + alpha * b.loss, pattern: `${a.pattern}|${b.pattern}` };
  });
  report.push(`jumprelu blended switch: max rel err ${r.maxErr.toExponential(2)} over ${r.checked}`);
  assert.ok(r.checked > 80, `checked ${r.checked}`);
  assert.ok(r.lossDiff < 1e-5, `loss differs by ${r.lossDiff}`);
  assert.ok(r.maxErr < TOL, `max relative error ${r.maxErr}`);
  // θ only has JumpReLU's (straight-through) gradient, scaled by α; TopK's side has none.
  const jr = model.lossAndGrads({ data: x, rows: B, cols: dIn }, { sparsityCoeff: 0.3, bandwidth: 0.001 }).grads.get('threshold');
  const mixed = blended.lossAndGrads({ data: x, rows: B, cols: dIn }, { sparsityCoeff: 0.3, bandwidth: 0.001 }).grads.get('threshold');
  assert.ok(jr && mixed);
  for (let j = 0; j < dSae; j++) assert.ok(Math.abs(mixed[j] - alpha * jr[j]) <= 1e-6 * Math.max(1, Math.abs(jr[j])), `θ_${j}`);
});

// Signed AuxK (SAELens's pick) outside Matryoshka: dead latents whose pre-activations (π_gate for Gated) are
// all far below zero still get a gradient, matching finite differences; the ReLU'd pick gives them none.
/** Σ |gradient| over the dead latents' entries of a per-latent parameter. */
function deadGradient(model: SaeModel, x: Float32Array, opts: LossOptions, param: string): number {
  const g = model.lossAndGrads({ data: x, rows: B, cols: dIn }, opts).grads.get(param);
  assert.ok(g, `gradient for ${param}`);
  return g.reduce((sum, v, j) => sum + (deadMask[j] ? Math.abs(v) : 0), 0);
}

/** The same model under the other selection (same parameters). */
function withSelection(model: SaeModel, spec: Omit<SaeSpec, 'dIn' | 'dSae'>, seed: number): SaeModel {
  const other = setup(spec, seed).model;
  for (const [name, v] of model.params) other.params.get(name)?.set(v);
  return other;
}

function starveDead(model: SaeModel, param: string): void {
  const b = model.params.get(param);
  assert.ok(b);
  for (let j = 0; j < dSae; j++) if (deadMask[j]) b[j] -= 20;
}

test('TopK gradients with signed AuxK: starved dead latents get a gradient (none under the ReLU\'d pick)', () => {
  const spec = (selection: 'positive' | 'signed') => ({ architecture: 'topk' as const, applyBDecToInput: true, k: 3, topK: { kAux: 2, auxCoeff: 0.5, auxKSelection: selection } });
  const { model, x } = setup(spec('signed'), 21);
  starveDead(model, 'b_enc');
  const xs = Float64Array.from(x);
  const residual = topKLoss(toP(model), xs, shape(true), { k: 3 }).residual;
  const opts = { sparsityCoeff: 0, dead: deadMask, training: false };
  const r = check(model, x, opts, ['W_enc', 'W_dec', 'b_enc', 'b_dec'], (p) =>
    topKLoss(p, xs, shape(true), { k: 3, dead: deadMask, kAux: 2, alpha: 0.5, residual, signedAux: true }),
  );
  report.push(`topk + signed AuxK: max rel err ${r.maxErr.toExponential(2)} over ${r.checked}`);
  assert.ok(r.checked > 80, `checked ${r.checked}`);
  assert.ok(r.lossDiff < 1e-5, `loss differs by ${r.lossDiff}`);
  assert.ok(r.maxErr < TOL, `max relative error ${r.maxErr}`);
  assert.ok(deadGradient(model, x, opts, 'b_enc') > 0, 'signed: starved dead latents get a gradient');
  assert.equal(deadGradient(withSelection(model, spec('positive'), 21), x, opts, 'b_enc'), 0);
});

test('JumpReLU TopK warm start with signed AuxK: starved dead latents get a gradient (none under the ReLU\'d pick)', () => {
  const spec = (selection: 'positive' | 'signed') => ({
    architecture: 'jumprelu' as const,
    applyBDecToInput: true,
    jumpRelu: { thresholdParam: 'raw' as const, sparsity: { kind: 'l0' as const }, thresholdInit: 0.4, auxK: { kAux: 2, coeff: 0.5, selection } },
  });
  const { model, x } = setup(spec('signed'), 22);
  starveDead(model, 'b_enc');
  const xs = Float64Array.from(x);
  const residual = topKLoss(toP(model), xs, shape(true), { k: 3 }).residual;
  const opts = { sparsityCoeff: 0.3, topKWarmup: 3, dead: deadMask, training: false };
  const r = check(model, x, opts, ['W_enc', 'W_dec', 'b_enc', 'b_dec'], (p) =>
    topKLoss(p, xs, shape(true), { k: 3, dead: deadMask, kAux: 2, alpha: 0.5, residual, signedAux: true }),
  );
  report.push(`jumprelu warm start + signed AuxK: max rel err ${r.maxErr.toExponential(2)} over ${r.checked}`);
  assert.ok(r.checked > 80, `checked ${r.checked}`);
  assert.ok(r.lossDiff < 1e-5, `loss differs by ${r.lossDiff}`);
  assert.ok(r.maxErr < TOL, `max relative error ${r.maxErr}`);
  assert.ok(deadGradient(model, x, opts, 'b_enc') > 0, 'signed: starved dead latents get a gradient');
  assert.equal(deadGradient(withSelection(model, spec('positive'), 22), x, opts, 'b_enc'), 0);
});

test('JumpReLU gradients with signed AuxK after the warm start: starved dead latents get a gradient (none under the ReLU\'d pick)', () => {
  const spec = (selection: 'positive' | 'signed') => ({
    architecture: 'jumprelu' as const,
    applyBDecToInput: true,
    jumpRelu: { thresholdParam: 'raw' as const, sparsity: { kind: 'targetL0' as const, targetL0: 3 }, thresholdInit: 0.4, auxK: { kAux: 2, coeff: 0.5, selection } },
  });
  const { model, x } = setup(spec('signed'), 23);
  starveDead(model, 'b_enc');
  const xs = Float64Array.from(x);
  const residual = jumpReluLoss(toP(model), xs, shape(true), { coeff: 0.3, targetL0: 3 }).residual;
  const opts = { sparsityCoeff: 0.3, bandwidth: 0.001, dead: deadMask, training: false };
  const r = check(model, x, opts, ['W_enc', 'W_dec', 'b_enc', 'b_dec'], (p) =>
    jumpReluLoss(p, xs, shape(true), { coeff: 0.3, targetL0: 3, auxK: { dead: deadMask, kAux: 2, alpha: 0.5, residual, signed: true } }),
  );
  report.push(`jumprelu + signed AuxK: max rel err ${r.maxErr.toExponential(2)} over ${r.checked}`);
  assert.ok(r.checked > 80, `checked ${r.checked}`);
  assert.ok(r.lossDiff < 1e-5, `loss differs by ${r.lossDiff}`);
  assert.ok(r.maxErr < TOL, `max relative error ${r.maxErr}`);
  assert.ok(deadGradient(model, x, opts, 'b_enc') > 0, 'signed: starved dead latents get a gradient');
  assert.equal(deadGradient(withSelection(model, spec('positive'), 23), x, opts, 'b_enc'), 0);
});

test('Gated gradients with signed AuxK through π_gate: starved dead gates get a gradient (none under the ReLU\'d pick)', () => {
  const spec = (selection: 'positive' | 'signed') => ({ architecture: 'gated' as const, applyBDecToInput: true, gated: { auxK: { kAux: 2, coeff: 0.5, selection } } });
  const { model, x } = setup(spec('signed'), 24);
  starveDead(model, 'b_gate');
  const frozen = { W_dec: Float64Array.from(model.params.get('W_dec') ?? []), b_dec: Float64Array.from(model.params.get('b_dec') ?? []) };
  const xs = Float64Array.from(x);
  const residual = gatedLoss(toP(model), frozen, xs, shape(true), 0.15).residual;
  const opts = { sparsityCoeff: 0.15, dead: deadMask, training: false };
  const r = check(model, x, opts, ['W_enc', 'W_dec', 'b_gate', 'b_mag', 'r_mag', 'b_dec'], (p) =>
    gatedLoss(p, frozen, xs, shape(true), 0.15, { dead: deadMask, kAux: 2, alpha: 0.5, residual, signed: true }),
  );
  report.push(`gated + signed AuxK: max rel err ${r.maxErr.toExponential(2)} over ${r.checked}`);
  assert.ok(r.checked > 80, `checked ${r.checked}`);
  assert.ok(r.lossDiff < 1e-5, `loss differs by ${r.lossDiff}`);
  assert.ok(r.maxErr < TOL, `max relative error ${r.maxErr}`);
  // The sparsity term's λ/B reaches every open gate; starved dead gates are all shut, so only AuxK moves them.
  assert.ok(deadGradient(model, x, opts, 'b_gate') > 0, 'signed: starved dead gates get a gradient');
  assert.equal(deadGradient(withSelection(model, spec('positive'), 24), x, opts, 'b_gate'), 0);
});

test('report', () => {
  console.log(report.join('\n'));
  assert.ok(report.length > 0);
});
