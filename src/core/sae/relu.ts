// ReLU SAE with the decoder-norm-weighted L1 penalty λ Σ_i f_i‖W_dec,i‖ (Anthropic, April 2024 update).
// No decoder-norm constraint: the penalty itself stops the decoder from growing to shrink f.
import type { Matrix, SparseRows } from '../tensor';
import { rowNorms, mustGet, type LossOptions, type LossResult, type ModelContext } from './model';
import { AFFINE_PARAMS, SaeBase, affineGrads, firingTotal, type AffineInit } from './saeBase';
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
    // Early in a run about half the latents fire: then the whole step runs densely in the engine.
    if (this.wantsDenseStep(xin, mustGet(this.params, 'b_enc'))) return this.denseLossAndGrads(x, xin, lambda, norms);
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

  /** lossAndGrads as the backend's fused dense step (dense codes): the same terms, summed in another order. */
  private denseLossAndGrads(x: Matrix, xin: Matrix, lambda: number, norms: Float32Array): LossResult {
    const { dIn, dSae } = this;
    const B = x.rows;
    const wDecData = mustGet(this.params, 'W_dec');
    const step = this.denseStepOf('relu', x, xin, mustGet(this.params, 'b_enc'), Float32Array.from(norms, (n) => (lambda * n) / B));
    const fSums = Float64Array.from(step.actSums);
    let penalty = 0;
    for (let j = 0; j < dSae; j++) penalty += fSums[j] * norms[j];
    const sparsityLoss = (lambda * penalty) / B;
    addNormTerm(step.gWDec, wDecData, fSums, norms, lambda, B, dSae, dIn);
    const mse = step.sqErr / B;
    return {
      loss: mse + sparsityLoss,
      mse,
      sparsityLoss,
      auxLoss: 0,
      l0: firingTotal(step) / B,
      features: { rows: B, fireCount: step.fireCount, lastRow: step.lastRow },
      reconstruction: step.reconstruction,
      grads: affineGrads(this.denseSharedGrads(step, xin, [])),
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
