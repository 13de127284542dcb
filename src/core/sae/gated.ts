// Gated SAE (Rajamanoharan et al. 2024a): a gate path decides which latents fire, a magnitude path that
// shares the gate's weights (W_mag = W_gate ⊙ exp(r_mag)) sets how much. The auxiliary loss reconstructs
// from ReLU(π_gate) through a frozen (stop-gradient) copy of the decoder, so the gate learns to reconstruct.
import type { Matrix } from '../tensor';
import { SparseBuilder, type SparseRows } from '../train/backend';
import {
  encoderInput,
  mseGradient,
  columnSums,
  transposeInto,
  subtractEncoderPath,
  mustGet,
  tensor,
  type LossOptions,
  type LossResult,
  type ModelContext,
  type SaeModel,
} from './model';
import type { SaeConfig, SaeWeights } from './weights';

export class GatedSae implements SaeModel {
  readonly params = new Map<string, Float32Array>();
  readonly buffers = new Map<string, Float32Array>();
  readonly unitNormDecoder = true;
  private readonly dIn: number;
  private readonly dSae: number;

  constructor(
    readonly config: SaeConfig,
    private readonly ctx: ModelContext,
    init: {
      wEnc: Float32Array;
      wDec: Float32Array;
      bGate: Float32Array;
      bMag: Float32Array;
      rMag: Float32Array;
      bDec: Float32Array;
    },
  ) {
    this.dIn = config.dIn;
    this.dSae = config.dSae;
    // W_enc is W_gate (SAELens name).
    this.params.set('W_enc', init.wEnc);
    this.params.set('W_dec', init.wDec);
    this.params.set('b_gate', init.bGate);
    this.params.set('b_mag', init.bMag);
    this.params.set('r_mag', init.rMag);
    this.params.set('b_dec', init.bDec);
  }

  /** xin, P = xin·W_gate (shared by both paths). */
  private shared(x: Matrix): { xin: Matrix; p: Matrix } {
    const xin = encoderInput(x, mustGet(this.params, 'b_dec'), this.config.applyBDecToInput);
    const p = this.ctx.backend.matmul(xin, { data: mustGet(this.params, 'W_enc'), rows: this.dIn, cols: this.dSae });
    return { xin, p };
  }

  encode(x: Matrix): SparseRows {
    const { p } = this.shared(x);
    const bGate = mustGet(this.params, 'b_gate');
    const bMag = mustGet(this.params, 'b_mag');
    const scale = mustGet(this.params, 'r_mag').map(Math.exp);
    const n = this.dSae;
    const out = new SparseBuilder(x.rows, n);
    for (let r = 0; r < x.rows; r++) {
      for (let j = 0; j < n; j++) {
        const pv = p.data[r * n + j];
        if (pv + bGate[j] > 0) {
          const mag = scale[j] * pv + bMag[j];
          if (mag > 0) out.push(j, mag);
        }
      }
      out.endRow();
    }
    return out.finish();
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
    const bGate = mustGet(this.params, 'b_gate');
    const bMag = mustGet(this.params, 'b_mag');
    const scale = mustGet(this.params, 'r_mag').map(Math.exp);
    const bDec = mustGet(this.params, 'b_dec');
    const wDec: Matrix = { data: mustGet(this.params, 'W_dec'), rows: dSae, cols: dIn };
    const { xin, p } = this.shared(x);

    // gate: entries with π_gate > 0 (values ReLU(π_gate)); feats ⊆ gate: also π_mag > 0 (values π_mag).
    const gate = new SparseBuilder(B, dSae);
    const feat = new SparseBuilder(B, dSae);
    let l1 = 0;
    for (let r = 0; r < B; r++) {
      for (let j = 0; j < dSae; j++) {
        const pv = p.data[r * dSae + j];
        const piGate = pv + bGate[j];
        if (piGate > 0) {
          gate.push(j, piGate);
          l1 += piGate;
          const piMag = scale[j] * pv + bMag[j];
          if (piMag > 0) feat.push(j, piMag);
        }
      }
      gate.endRow();
      feat.endRow();
    }
    const gates = gate.finish();
    const feats = feat.finish();

    const xHat = backend.sparseMatmul(feats, wDec, bDec);
    const { mse, grad: dXHat } = mseGradient(xHat, x);
    const xHatAux = backend.sparseMatmul(gates, wDec, bDec);
    const { mse: auxLoss, grad: dXHatAux } = mseGradient(xHatAux, x);
    const sparsityLoss = (lambda * l1) / B;

    const dMag = new Float32Array(feats.colIdx.length);
    backend.sampledDot(feats, dXHat, wDec, dMag);
    const dGate = new Float32Array(gates.colIdx.length);
    backend.sampledDot(gates, dXHatAux, wDec, dGate); // through the frozen decoder: reaches π_gate only

    const gBGate = new Float64Array(dSae);
    const gBMag = new Float64Array(dSae);
    const gRMag = new Float64Array(dSae);
    const dP = new Float32Array(gates.colIdx.length);
    for (let r = 0; r < B; r++) {
      let f = feats.rowPtr[r];
      const fEnd = feats.rowPtr[r + 1];
      for (let e = gates.rowPtr[r]; e < gates.rowPtr[r + 1]; e++) {
        const j = gates.colIdx[e];
        const dPiGate = dGate[e] + lambda / B;
        gBGate[j] += dPiGate;
        let d = dPiGate;
        if (f < fEnd && feats.colIdx[f] === j) {
          const dPiMag = dMag[f];
          gBMag[j] += dPiMag;
          gRMag[j] += dPiMag * scale[j] * p.data[r * dSae + j];
          d += scale[j] * dPiMag;
          f++;
        }
        dP[e] = d;
      }
    }
    const dPre: SparseRows = { ...gates, values: dP };
    const gWEncT = new Float32Array(dSae * dIn);
    backend.sparseTransMatmulAcc(dPre, xin, { data: gWEncT, rows: dSae, cols: dIn });
    const gWEnc = new Float32Array(dIn * dSae);
    transposeInto(gWEncT, dSae, dIn, gWEnc);
    const gWDec = new Float32Array(dSae * dIn);
    backend.sparseTransMatmulAcc(feats, dXHat, { data: gWDec, rows: dSae, cols: dIn });
    const gBDec = columnSums(dXHat);
    if (this.config.applyBDecToInput) {
      const sums = new Float64Array(dSae);
      for (let e = 0; e < dP.length; e++) sums[dPre.colIdx[e]] += dP[e];
      subtractEncoderPath(gBDec, mustGet(this.params, 'W_enc'), sums, dIn, dSae);
    }
    const grads = new Map<string, Float32Array>([
      ['W_enc', gWEnc],
      ['W_dec', gWDec],
      ['b_gate', Float32Array.from(gBGate)],
      ['b_mag', Float32Array.from(gBMag)],
      ['r_mag', Float32Array.from(gRMag)],
      ['b_dec', gBDec],
    ]);
    return {
      loss: mse + sparsityLoss + auxLoss,
      mse,
      sparsityLoss,
      auxLoss,
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
      ['b_gate', tensor([dSae], mustGet(this.params, 'b_gate').slice())],
      ['b_mag', tensor([dSae], mustGet(this.params, 'b_mag').slice())],
      ['r_mag', tensor([dSae], mustGet(this.params, 'r_mag').slice())],
      ['b_dec', tensor([dIn], mustGet(this.params, 'b_dec').slice())],
    ]);
    return { config: { ...this.config, architecture: 'gated' }, tensors };
  }
}
