// JumpReLU SAE (Rajamanoharan et al. 2024b): f = pre ⊙ H(pre − θ), θ learned per latent with
// rectangle-kernel straight-through pseudo-derivatives (bandwidth ε) in both the JumpReLU and the L0 step.
import { SparseBuilder, withValues, type Matrix, type SparseRows } from '../tensor';
import { activeAbove, rowTopK } from './activations';
import { mustGet, tensor, type LossOptions, type LossResult, type ModelContext } from './model';
import { AFFINE_PARAMS, SaeBase, affineGrads, type AffineInit } from './saeBase';
import type { SaeConfig, SaeWeights } from './weights';

export type ThresholdParametrisation = 'log' | 'raw';
/** 'l0': λ·L0 (the paper). 'targetL0': coeff·(L0/L0_target − 1)² (dictionary_learning's remedy). */
export type JumpReluSparsity = { kind: 'l0' } | { kind: 'targetL0'; targetL0: number };

export interface JumpReluOptions {
  /** The paper trains log θ (its pseudo-code and the anchor both do); 'raw' lets θ move at lr per step. */
  readonly thresholdParam: ThresholdParametrisation;
  readonly sparsity: JumpReluSparsity;
}

const WARMUP_EMA = 0.05;

export class JumpReluSae extends SaeBase {
  readonly unitNormDecoder = true;

  constructor(
    config: SaeConfig,
    ctx: ModelContext,
    init: AffineInit & { readonly threshold: Float32Array },
    readonly options: JumpReluOptions,
  ) {
    super(config, ctx);
    this.setAffineParams(init);
    if (options.thresholdParam === 'log') this.params.set('log_threshold', init.threshold.map(Math.log));
    else this.params.set('threshold', init.threshold);
    // TopK warm start: [EMA of the smallest selected activation per latent, selected yet (0/1)].
    this.buffers.set('warmup_min_kept', new Float32Array(2 * config.dSae));
  }

  /** θ as used in the forward pass. */
  threshold(): Float32Array {
    return this.options.thresholdParam === 'log'
      ? mustGet(this.params, 'log_threshold').map(Math.exp)
      : mustGet(this.params, 'threshold');
  }

  preActivations(x: Matrix): { xin: Matrix; pre: Matrix } {
    return this.encoderPre(x, mustGet(this.params, 'b_enc'));
  }

  encode(x: Matrix): SparseRows {
    const { pre } = this.preActivations(x);
    return activeAbove(pre, this.threshold());
  }

  lossAndGrads(x: Matrix, options: LossOptions): LossResult {
    if (options.topKWarmup !== undefined) return this.topKWarmupLoss(x, options.topKWarmup);
    const { dSae } = this;
    const eps = options.bandwidth ?? 0.001;
    const half = eps / 2;
    const B = x.rows;
    const theta = this.threshold();
    const { xin, pre } = this.preActivations(x);

    // One pass builds both the active set and the STE window |pre − θ| < ε/2 (they overlap).
    const features = new SparseBuilder(B, dSae);
    const touched = new SparseBuilder(B, dSae);
    const windowCount = new Float64Array(dSae);
    let activeTotal = 0;
    for (let r = 0; r < B; r++) {
      const base = r * dSae;
      for (let j = 0; j < dSae; j++) {
        const p = pre.data[base + j];
        const u = p - theta[j];
        const active = u > 0;
        const inWindow = u > -half && u < half;
        if (active) {
          features.push(j, p);
          activeTotal++;
        }
        if (active || inWindow) touched.push(j, p);
        if (inWindow) windowCount[j]++;
      }
      features.endRow();
      touched.endRow();
    }
    const feats = features.finish();
    const touch = touched.finish();
    const l0 = activeTotal / B;

    const { xHat, mse, dXHat } = this.reconstructionLoss(feats, x);
    const df = this.featureGrads(touch, dXHat); // at every active or near-threshold entry

    const gTheta = new Float64Array(dSae);
    const dPreVals = new Float32Array(touch.colIdx.length);
    for (let e = 0; e < touch.colIdx.length; e++) {
      const j = touch.colIdx[e];
      const u = touch.values[e] - theta[j];
      if (u > 0) dPreVals[e] = df[e]; // ∂f/∂pre = H(pre − θ)
      if (u > -half && u < half) gTheta[j] -= (theta[j] / eps) * df[e]; // JumpReLU STE: −(θ/ε)K((pre−θ)/ε)·g
    }

    // Sparsity term: its gradient reaches θ only, through the L0 step's STE −(1/ε)K((pre−θ)/ε).
    let sparsityLoss: number;
    let dSdL0: number;
    if (this.options.sparsity.kind === 'l0') {
      sparsityLoss = options.sparsityCoeff * l0;
      dSdL0 = options.sparsityCoeff;
    } else {
      const t = this.options.sparsity.targetL0;
      const rel = l0 / t - 1;
      sparsityLoss = options.sparsityCoeff * rel * rel;
      dSdL0 = (2 * options.sparsityCoeff * rel) / t;
    }
    for (let j = 0; j < dSae; j++) gTheta[j] += dSdL0 * (-(1 / eps) * windowCount[j]) / B;

    const grads = affineGrads(this.sharedGrads(feats, dXHat, withValues(touch, dPreVals), xin));
    if (this.options.thresholdParam === 'log') {
      grads.set('log_threshold', Float32Array.from(gTheta, (g, j) => g * theta[j])); // dθ/dlogθ = θ
    } else {
      grads.set('threshold', Float32Array.from(gTheta));
    }
    return {
      loss: mse + sparsityLoss,
      mse,
      sparsityLoss,
      auxLoss: 0,
      l0,
      features: feats,
      reconstruction: xHat,
      grads,
    };
  }

  /**
   * TopK phase of the warm start: TopK's per-token competition finds the dictionary much faster than
   * independent thresholds do (bench/synthetic-recovery.ts), and its selections tell each latent where
   * its threshold should start. Gradients as TopK; θ untouched.
   */
  private topKWarmupLoss(x: Matrix, k: number): LossResult {
    const { dSae } = this;
    const B = x.rows;
    const { xin, pre } = this.preActivations(x);
    const feats = rowTopK(pre, k, undefined);
    const { xHat, mse, dXHat } = this.reconstructionLoss(feats, x);
    const dPre = withValues(feats, this.featureGrads(feats, dXHat));
    const grads = affineGrads(this.sharedGrads(feats, dXHat, dPre, xin));
    grads.set(this.options.thresholdParam === 'log' ? 'log_threshold' : 'threshold', new Float32Array(dSae));
    // Per latent: EMA over batches of the smallest activation it was selected with.
    const batchMin = new Float32Array(dSae).fill(Number.POSITIVE_INFINITY);
    for (let e = 0; e < feats.colIdx.length; e++) {
      const j = feats.colIdx[e];
      if (feats.values[e] < batchMin[j]) batchMin[j] = feats.values[e];
    }
    const buf = mustGet(this.buffers, 'warmup_min_kept');
    for (let j = 0; j < dSae; j++) {
      if (!Number.isFinite(batchMin[j])) continue;
      buf[j] = buf[dSae + j] === 0 ? batchMin[j] : (1 - WARMUP_EMA) * buf[j] + WARMUP_EMA * batchMin[j];
      buf[dSae + j] = 1;
    }
    return { loss: mse, mse, sparsityLoss: 0, auxLoss: 0, l0: feats.colIdx.length / B, features: feats, reconstruction: xHat, grads };
  }

  /** End of the warm start: θ_j = the smallest activation latent j was recently selected with (kept if never selected). */
  thresholdFromWarmup(): void {
    const buf = this.buffers.get('warmup_min_kept');
    if (!buf) return;
    const dSae = this.dSae;
    const log = this.params.get('log_threshold');
    const raw = this.params.get('threshold');
    for (let j = 0; j < dSae; j++) {
      if (buf[dSae + j] === 0 || !(buf[j] > 0)) continue;
      if (log) log[j] = Math.log(buf[j]);
      else if (raw) raw[j] = buf[j];
    }
  }

  project(): void {
    // θ > 0 in the paper; a raw θ could step below zero, which would turn the latent into a plain ReLU-less pass.
    if (this.options.thresholdParam === 'raw') {
      const t = mustGet(this.params, 'threshold');
      for (let j = 0; j < t.length; j++) if (t[j] < 0) t[j] = 0;
    }
  }

  toWeights(): SaeWeights {
    const tensors = this.storedTensors(AFFINE_PARAMS);
    tensors.set('threshold', tensor([this.dSae], this.threshold().slice()));
    return { config: { ...this.config, architecture: 'jumprelu' }, tensors };
  }
}
