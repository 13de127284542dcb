// JumpReLU SAE (Rajamanoharan et al. 2024b): f = pre ⊙ H(pre − θ), θ learned per latent with
// rectangle-kernel straight-through pseudo-derivatives (bandwidth ε) in both the JumpReLU and the L0 step.
// Optional terms, each named in the recipe that uses it (src/core/train/presets.ts):
// - sparsity 'l0' (the paper), 'targetL0' (coeff·(L0/T − 1)², dictionary_learning), 'tanh' (Anthropic 2025:
//   Σ tanh(c·f_i·‖d_i‖));
// - STE into the pre-activations (Anthropic: the pseudo-derivatives also reach the encoder);
// - AuxK on dead latents (auxK.ts), Anthropic's pre-activation loss on dead latents;
// - a firing-frequency penalty: β·Σ_i max(0, p_i − p_cap)² on each latent's firing rate p_i in the batch,
//   through the L0 step's pseudo-derivative, so latents that fire on too many tokens raise their θ.
import { SparseBuilder, withValues, type Matrix, type SparseRows } from '../tensor';
import { batchTopK, batchTopKFromEncoder } from './activations';
import { auxKActive, auxKLoss, deadLatentTopK, type AuxKOptions } from './auxK';
import { mustGet, rowNorms, tensor, type LossOptions, type LossResult, type ModelContext } from './model';
import { AFFINE_PARAMS, SaeBase, affineGrads, columnsWhere, type AffineInit } from './saeBase';
import type { SaeConfig, SaeWeights } from './weights';

export type ThresholdParametrisation = 'log' | 'raw';
/** How θ is set at the TopK → JumpReLU switch (thresholdFromWarmup). */
export type SwitchThresholdRule = 'quantile' | 'topkAgreement';
export type JumpReluSparsity =
  | { kind: 'l0' }
  | { kind: 'targetL0'; targetL0: number }
  /** Anthropic (Jan 2025): λ·Σ_i tanh(scale·f_i·‖d_i‖) per token. */
  | { kind: 'tanh'; scale: number };

export interface JumpReluOptions {
  /** The paper trains log θ (its pseudo-code and the anchor both do); 'raw' lets θ move at lr per step. */
  readonly thresholdParam: ThresholdParametrisation;
  readonly sparsity: JumpReluSparsity;
  /** Pass the pseudo-derivatives to the pre-activations too (SAELens jumprelu_ste_to_input). */
  readonly steToInput?: boolean;
  /** Decoder rows kept at unit norm (default true); Anthropic's recipe leaves them free. */
  readonly unitNormDecoder?: boolean;
  readonly auxK?: AuxKOptions;
  /** α of α·Σ_i dead_i·ReLU(θ_i − pre_i)·‖d_i‖ per token (SAELens pre_act_loss_coefficient). */
  readonly preActCoeff?: number;
  /**
   * β·Σ_i max(0, p_i − cap)², p_i = latent i's firing rate in the batch. duringWarmup: also in the TopK
   * warm start, there through b_enc (∂p_i/∂b_enc_i taken as 1), so TopK does not grow dense latents
   * that the thresholds would have to cut after the switch.
   */
  readonly frequencyPenalty?: { readonly cap: number; readonly coeff: number; readonly duringWarmup?: boolean; readonly exempt?: number };
}

export class JumpReluSae extends SaeBase {
  readonly unitNormDecoder: boolean;

  constructor(
    config: SaeConfig,
    ctx: ModelContext,
    init: AffineInit & { readonly threshold: Float32Array },
    readonly options: JumpReluOptions,
  ) {
    super(config, ctx);
    this.unitNormDecoder = options.unitNormDecoder ?? true;
    this.setAffineParams(init);
    if (options.thresholdParam === 'log') this.params.set('log_threshold', init.threshold.map(Math.log));
    else this.params.set('threshold', init.threshold);
    // TopK warm start: EMA of each latent's selection rate (sets its θ at the switch); last entry = batches seen.
    this.buffers.set('warmup_rate', new Float32Array(config.dSae + 1));
  }

  get thresholdName(): string {
    return this.options.thresholdParam === 'log' ? 'log_threshold' : 'threshold';
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
    return this.encoderAbove(this.encoderInput(x), mustGet(this.params, 'b_enc'), this.threshold());
  }

  lossAndGrads(x: Matrix, options: LossOptions): LossResult {
    if (options.topKWarmup !== undefined) return this.topKWarmupLoss(x, options.topKWarmup, options);
    const o = this.options;
    const { dIn, dSae } = this;
    const eps = options.bandwidth ?? 0.001;
    const half = eps / 2;
    const B = x.rows;
    const theta = this.threshold();
    const xin = this.encoderInput(x);
    const bEnc = mustGet(this.params, 'b_enc');
    const wDec = mustGet(this.params, 'W_dec');
    const norms = this.unitNormDecoder ? undefined : rowNorms(wDec, dSae, dIn);
    const normOf = (j: number): number => (norms ? norms[j] : 1);
    const preActCoeff = o.preActCoeff ?? 0;
    const dead = options.dead;
    const preActOn = preActCoeff > 0 && !!dead && dead.some((v) => v !== 0);
    const auxOn = auxKActive(dead, o.auxK);
    // Only entries with pre > θ − ε/2 (active or in the STE window) take part, so the engine returns just
    // those and the dense [B × d_sae] pre-activations never exist. The pre-activation loss and AuxK also
    // read every row of the dead latents: one GEMM over those columns only.
    const deadCols = (preActOn || auxOn) && dead ? columnsWhere(dead) : new Int32Array(0);
    const deadPre = deadCols.length > 0 ? this.columnPre(xin, bEnc, deadCols) : undefined;
    const cand = this.encoderAbove(xin, bEnc, windowFloor(theta, half));
    const nDead = preActOn ? deadCols.length : 0; // dead latents whose every row is visited

    // One pass: active entries (features), entries whose f has a gradient (active or in the STE window
    // |pre − θ| < ε/2), and the dPre pattern (those plus dead latents below θ for the pre-activation loss).
    // Sized for every candidate up front (no regrowth while filling; finish() trims).
    const capacity = cand.colIdx.length + nDead * B;
    const features = new SparseBuilder(B, dSae, cand.colIdx.length);
    const touched = new SparseBuilder(B, dSae, capacity);
    const pattern = new SparseBuilder(B, dSae, capacity);
    let touchAt = new Int32Array(Math.max(16, cand.colIdx.length)); // pattern index of each touched entry
    let nTouched = 0;
    const windowCount = new Float64Array(dSae);
    const fireCount = new Float64Array(dSae);
    let activeTotal = 0;
    let preActLoss = 0;
    const preActGap = preActOn ? new Float64Array(dSae) : undefined; // Σ_b ReLU(θ − pre) per dead latent
    const preActRows = preActOn ? new Float64Array(dSae) : undefined; // rows with pre < θ per dead latent
    let nPattern = 0;
    const visit = (j: number, p: number): void => {
        const u = p - theta[j];
        const active = u > 0;
        const inWindow = u > -half && u < half;
        if (active) {
          features.push(j, p);
          activeTotal++;
          fireCount[j]++;
        }
        const below = preActOn && dead && dead[j] !== 0 && u < 0;
        if (active || inWindow) {
          touched.push(j, p);
          if (nTouched === touchAt.length) {
            const bigger = new Int32Array(2 * touchAt.length);
            bigger.set(touchAt);
            touchAt = bigger;
          }
          touchAt[nTouched++] = nPattern;
        }
        if (active || inWindow || below) {
          pattern.push(j, p);
          nPattern++;
        }
        if (inWindow) windowCount[j]++;
        if (below && preActGap && preActRows) {
          preActGap[j] -= u;
          preActRows[j]++;
        }
    };
    for (let r = 0; r < B; r++) {
      // Candidates (ascending latents) merged with the dead latents' full rows; a dead latent's value
      // comes from its own GEMM only, so each latent is visited at most once per row.
      let e = cand.rowPtr[r];
      const end = cand.rowPtr[r + 1];
      let t = 0;
      for (;;) {
        while (e < end && nDead > 0 && dead && dead[cand.colIdx[e]] !== 0) e++;
        const jc = e < end ? cand.colIdx[e] : dSae;
        const jd = t < nDead ? deadCols[t] : dSae;
        if (jc === dSae && jd === dSae) break;
        if (jd < jc) {
          visit(jd, (deadPre as Matrix).data[r * nDead + t]);
          t++;
        } else {
          visit(jc, cand.values[e]);
          e++;
        }
      }
      features.endRow();
      touched.endRow();
      pattern.endRow();
    }
    const feats = features.finish();
    const touch = touched.finish();
    const pat = pattern.finish();
    const l0 = activeTotal / B;

    const { xHat, mse, dXHat } = this.reconstructionLoss(feats, x);
    const df = this.featureGrads(touch, dXHat); // dL_mse/df at every touched entry

    // Sparsity through f (tanh): dL_s/df at touched entries (f = 0 in the window below θ) and dL_s/d‖d_j‖.
    let sparsityLoss = 0;
    const gNorm = new Float64Array(dSae);
    if (o.sparsity.kind === 'tanh') {
      const c = o.sparsity.scale;
      const lam = options.sparsityCoeff;
      for (let e = 0; e < touch.colIdx.length; e++) {
        const j = touch.colIdx[e];
        const f = touch.values[e] > theta[j] ? touch.values[e] : 0;
        const n = normOf(j);
        const t = Math.tanh(c * f * n);
        const sech2 = 1 - t * t;
        sparsityLoss += (lam * t) / B;
        df[e] += (lam * c * n * sech2) / B;
        gNorm[j] += (lam * c * f * sech2) / B;
      }
    }

    // Per-entry gradient of the L0 step (all terms that count firings), per latent.
    const stepGrad = new Float64Array(dSae);
    if (o.sparsity.kind === 'l0' || o.sparsity.kind === 'targetL0') {
      let dSdL0: number;
      if (o.sparsity.kind === 'l0') {
        sparsityLoss = options.sparsityCoeff * l0;
        dSdL0 = options.sparsityCoeff;
      } else {
        const t = o.sparsity.targetL0;
        const rel = l0 / t - 1;
        sparsityLoss = options.sparsityCoeff * rel * rel;
        dSdL0 = (2 * options.sparsityCoeff * rel) / t;
      }
      stepGrad.fill(dSdL0 / B);
    }
    const freqLoss = o.frequencyPenalty
      ? frequencyPenalty(fireCount, B, o.frequencyPenalty, (j, dp) => (stepGrad[j] += dp / B)) // dp_j/d(step_bj) = 1/B
      : 0;

    const gTheta = new Float64Array(dSae);
    const dPreVals = new Float32Array(pat.colIdx.length);
    for (let e = 0; e < touch.colIdx.length; e++) {
      const j = touch.colIdx[e];
      const u = touch.values[e] - theta[j];
      const at = touchAt[e];
      if (u > 0) dPreVals[at] = df[e]; // ∂f/∂pre = H(pre − θ)
      if (u > -half && u < half) {
        const jump = (theta[j] / eps) * df[e]; // JumpReLU STE: ∂f/∂θ = −(θ/ε)K
        const step = stepGrad[j] / eps; //         L0 step STE:  ∂H/∂θ = −(1/ε)K
        gTheta[j] -= jump + step;
        if (o.steToInput) dPreVals[at] += jump + step; // the same pseudo-derivatives with + sign into pre
      }
    }

    // Anthropic's pre-activation loss on dead latents: pulls pre up towards θ (and θ down).
    if (preActOn && preActGap && preActRows) {
      for (let e = 0; e < pat.colIdx.length; e++) {
        const j = pat.colIdx[e];
        if (dead?.[j] && pat.values[e] < theta[j]) dPreVals[e] -= (preActCoeff * normOf(j)) / B;
      }
      for (let j = 0; j < dSae; j++) {
        if (preActRows[j] === 0) continue;
        preActLoss += (preActCoeff * normOf(j) * preActGap[j]) / B;
        gTheta[j] += (preActCoeff * normOf(j) * preActRows[j]) / B;
        gNorm[j] += (preActCoeff * preActGap[j]) / B;
      }
    }

    const aux =
      auxOn && deadPre
        ? auxKLoss(this.ctx.backend, this.decoder(), deadLatentTopK(deadPre, deadCols, o.auxK?.kAux ?? 1, dSae, o.auxK?.selection), x, xHat, o.auxK?.coeff ?? 0, (at, d) =>
            this.featureGrads(at, d),
          )
        : { loss: 0 };

    const grads = affineGrads(this.sharedGrads(feats, dXHat, withValues(pat, dPreVals), xin, aux.grads));
    if (norms) {
      // ‖d_j‖ terms: ∂‖d_j‖/∂d_j = d_j/‖d_j‖.
      const gW = mustGet(grads, 'W_dec');
      for (let j = 0; j < dSae; j++) {
        if (gNorm[j] === 0 || norms[j] === 0) continue;
        const c = gNorm[j] / norms[j];
        for (let i = 0; i < dIn; i++) gW[j * dIn + i] += c * wDec[j * dIn + i];
      }
    }
    if (o.thresholdParam === 'log') {
      grads.set('log_threshold', Float32Array.from(gTheta, (g, j) => g * theta[j])); // dθ/dlogθ = θ
    } else {
      grads.set('threshold', Float32Array.from(gTheta));
    }
    return {
      loss: mse + sparsityLoss + freqLoss + preActLoss + aux.loss,
      mse,
      sparsityLoss: sparsityLoss + freqLoss,
      auxLoss: preActLoss + aux.loss,
      l0,
      features: feats,
      reconstruction: xHat,
      grads,
    };
  }

  /**
   * TopK phase of the warm start: TopK's per-token competition finds the dictionary much faster than
   * independent thresholds do (bench/synthetic-recovery.ts). Gradients as TopK (plus AuxK on dead latents
   * when the recipe has it); θ gets no gradient, so the optimiser leaves it and its Adam step count alone.
   * Records each latent's selection rate for thresholdFromWarmup.
   */
  private topKWarmupLoss(x: Matrix, k: number, options: LossOptions): LossResult {
    const { dSae } = this;
    const B = x.rows;
    const xin = this.encoderInput(x);
    const bEnc = mustGet(this.params, 'b_enc');
    const feats = options.batchWarmup
      ? batchTopKFromEncoder(this.ctx.backend, xin, this.encoderWeights(), bEnc, k).features
      : this.encoderTopK(xin, bEnc, k);
    const { xHat, mse, dXHat } = this.reconstructionLoss(feats, x);
    const dPre = withValues(feats, this.featureGrads(feats, dXHat));
    const aux = auxKActive(options.dead, this.options.auxK)
      ? auxKLoss(this.ctx.backend, this.decoder(), this.maskedTopK(xin, bEnc, this.options.auxK?.kAux ?? 1, options.dead, (sub, cols, k, width) => deadLatentTopK(sub, cols, k, width, this.options.auxK?.selection)), x, xHat, this.options.auxK?.coeff ?? 0, (at, d) =>
          this.featureGrads(at, d),
        )
      : { loss: 0 };
    const grads = affineGrads(this.sharedGrads(feats, dXHat, dPre, xin, aux.grads));
    const count = new Float64Array(dSae);
    for (let e = 0; e < feats.colIdx.length; e++) count[feats.colIdx[e]]++;
    const fp = this.options.frequencyPenalty;
    // A latent selected on more than `cap` of the rows has its b_enc pushed down until it is not.
    const gB = fp?.duringWarmup ? mustGet(grads, 'b_enc') : undefined;
    const freqLoss = fp && gB ? frequencyPenalty(count, B, fp, (j, dp) => (gB[j] += dp)) : 0;
    if (options.training !== false) {
      const rate = mustGet(this.buffers, 'warmup_rate');
      for (let j = 0; j < dSae; j++) rate[j] = (1 - WARMUP_RATE_EMA) * rate[j] + WARMUP_RATE_EMA * (count[j] / B);
      rate[dSae]++;
    }
    return { loss: mse + freqLoss + aux.loss, mse, sparsityLoss: freqLoss, auxLoss: aux.loss, l0: feats.colIdx.length / B, features: feats, reconstruction: xHat, grads };
  }

  /**
   * End of the warm start: θ_j = the (1 − r_j) quantile of latent j's pre-activations on `x`, r_j its recent
   * TopK selection rate, so each latent keeps firing about as often as TopK selected it (the EMA of the
   * smallest selected value used before was biased low: L0 jumped at the switch). A latent TopK never
   * selected gets its largest pre-activation on `x` (it stays silent; AuxK or the pre-activation loss can
   * revive it).
   */
  thresholdFromWarmup(x: Matrix, k: number, batch: boolean, rule: SwitchThresholdRule = 'quantile'): void {
    const { dSae } = this;
    if (!batch && rule === 'topkAgreement') {
      this.setThreshold(this.thresholdAgreeingWithTopK(x, k));
      return;
    }
    if (batch) {
      // BatchTopK warm start: its rule on this batch is a JumpReLU with θ = the smallest kept value for
      // every latent, so starting there changes nothing at the switch; each θ_j then moves on its own.
      // (Measured from the batch itself: the EMA of past minima lags while the encoder still changes.)
      const minKept = batchTopK(this.preActivations(x).pre, k).minKept;
      const theta = new Float32Array(dSae).fill(Math.max(1e-6, Number.isFinite(minKept) ? minKept : 1e-6));
      if (this.options.thresholdParam === 'log') mustGet(this.params, 'log_threshold').set(theta.map(Math.log));
      else mustGet(this.params, 'threshold').set(theta);
      return;
    }
    const rate = mustGet(this.buffers, 'warmup_rate');
    const debias = 1 - Math.pow(1 - WARMUP_RATE_EMA, rate[dSae]); // the EMA started at 0
    const { pre } = this.preActivations(x);
    const n = x.rows;
    const col = new Float32Array(n);
    const theta = new Float32Array(dSae);
    for (let j = 0; j < dSae; j++) {
      for (let r = 0; r < n; r++) col[r] = pre.data[r * dSae + j];
      col.sort();
      // Rows that should fire: r_j·n, interpolated between order statistics (no rounding of rare latents to 0).
      const pos = Math.min(n - 1, Math.max(0, n - 1 - (debias > 0 ? (rate[j] / debias) * n : 0)));
      const lo = Math.floor(pos);
      const hi = Math.min(n - 1, lo + 1);
      theta[j] = Math.max(1e-6, col[lo] + (pos - lo) * (col[hi] - col[lo]));
    }
    if (this.options.thresholdParam === 'log') mustGet(this.params, 'log_threshold').set(theta.map(Math.log));
    else mustGet(this.params, 'threshold').set(theta);
  }

  /**
   * Per latent j, the θ_j at which "pre > θ_j" agrees with TopK's own selections of j on `x` on the most rows:
   * the sorted column is cut where (unselected rows above) + (selected rows below) is smallest, θ_j halfway
   * between the two values at the cut. So each latent fires on (nearly) the rows TopK gave it, not merely as
   * often (the quantile rule matches the count but, lacking TopK's per-row competition, picks other rows).
   * A latent TopK never selected gets its largest pre-activation (silent, as with the quantile rule).
   */
  thresholdAgreeingWithTopK(x: Matrix, k: number): Float32Array {
    const { dSae } = this;
    const { pre } = this.preActivations(x);
    const n = x.rows;
    const selected = new Uint8Array(n * dSae);
    for (let r = 0; r < n; r++) {
      // The k largest of row r (ties at the boundary: the lower index first, as a stable sort would).
      const row = pre.data.subarray(r * dSae, (r + 1) * dSae);
      const order = Array.from({ length: dSae }, (_, j) => j).sort((a, b) => row[b] - row[a] || a - b);
      for (let i = 0; i < Math.min(k, dSae); i++) selected[r * dSae + order[i]] = 1;
    }
    const theta = new Float32Array(dSae);
    const rows = Array.from({ length: n }, (_, r) => r);
    for (let j = 0; j < dSae; j++) {
      rows.sort((a, b) => pre.data[b * dSae + j] - pre.data[a * dSae + j]);
      let selectedTotal = 0;
      for (let r = 0; r < n; r++) selectedTotal += selected[r * dSae + j];
      const value = (i: number): number => pre.data[rows[i] * dSae + j];
      if (selectedTotal === 0) {
        theta[j] = Math.max(1e-6, value(0));
        continue;
      }
      // Cut after the first i rows (they fire): errors = unselected among them + selected below.
      let errors = selectedTotal;
      let best = errors;
      let bestCut = 0;
      for (let i = 0; i < n; i++) {
        errors += selected[rows[i] * dSae + j] ? -1 : 1;
        if (errors < best) {
          best = errors;
          bestCut = i + 1;
        }
      }
      const above = value(bestCut - 1);
      const below = bestCut < n ? value(bestCut) : above;
      theta[j] = Math.max(1e-6, bestCut === 0 ? value(0) : (above + below) / 2);
    }
    return theta;
  }

  private setThreshold(theta: Float32Array): void {
    if (this.options.thresholdParam === 'log') mustGet(this.params, 'log_threshold').set(theta.map(Math.log));
    else mustGet(this.params, 'threshold').set(theta);
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

/** EMA rate of the warm start's per-latent selection rate (≈ the last 50 batches). */
const WARMUP_RATE_EMA = 0.02;

/**
 * Per latent, a float32 bound at or below θ_j − half: the engine's float32 comparison against it keeps
 * every entry the exact test u = pre − θ > −half (in double) accepts, plus a few that test then drops.
 */
function windowFloor(theta: Float32Array, half: number): Float32Array {
  const out = new Float32Array(theta.length);
  for (let j = 0; j < theta.length; j++) {
    const b = theta[j] - half;
    out[j] = b - Math.abs(b) * 1e-6 - 1e-30;
  }
  return out;
}

/**
 * β·Σ max(0, p_j − cap)² over the batch's firing rates p_j = count_j/rows, leaving the `exempt` most frequent
 * latents above the cap free to be dense; `grad(j, ∂/∂p_j)` receives each penalised latent's derivative.
 */
function frequencyPenalty(
  count: ArrayLike<number>,
  rows: number,
  penalty: { readonly cap: number; readonly coeff: number; readonly exempt?: number },
  grad: (j: number, dp: number) => void,
): number {
  const { cap, coeff } = penalty;
  if (!(coeff > 0)) return 0;
  const over: number[] = [];
  for (let j = 0; j < count.length; j++) if (count[j] / rows > cap) over.push(j);
  // Most frequent first; ties by index so the exemption does not depend on the sort's stability.
  over.sort((a, b) => count[b] - count[a] || a - b);
  let loss = 0;
  for (const j of over.slice(Math.max(0, penalty.exempt ?? 0))) {
    const d = count[j] / rows - cap;
    loss += coeff * d * d;
    grad(j, 2 * coeff * d);
  }
  return loss;
}
