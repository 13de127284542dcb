// JumpReLU θ gradients on a case small enough to work out by hand from the paper's pseudo-derivatives:
//   JumpReLU: ∂/∂θ = −(θ/ε)·K((pre−θ)/ε)·g     L0 step: ∂/∂θ = −(1/ε)·K((pre−θ)/ε)·g,  K = 1 on (−½, ½).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JumpReluSae, type JumpReluOptions } from '../../../../src/core/sae/jumprelu';
import { referenceBackend } from '../../../../src/core/tensor';

// W_enc = W_dec = I (2×2), biases 0, θ = (0.2, 0.1), ε = 0.002 (window |pre − θ| < 0.001), B = 2.
//   row 0: x = (0.5, 0.1005) → pre = x; latent 0 active (far from θ); latent 1 active and in the window.
//   row 1: x = (0.3, 0.0996) → latent 0 active; latent 1 inactive but in the window.
// f = [[0.5, 0.1005], [0.3, 0]] → x̂ = f → residual x̂ − x = [[0, 0], [0, −0.0996]].
// g = ∂L_mse/∂f = W_dec·2(x̂ − x)/B = [[0, 0], [0, −0.0996]].
// JumpReLU term for θ₁: −(θ₁/ε)·Σ_window g = −(0.1/0.002)·(0 − 0.0996) = +4.98.   θ₀: no window entries → 0.
// λ·L0 term (λ = 0.5): λ·(1/B)·(−1/ε)·#window = 0.5·0.5·(−500)·2 = −250.        → ∂L/∂θ₁ = −245.02.
// Target-L0 term (coeff 2, target 1): L0 = 3/2, ∂S/∂L0 = 2·2·(1.5 − 1)/1 = 2 → 2·(1/2)·(−500)·2 = −1000
//                                                                                  → ∂L/∂θ₁ = −995.02.
const x = { data: Float32Array.of(0.5, 0.1005, 0.3, 0.0996), rows: 2, cols: 2 };

function model(options: JumpReluOptions): JumpReluSae {
  return new JumpReluSae(
    { architecture: 'jumprelu', dIn: 2, dSae: 2, applyBDecToInput: false },
    { backend: referenceBackend },
    {
      wEnc: Float32Array.of(1, 0, 0, 1),
      wDec: Float32Array.of(1, 0, 0, 1),
      bEnc: new Float32Array(2),
      bDec: new Float32Array(2),
      threshold: Float32Array.of(0.2, 0.1),
    },
    options,
  );
}

function close(actual: number, expected: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= 1e-3 * Math.max(1, Math.abs(expected)), `${what}: ${actual} vs ${expected}`);
}

test('raw θ with the paper λ·L0 loss', () => {
  const m = model({ thresholdParam: 'raw', sparsity: { kind: 'l0' } });
  const r = m.lossAndGrads(x, { sparsityCoeff: 0.5, bandwidth: 0.002 });
  const g = r.grads.get('threshold');
  assert.ok(g);
  close(g[0], 0, 'θ₀');
  close(g[1], 4.98 - 250, 'θ₁');
  close(r.l0, 1.5, 'L0');
  close(r.mse, 0.0996 ** 2 / 2, 'mse');
});

test('reconstruction term alone (λ = 0) is the JumpReLU pseudo-derivative', () => {
  const g = model({ thresholdParam: 'raw', sparsity: { kind: 'l0' } }).lossAndGrads(x, { sparsityCoeff: 0, bandwidth: 0.002 }).grads.get('threshold');
  assert.ok(g);
  close(g[1], 4.98, 'θ₁');
});

test('log θ: the gradient is θ·∂L/∂θ', () => {
  const g = model({ thresholdParam: 'log', sparsity: { kind: 'l0' } })
    .lossAndGrads(x, { sparsityCoeff: 0.5, bandwidth: 0.002 })
    .grads.get('log_threshold');
  assert.ok(g);
  close(g[1], 0.1 * (4.98 - 250), 'logθ₁');
  close(g[0], 0, 'logθ₀');
});

test('target-L0 loss coeff·(L0/target − 1)²', () => {
  const r = model({ thresholdParam: 'raw', sparsity: { kind: 'targetL0', targetL0: 1 } }).lossAndGrads(x, {
    sparsityCoeff: 2,
    bandwidth: 0.002,
  });
  const g = r.grads.get('threshold');
  assert.ok(g);
  close(g[1], 4.98 - 1000, 'θ₁');
  close(r.sparsityLoss, 2 * 0.25, 'sparsity loss');
});

test('a narrower window sees no entry: θ gets no gradient', () => {
  const g = model({ thresholdParam: 'raw', sparsity: { kind: 'l0' } }).lossAndGrads(x, { sparsityCoeff: 0.5, bandwidth: 0.0005 }).grads.get('threshold');
  assert.ok(g);
  close(g[1], 0, 'θ₁');
});

// Frequency penalty β·Σ max(0, p_i − cap)² with cap 0.25, β 2: latent 0 fires on 2/2 rows (p 1), latent 1
// on 1/2 (p 0.5). Loss 2·(0.75² + 0.25²) = 1.25. Per-entry step gradient for latent 1: 2β·0.25/B = 0.5,
// through the L0 step's STE over its 2 window entries: −(1/ε)·0.5·2 = −500 (latent 0 has no window entry).
test('frequency penalty: value, and θ gradient through the L0 step pseudo-derivative', () => {
  const r = model({ thresholdParam: 'raw', sparsity: { kind: 'l0' }, frequencyPenalty: { cap: 0.25, coeff: 2 } }).lossAndGrads(x, {
    sparsityCoeff: 0,
    bandwidth: 0.002,
  });
  const g = r.grads.get('threshold');
  assert.ok(g);
  close(r.sparsityLoss, 1.25, 'penalty');
  close(g[0], 0, 'θ₀');
  close(g[1], 4.98 - 500, 'θ₁');
});

// STE into the pre-activations (Anthropic): each window entry also sends +(θ/ε)·g (JumpReLU) and
// +(1/ε)·∂S/∂step (L0 step) to its pre-activation, hence to b_enc. With λ·L0, λ 0.5: b_enc₁ gets
// the active entry's ordinary gradient 0 (row 0's g is 0) plus the window terms: row 0: (0.1/0.002)·0 +
// 500·0.25 = 125; row 1: (0.1/0.002)·(−0.0996) + 125 = 120.02 → 245.02 = −∂L/∂θ₁.
test('STE into the pre-activations mirrors θ’s pseudo-derivatives', () => {
  const r = model({ thresholdParam: 'raw', sparsity: { kind: 'l0' }, steToInput: true }).lossAndGrads(x, { sparsityCoeff: 0.5, bandwidth: 0.002 });
  const gb = r.grads.get('b_enc');
  const gt = r.grads.get('threshold');
  assert.ok(gb && gt);
  close(gt[1], 4.98 - 250, 'θ₁');
  close(gb[1], 245.02, 'b_enc₁');
});

// The same penalty during a TopK warm start (k 1): latent 0 is selected on both rows (p 1 > cap 0.25), so
// with duringWarmup its b_enc gets 2β·(1 − 0.25) = 3 more gradient and the loss 2·0.75² = 1.125 more;
// latent 1 (never selected) and θ are untouched; without duringWarmup nothing changes.
test('frequency penalty during the TopK warm start pushes an over-selected latent down through b_enc', () => {
  const opts = { sparsityCoeff: 0, bandwidth: 0.002, topKWarmup: 1 };
  const plain = model({ thresholdParam: 'raw', sparsity: { kind: 'l0' } }).lossAndGrads(x, opts);
  const off = model({ thresholdParam: 'raw', sparsity: { kind: 'l0' }, frequencyPenalty: { cap: 0.25, coeff: 2 } }).lossAndGrads(x, opts);
  const on = model({ thresholdParam: 'raw', sparsity: { kind: 'l0' }, frequencyPenalty: { cap: 0.25, coeff: 2, duringWarmup: true } }).lossAndGrads(x, opts);
  const gb = (r: typeof plain) => r.grads.get('b_enc') ?? assert.fail('no b_enc gradient');
  close(gb(off)[0], gb(plain)[0], 'b_enc₀ without duringWarmup');
  close(gb(on)[0], gb(plain)[0] + 3, 'b_enc₀');
  close(gb(on)[1], gb(plain)[1], 'b_enc₁');
  close(on.loss, plain.loss + 1.125, 'loss');
  assert.equal(on.grads.get('threshold'), undefined, 'θ has no gradient in the warm start');
});

// With exempt 1 the batch's most frequent latent above the cap (latent 0, p 1) goes unpenalised: only latent 1
// (p 0.5) pays, 2·0.25² = 0.125, and θ₀ still gets no gradient; in the warm start b_enc₀ is left as without
// a penalty.
test('frequency penalty: the batch’s most frequent latents can be exempt', () => {
  const r = model({ thresholdParam: 'raw', sparsity: { kind: 'l0' }, frequencyPenalty: { cap: 0.25, coeff: 2, exempt: 1 } }).lossAndGrads(x, {
    sparsityCoeff: 0,
    bandwidth: 0.002,
  });
  close(r.sparsityLoss, 0.125, 'penalty on latent 1 only');
  const opts = { sparsityCoeff: 0, bandwidth: 0.002, topKWarmup: 1 };
  const plain = model({ thresholdParam: 'raw', sparsity: { kind: 'l0' } }).lossAndGrads(x, opts);
  const warm = model({ thresholdParam: 'raw', sparsity: { kind: 'l0' }, frequencyPenalty: { cap: 0.25, coeff: 2, duringWarmup: true, exempt: 1 } }).lossAndGrads(x, opts);
  const gb = (r: typeof plain) => r.grads.get('b_enc') ?? assert.fail('no b_enc gradient');
  close(gb(warm)[0], gb(plain)[0], 'b_enc₀ exempt in the warm start');
  close(warm.loss, plain.loss, 'no penalty in the warm start');
});
