// Gated SAE (Rajamanoharan et al. 2024a): a gate path decides which latents fire, a magnitude path that
// shares the gate's weights (W_mag = W_gate ⊙ exp(r_mag)) sets how much. The auxiliary loss reconstructs
// from ReLU(π_gate) through a frozen (stop-gradient) copy of the decoder, so the gate learns to reconstruct.
import { SparseBuilder, type Matrix, type SparseRows } from '../tensor';
import { mustGet, type LossOptions, type LossResult, type ModelContext } from './model';
import { auxKActive, auxKLoss, deadLatentTopK, type AuxKOptions } from './auxK';
import { SaeBase, columnsWhere, firingTotal } from './saeBase';
import type { SaeConfig, SaeWeights } from './weights';

export interface GatedInit {
  readonly wEnc: Float32Array;
  readonly wDec: Float32Array;
  readonly bGate: Float32Array;
  readonly bMag: Float32Array;
  readonly rMag: Float32Array;
  readonly bDec: Float32Array;
}

export interface GatedOptions {
  /** AuxK on dead latents, using the gate pre-activations π_gate as their would-be activations. */
  readonly auxK?: AuxKOptions;
}

export class GatedSae extends SaeBase {
  readonly unitNormDecoder = true;

  constructor(
    config: SaeConfig,
    ctx: ModelContext,
    init: GatedInit,
    readonly options: GatedOptions = {},
  ) {
    super(config, ctx);
    // W_enc is W_gate (SAELens name).
    this.params.set('W_enc', init.wEnc);
    this.params.set('W_dec', init.wDec);
    this.params.set('b_gate', init.bGate);
    this.params.set('b_mag', init.bMag);
    this.params.set('r_mag', init.rMag);
    this.params.set('b_dec', init.bDec);
  }

  encode(x: Matrix): SparseRows {
    const scale = mustGet(this.params, 'r_mag').map(Math.exp);
    return magnitudesOfOpenGates(this.openGates(this.encoderInput(x)), mustGet(this.params, 'b_mag'), scale);
  }

  /**
   * The entries of P = xin·W_gate (shared by both paths) where the gate π_gate = P + b_gate is open, values
   * P; the engine selects them, so the dense P never reaches JavaScript. P > −b_gate in float32 is the same
   * test as P + b_gate > 0 in double (the sum of two floats is exact enough to keep its sign).
   */
  private openGates(xin: Matrix): SparseRows {
    return this.encoderAbove(xin, undefined, mustGet(this.params, 'b_gate').map((b) => -b));
  }

  lossAndGrads(x: Matrix, options: LossOptions): LossResult {
    const { dSae } = this;
    const B = x.rows;
    const lambda = options.sparsityCoeff;
    const bGate = mustGet(this.params, 'b_gate');
    const bMag = mustGet(this.params, 'b_mag');
    const scale = mustGet(this.params, 'r_mag').map(Math.exp);
    const xin = this.encoderInput(x);
    // Early in a run about half the gates are open: then the whole step runs densely in the engine.
    if (this.wantsDenseStep(xin, bGate)) return this.denseLossAndGrads(x, xin, options);
    const open = this.openGates(xin);

    // gate: entries with π_gate > 0 (values ReLU(π_gate)); feats ⊆ gate: also π_mag > 0 (values π_mag).
    const gate = new SparseBuilder(B, dSae, open.colIdx.length);
    const feat = new SparseBuilder(B, dSae, open.colIdx.length);
    const featP: number[] = []; // P at each feature entry (r_mag's gradient)
    let l1 = 0;
    for (let r = 0; r < B; r++) {
      for (let e = open.rowPtr[r]; e < open.rowPtr[r + 1]; e++) {
        const j = open.colIdx[e];
        const pv = open.values[e];
        const piGate = pv + bGate[j];
        if (piGate > 0) {
          gate.push(j, piGate);
          l1 += piGate;
          const piMag = scale[j] * pv + bMag[j];
          if (piMag > 0) {
            feat.push(j, piMag);
            featP.push(pv);
          }
        }
      }
      gate.endRow();
      feat.endRow();
    }
    const gates = gate.finish();
    const feats = feat.finish();

    const { xHat, mse, dXHat } = this.reconstructionLoss(feats, x);
    const { mse: auxLoss, dXHat: dXHatAux } = this.reconstructionLoss(gates, x);
    const sparsityLoss = (lambda * l1) / B;

    const dMag = this.featureGrads(feats, dXHat);
    const dGate = this.featureGrads(gates, dXHatAux); // through the frozen decoder: reaches π_gate only

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
          gRMag[j] += dPiMag * scale[j] * featP[f];
          d += scale[j] * dPiMag;
          f++;
        }
        dP[e] = d;
      }
    }
    // AuxK: dead latents' π_gate reconstruct the residual; π_gate = P + b_gate, so dπ reaches W_gate and b_gate.
    const deadAux = this.deadAuxK(x, xin, xHat, options, gBGate);
    const shared = this.sharedGrads(feats, dXHat, { ...gates, values: dP }, xin, deadAux.grads);
    const grads = new Map<string, Float32Array>([
      ['W_enc', shared.wEnc],
      ['W_dec', shared.wDec],
      ['b_gate', Float32Array.from(gBGate)],
      ['b_mag', Float32Array.from(gBMag)],
      ['r_mag', Float32Array.from(gRMag)],
      ['b_dec', shared.bDec],
    ]);
    return {
      loss: mse + sparsityLoss + auxLoss + deadAux.loss,
      mse,
      sparsityLoss,
      auxLoss: auxLoss + deadAux.loss,
      l0: feats.colIdx.length / B,
      features: feats,
      reconstruction: xHat,
      grads,
    };
  }

  /** AuxK: dead latents' π_gate reconstruct the residual; π_gate = P + b_gate, so dπ reaches W_gate and b_gate. */
  private deadAuxK(x: Matrix, xin: Matrix, xHat: Matrix, options: LossOptions, gBGate: Float64Array): ReturnType<typeof auxKLoss> {
    if (!auxKActive(options.dead, this.options.auxK)) return { loss: 0 };
    const bGate = mustGet(this.params, 'b_gate');
    // π_gate of the dead latents only, rounded to float32 as a dense π_gate would be.
    const deadCols = columnsWhere(options.dead);
    const piGate = this.columnPre(xin, undefined, deadCols);
    const n = deadCols.length;
    for (let r = 0; r < x.rows; r++) for (let t = 0; t < n; t++) piGate.data[r * n + t] += bGate[deadCols[t]];
    const sel = deadLatentTopK(piGate, deadCols, this.options.auxK?.kAux ?? 1, this.dSae, this.options.auxK?.selection);
    const deadAux = auxKLoss(this.ctx.backend, this.decoder(), sel, x, xHat, this.options.auxK?.coeff ?? 0, (at, d) => this.featureGrads(at, d));
    if (deadAux.grads) {
      const dPi = deadAux.grads.dPre;
      for (let e = 0; e < dPi.colIdx.length; e++) gBGate[dPi.colIdx[e]] += dPi.values[e];
    }
    return deadAux;
  }

  /** lossAndGrads as the backend's fused dense step (most gates open): the same terms, summed in another order. */
  private denseLossAndGrads(x: Matrix, xin: Matrix, options: LossOptions): LossResult {
    const { dSae } = this;
    const B = x.rows;
    const lambda = options.sparsityCoeff;
    const scale = mustGet(this.params, 'r_mag').map(Math.exp);
    const step = this.denseStepOf('gated', x, xin, mustGet(this.params, 'b_gate'), new Float32Array(dSae).fill(lambda / B), {
      bMag: mustGet(this.params, 'b_mag'),
      scale,
    });
    let l1 = 0;
    for (let j = 0; j < dSae; j++) l1 += step.actSums[j];
    const mse = step.sqErr / B;
    const auxLoss = step.auxSqErr / B;
    const sparsityLoss = (lambda * l1) / B;
    const gBGate = Float64Array.from(step.gateSums!);
    const gRMag = Float32Array.from(step.magPSums!, (s, j) => s * scale[j]);
    const deadAux = this.deadAuxK(x, xin, step.reconstruction, options, gBGate);
    const shared = this.denseSharedGrads(step, xin, deadAux.grads ? [deadAux.grads] : []);
    return {
      loss: mse + sparsityLoss + auxLoss + deadAux.loss,
      mse,
      sparsityLoss,
      auxLoss: auxLoss + deadAux.loss,
      l0: firingTotal(step) / B,
      features: { rows: B, fireCount: step.fireCount, lastRow: step.lastRow },
      reconstruction: step.reconstruction,
      grads: new Map<string, Float32Array>([
        ['W_enc', shared.wEnc],
        ['W_dec', shared.wDec],
        ['b_gate', Float32Array.from(gBGate)],
        ['b_mag', Float32Array.from(step.magSums!)],
        ['r_mag', gRMag],
        ['b_dec', shared.bDec],
      ]),
    };
  }

  toWeights(): SaeWeights {
    const tensors = this.storedTensors(['W_enc', 'W_dec', 'b_gate', 'b_mag', 'r_mag', 'b_dec']);
    return { config: { ...this.config, architecture: 'gated' }, tensors };
  }
}

/** gatedActivation on the open gates only (entries P with P + b_gate > 0, as openGates returns them). */
function magnitudesOfOpenGates(open: SparseRows, bMag: Float32Array, scale: Float32Array): SparseRows {
  const out = new SparseBuilder(open.rows, open.cols, open.colIdx.length);
  for (let r = 0; r < open.rows; r++) {
    for (let e = open.rowPtr[r]; e < open.rowPtr[r + 1]; e++) {
      const j = open.colIdx[e];
      const mag = scale[j] * open.values[e] + bMag[j];
      if (mag > 0) out.push(j, mag);
    }
    out.endRow();
  }
  return out.finish();
}

/** f_j = π_mag,j where the gate π_gate,j = p_j + b_gate,j is open and π_mag,j = e^{r_mag,j}·p_j + b_mag,j > 0. `scale` = e^{r_mag}. */
export function gatedActivation(p: Matrix, bGate: Float32Array, bMag: Float32Array, scale: Float32Array): SparseRows {
  const n = p.cols;
  const out = new SparseBuilder(p.rows, n);
  for (let r = 0; r < p.rows; r++) {
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
