// TopK (Gao et al. 2024) and BatchTopK (Bussmann et al. 2024) SAEs, both with the AuxK dead-latent loss.
// BatchTopK keeps the k·B largest pre-activations of the whole batch while training; at inference it is a
// JumpReLU with one global threshold (an EMA of the smallest kept activation), and is exported that way.
import type { Matrix, SparseRows } from '../tensor';
import { activeAbove, batchTopK, rowTopK } from './activations';
import { mustGet, tensor, type LossOptions, type LossResult, type ModelContext } from './model';
import { AFFINE_PARAMS, SaeBase, affineGrads, type AffineInit, type ExtraCodeGrads } from './saeBase';
import type { SaeConfig, SaeWeights } from './weights';

export interface TopKOptions {
  readonly k: number;
  /** AuxK latents per row (Gao: d_in/2). */
  readonly kAux: number;
  /** AuxK weight α (Gao: 1/32). */
  readonly auxCoeff: number;
  /** BatchTopK threshold EMA rate. */
  readonly thresholdEmaRate: number;
}

export class TopKSae extends SaeBase {
  readonly unitNormDecoder = true;

  constructor(
    config: SaeConfig,
    ctx: ModelContext,
    init: AffineInit,
    readonly options: TopKOptions,
    readonly batchTopK: boolean,
  ) {
    super(config, ctx);
    this.setAffineParams(init);
    // [threshold, batches seen]: NaN until the first training batch sets it.
    if (batchTopK) this.buffers.set('threshold_ema', Float32Array.of(Number.NaN, 0));
  }

  preActivations(x: Matrix): { xin: Matrix; pre: Matrix } {
    return this.encoderPre(x, mustGet(this.params, 'b_enc'));
  }

  /** BatchTopK's inference threshold (NaN before training saw a batch). */
  globalThreshold(): number {
    return this.buffers.get('threshold_ema')?.[0] ?? Number.NaN;
  }

  encode(x: Matrix): SparseRows {
    const { pre } = this.preActivations(x);
    if (this.batchTopK) {
      const t = this.globalThreshold();
      if (Number.isFinite(t)) return activeAbove(pre, uniform(this.dSae, t));
      return batchTopK(pre, this.options.k).features; // untrained: fall back to the batch rule
    }
    return rowTopK(pre, this.options.k, undefined);
  }

  lossAndGrads(x: Matrix, options: LossOptions): LossResult {
    const { dIn } = this;
    const B = x.rows;
    const { xin, pre } = this.preActivations(x);
    let feats: SparseRows;
    if (this.batchTopK) {
      const sel = batchTopK(pre, this.options.k);
      feats = sel.features;
      if (options.training !== false && Number.isFinite(sel.minKept)) this.updateThreshold(sel.minKept);
    } else {
      feats = rowTopK(pre, this.options.k, undefined);
    }
    const { xHat, mse, dXHat } = this.reconstructionLoss(feats, x);
    const dPre: SparseRows = { ...feats, values: this.featureGrads(feats, dXHat) };

    // AuxK: the top-k_aux dead latents reconstruct the (detached) residual e = x − x̂, without b_dec.
    let auxLoss = 0;
    let auxGrads: ExtraCodeGrads | undefined;
    const dead = options.dead;
    if (dead && this.options.auxCoeff > 0 && this.options.kAux > 0 && dead.some((v) => v !== 0)) {
      const aux = rowTopK(pre, this.options.kAux, dead);
      if (aux.colIdx.length > 0) {
        const eHat = this.ctx.backend.sparseMatmul(aux, this.decoder());
        const dEHat = new Float32Array(eHat.data.length);
        const scale = (2 * this.options.auxCoeff) / B;
        let sum = 0;
        for (let i = 0; i < dEHat.length; i++) {
          const diff = eHat.data[i] - (x.data[i] - xHat.data[i]);
          sum += diff * diff;
          dEHat[i] = scale * diff;
        }
        auxLoss = (this.options.auxCoeff * sum) / B;
        const dOut: Matrix = { data: dEHat, rows: B, cols: dIn };
        auxGrads = { features: aux, dOut, dPre: { ...aux, values: this.featureGrads(aux, dOut) } };
      }
    }

    return {
      loss: mse + auxLoss,
      mse,
      sparsityLoss: 0,
      auxLoss,
      l0: feats.colIdx.length / B,
      features: feats,
      reconstruction: xHat,
      grads: affineGrads(this.sharedGrads(feats, dXHat, dPre, xin, auxGrads)),
    };
  }

  private updateThreshold(minKept: number): void {
    const buf = mustGet(this.buffers, 'threshold_ema');
    buf[0] = buf[1] === 0 ? minKept : (1 - this.options.thresholdEmaRate) * buf[0] + this.options.thresholdEmaRate * minKept;
    buf[1]++;
  }

  toWeights(): SaeWeights {
    const { dSae } = this;
    const tensors = this.storedTensors(AFFINE_PARAMS);
    if (!this.batchTopK) return { config: { ...this.config, architecture: 'topk', k: this.options.k }, tensors };
    // SAELens saves BatchTopK as a JumpReLU with a uniform threshold.
    tensors.set('threshold', tensor([dSae], uniform(dSae, this.globalThreshold())));
    return {
      config: { ...this.config, architecture: 'jumprelu', k: this.options.k, extra: { ...this.config.extra, trained_as: 'batchtopk' } },
      tensors,
    };
  }
}

function uniform(n: number, v: number): Float32Array {
  return new Float32Array(n).fill(v);
}
