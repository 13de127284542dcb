// ReLU SAE with the decoder-norm-weighted L1 penalty λ Σ_i f_i‖W_dec,i‖ (Anthropic, April 2024 update).
// No decoder-norm constraint: the penalty itself stops the decoder from growing to shrink f.
import type { Matrix } from '../tensor';
import { SparseBuilder, sparseColumnSums, type SparseRows } from '../train/backend';
import {
  encoderInput,
  mseGradient,
  columnSums,
  transposeInto,
  subtractEncoderPath,
  rowNorms,
  mustGet,
  tensor,
  type LossOptions,
  type LossResult,
  type ModelContext,
  type SaeModel,
} from './model';
import type { SaeConfig, SaeWeights } from './weights';

export class ReluSae implements SaeModel {
  readonly params = new Map<string, Float32Array>();
  readonly buffers = new Map<string, Float32Array>();
  readonly unitNormDecoder = false;
  private readonly dIn: number;
  private readonly dSae: number;

  constructor(
    readonly config: SaeConfig,
    private readonly ctx: ModelContext,
    init: { wEnc: Float32Array; wDec: Float32Array; bEnc: Float32Array; bDec: Float32Array },
  ) {
    this.dIn = config.dIn;
    this.dSae = config.dSae;
    this.params.set('W_enc', init.wEnc);
    this.params.set('W_dec', init.wDec);
    this.params.set('b_enc', init.bEnc);
    this.params.set('b_dec', init.bDec);
  }

  private pre(x: Matrix): { xin: Matrix; pre: Matrix } {
    const xin = encoderInput(x, mustGet(this.params, 'b_dec'), this.config.applyBDecToInput);
    const pre = this.ctx.backend.matmul(
      xin,
      { data: mustGet(this.params, 'W_enc'), rows: this.dIn, cols: this.dSae },
      mustGet(this.params, 'b_enc'),
    );
    return { xin, pre };
  }

  encode(x: Matrix): SparseRows {
    const { pre } = this.pre(x);
    return positive(pre);
  }

  decode(features: SparseRows): Matrix {
    return this.ctx.backend.sparseMatmul(
      features,
      { data: mustGet(this.params, 'W_dec'), rows: this.dSae, cols: this.dIn },
      mustGet(this.params, 'b_dec'),
    );
  }

  forward(x: Matrix): { features: SparseRows; reconstruction: Matrix } {
    const features = this.encode(x);
    return { features, reconstruction: this.decode(features) };
  }

  lossAndGrads(x: Matrix, options: LossOptions): LossResult {
    const { backend } = this.ctx;
    const { dIn, dSae } = this;
    const B = x.rows;
    const lambda = options.sparsityCoeff;
    const wDecData = mustGet(this.params, 'W_dec');
    const wDec: Matrix = { data: wDecData, rows: dSae, cols: dIn };
    const norms = rowNorms(wDecData, dSae, dIn);
    const { xin, pre } = this.pre(x);
    const feats = positive(pre);
    const xHat = backend.sparseMatmul(feats, wDec, mustGet(this.params, 'b_dec'));
    const { mse, grad: dXHat } = mseGradient(xHat, x);

    let penalty = 0;
    const fSums = new Float64Array(dSae);
    for (let e = 0; e < feats.colIdx.length; e++) {
      const j = feats.colIdx[e];
      penalty += feats.values[e] * norms[j];
      fSums[j] += feats.values[e];
    }
    const sparsityLoss = (lambda * penalty) / B;

    const dPreVals = new Float32Array(feats.colIdx.length);
    backend.sampledDot(feats, dXHat, wDec, dPreVals);
    for (let e = 0; e < dPreVals.length; e++) dPreVals[e] += (lambda * norms[feats.colIdx[e]]) / B;

    const gWDec = new Float32Array(dSae * dIn);
    backend.sparseTransMatmulAcc(feats, dXHat, { data: gWDec, rows: dSae, cols: dIn });
    for (let j = 0; j < dSae; j++) {
      if (fSums[j] === 0 || norms[j] === 0) continue;
      const c = (lambda * fSums[j]) / B / norms[j]; // ∂‖w‖/∂w = w/‖w‖
      for (let i = 0; i < dIn; i++) gWDec[j * dIn + i] += c * wDecData[j * dIn + i];
    }
    const dPre: SparseRows = { ...feats, values: dPreVals };
    const dPreSums = sparseColumnSums(dPre);
    const gWEncT = new Float32Array(dSae * dIn);
    backend.sparseTransMatmulAcc(dPre, xin, { data: gWEncT, rows: dSae, cols: dIn });
    const gWEnc = new Float32Array(dIn * dSae);
    transposeInto(gWEncT, dSae, dIn, gWEnc);
    const gBDec = columnSums(dXHat);
    if (this.config.applyBDecToInput) subtractEncoderPath(gBDec, mustGet(this.params, 'W_enc'), dPreSums, dIn, dSae);
    const grads = new Map<string, Float32Array>([
      ['W_enc', gWEnc],
      ['W_dec', gWDec],
      ['b_enc', Float32Array.from(dPreSums)],
      ['b_dec', gBDec],
    ]);
    return {
      loss: mse + sparsityLoss,
      mse,
      sparsityLoss,
      auxLoss: 0,
      l0: feats.colIdx.length / B,
      features: feats,
      reconstruction: xHat,
      grads,
    };
  }

  toWeights(): SaeWeights {
    const { dIn, dSae } = this;
    const tensors = new Map<string, { shape: number[]; data: Float32Array }>([
      ['W_enc', tensor([dIn, dSae], mustGet(this.params, 'W_enc').slice())],
      ['W_dec', tensor([dSae, dIn], mustGet(this.params, 'W_dec').slice())],
      ['b_enc', tensor([dSae], mustGet(this.params, 'b_enc').slice())],
      ['b_dec', tensor([dIn], mustGet(this.params, 'b_dec').slice())],
    ]);
    return { config: { ...this.config, architecture: 'relu' }, tensors };
  }
}

function positive(pre: Matrix): SparseRows {
  const n = pre.cols;
  const b = new SparseBuilder(pre.rows, n, pre.rows * Math.max(8, n >> 2));
  for (let r = 0; r < pre.rows; r++) {
    for (let j = 0; j < n; j++) {
      const v = pre.data[r * n + j];
      if (v > 0) b.push(j, v);
    }
    b.endRow();
  }
  return b.finish();
}
