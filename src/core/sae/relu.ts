// ReLU SAE with the decoder-norm-weighted L1 penalty λ Σ_i f_i‖W_dec,i‖ (Anthropic, April 2024 update).
// No decoder-norm constraint: the penalty itself stops the decoder from growing to shrink f.
import { type Matrix, type SparseRows } from '../tensor';
import { rowNorms, mustGet, type LossOptions, type LossResult, type ModelContext } from './model';
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
    const feats = this.positivePre(xin);
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
    const gWDec = shared.wDec;
    for (let j = 0; j < dSae; j++) {
      if (fSums[j] === 0 || norms[j] === 0) continue;
      const c = (lambda * fSums[j]) / B / norms[j]; // ∂‖w‖/∂w = w/‖w‖
      for (let i = 0; i < dIn; i++) gWDec[j * dIn + i] += c * wDecData[j * dIn + i];
    }
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

  toWeights(): SaeWeights {
    return { config: { ...this.config, architecture: 'relu' }, tensors: this.storedTensors(AFFINE_PARAMS) };
  }
}
