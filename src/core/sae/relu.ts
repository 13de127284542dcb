// ReLU SAE with the decoder-norm-weighted L1 penalty λ Σ_i f_i‖W_dec,i‖ (Anthropic, April 2024 update).
// No decoder-norm constraint: the penalty itself stops the decoder from growing to shrink f.
import { selectAbove, type Matrix, type SparseRows } from '../tensor';
import { mseGradient, rowNorms, mustGet, type LossOptions, type LossResult, type ModelContext } from './model';
import { AFFINE_PARAMS, SaeBase, affineGrads, type AffineInit } from './saeBase';
import type { SaeConfig, SaeWeights } from './weights';

export class ReluSae extends SaeBase {
  readonly unitNormDecoder = false;

  constructor(config: SaeConfig, ctx: ModelContext, init: AffineInit) {
    super(config, ctx);
    this.setAffineParams(init);
  }

  encode(x: Matrix): SparseRows {
    return this.positivePre(this.encoderInput(x));
  }

  /** The entries of xin·W_enc + b_enc above 0, selected inside the engine (the dense matrix stays there). */
  private positivePre(xin: Matrix): SparseRows {
    return this.encoderAbove(xin, mustGet(this.params, 'b_enc'), new Float32Array(this.dSae));
  }

  lossAndGrads(x: Matrix, options: LossOptions): LossResult {
    const { dIn, dSae } = this;
    const B = x.rows;
    const lambda = options.sparsityCoeff;
    const wDecData = mustGet(this.params, 'W_dec');
    const norms = rowNorms(wDecData, dSae, dIn);
    const xin = this.encoderInput(x);
    let feats: SparseRows;
    if (this.ctx.backend.denseStepAbove !== undefined) {
      // Early in a run about half the latents fire: the dense pre-activations decide the path (a function
      // of this batch alone, so resumed runs take the same one).
      // ReLU in place (branch-free: half the entries are positive early on, a coin flip per branch),
      // counting the active entries and each latent's Σ f on the way.
      const pre = this.ctx.backend.matmul(xin, this.encoderWeights(), mustGet(this.params, 'b_enc'));
      const f = pre.data;
      const fSums = new Float64Array(dSae);
      let active = 0;
      for (let r = 0; r < B; r++) {
        const base = r * dSae;
        for (let j = 0; j < dSae; j++) {
          const v = Math.max(f[base + j], 0);
          f[base + j] = v;
          fSums[j] += v;
          active += Math.sign(v);
        }
      }
      if (this.denseStep(active / f.length)) return this.denseLossAndGrads(x, xin, pre, lambda, norms, fSums, active);
      feats = selectAbove(pre, new Float32Array(dSae));
    } else {
      feats = this.positivePre(xin);
    }
    const { xHat, mse, dXHat } = this.reconstructionLoss(feats, x);

    let penalty = 0;
    const fSums = new Float64Array(dSae);
    for (let e = 0; e < feats.colIdx.length; e++) {
      const j = feats.colIdx[e];
      penalty += feats.values[e] * norms[j];
      fSums[j] += feats.values[e];
    }
    const sparsityLoss = (lambda * penalty) / B;

    const dPreVals = this.featureGrads(feats, dXHat);
    for (let e = 0; e < dPreVals.length; e++) dPreVals[e] += (lambda * norms[feats.colIdx[e]]) / B;
    const shared = this.sharedGrads(feats, dXHat, { ...feats, values: dPreVals }, xin);
    addNormTerm(shared.wDec, wDecData, fSums, norms, lambda, B, dSae, dIn);
    return {
      loss: mse + sparsityLoss,
      mse,
      sparsityLoss,
      auxLoss: 0,
      l0: feats.colIdx.length / B,
      features: feats,
      reconstruction: xHat,
      grads: affineGrads(shared),
    };
  }

  /** lossAndGrads as dense products (dense codes): the same terms, f = ReLU(pre) kept as a dense matrix. */
  private denseLossAndGrads(x: Matrix, xin: Matrix, pre: Matrix, lambda: number, norms: Float32Array, fSums: Float64Array, active: number): LossResult {
    const { backend } = this.ctx;
    const { dIn, dSae } = this;
    const B = x.rows;
    const wDecData = mustGet(this.params, 'W_dec');
    const f = pre.data; // already ReLU(pre)
    let penalty = 0;
    for (let j = 0; j < dSae; j++) penalty += fSums[j] * norms[j];
    const sparsityLoss = (lambda * penalty) / B;
    const c = Float32Array.from(norms, (n) => (lambda * n) / B);
    const xHat = backend.matmul(pre, this.decoder(), mustGet(this.params, 'b_dec'));
    const { mse, grad: dXHat } = mseGradient(xHat, x);
    const dPre = backend.matmulTransB(dXHat, this.decoder()); // dL_mse/df, then dL/dpre
    const D = dPre.data;
    for (let r = 0; r < B; r++) {
      const base = r * dSae;
      for (let j = 0; j < dSae; j++) D[base + j] = (D[base + j] + c[j]) * Math.sign(f[base + j]); // f ≥ 0: sign is the mask
    }
    const shared = this.denseSharedGrads(pre, dXHat, dPre, xin, []);
    addNormTerm(shared.wDec, wDecData, fSums, norms, lambda, B, dSae, dIn);
    return {
      loss: mse + sparsityLoss,
      mse,
      sparsityLoss,
      auxLoss: 0,
      l0: active / B,
      features: pre,
      reconstruction: xHat,
      grads: affineGrads(shared),
    };
  }

  toWeights(): SaeWeights {
    return { config: { ...this.config, architecture: 'relu' }, tensors: this.storedTensors(AFFINE_PARAMS) };
  }
}

/** The penalty's decoder term: gW_dec[j] += c·Σ_b f_bj·w_j/‖w_j‖ (∂‖w‖/∂w = w/‖w‖). */
function addNormTerm(gWDec: Float32Array, wDec: Float32Array, fSums: Float64Array, norms: Float32Array, lambda: number, B: number, dSae: number, dIn: number): void {
  for (let j = 0; j < dSae; j++) {
    if (fSums[j] === 0 || norms[j] === 0) continue;
    const c = (lambda * fSums[j]) / B / norms[j];
    for (let i = 0; i < dIn; i++) gWDec[j * dIn + i] += c * wDec[j * dIn + i];
  }
}
