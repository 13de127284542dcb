// What every architecture here shares: an encoder that reads x − b_dec (when the SAE subtracts it) through
// W_enc, a decoder f·W_dec + b_dec, the reconstruction loss, and the gradients of W_dec, W_enc and b_dec
// given dL/dx̂ and dL/dpre. Subclasses keep only their activation, sparsity terms and extra parameters.
// Accumulation order is part of the contract: resumed and repeated runs must stay bit-identical.
import { selectRowTopK, sparseColumnSums, type Matrix, type SaeDenseStepResult, type SparseRows } from '../tensor';
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

/** The four tensors of an SAE with an affine encoder (SAELens names W_enc, W_dec, b_enc, b_dec). */
export interface AffineInit {
  readonly wEnc: Float32Array;
  readonly wDec: Float32Array;
  readonly bEnc: Float32Array;
  readonly bDec: Float32Array;
}

/** A second sparse code decoded with the same W_dec whose loss also trains the encoder (TopK's AuxK). */
export interface ExtraCodeGrads {
  readonly features: SparseRows;
  /** dL/d(its reconstruction). */
  readonly dOut: Matrix;
  /** dL/dpre at its entries. */
  readonly dPre: SparseRows;
}

export interface SharedGrads {
  readonly wEnc: Float32Array;
  readonly wDec: Float32Array;
  /** Σ over rows of dL/dpre per latent (b_enc's gradient where there is a b_enc). */
  readonly preSums: Float64Array;
  readonly bDec: Float32Array;
}

export abstract class SaeBase implements SaeModel {
  readonly params = new Map<string, Float32Array>();
  readonly buffers = new Map<string, Float32Array>();
  abstract readonly unitNormDecoder: boolean;
  protected readonly dIn: number;
  protected readonly dSae: number;

  constructor(
    readonly config: SaeConfig,
    protected readonly ctx: ModelContext,
  ) {
    this.dIn = config.dIn;
    this.dSae = config.dSae;
  }

  abstract encode(x: Matrix): SparseRows;
  abstract lossAndGrads(x: Matrix, options: LossOptions): LossResult;
  abstract toWeights(): SaeWeights;

  /** Registers W_enc, W_dec, b_enc, b_dec in that order (the order optimiser state is saved in). */
  protected setAffineParams(init: AffineInit): void {
    this.params.set('W_enc', init.wEnc);
    this.params.set('W_dec', init.wDec);
    this.params.set('b_enc', init.bEnc);
    this.params.set('b_dec', init.bDec);
  }

  /** xin (x − b_dec or x) and xin·W_enc (+ bias). */
  protected encoderPre(x: Matrix, bias: Float32Array | undefined): { xin: Matrix; pre: Matrix } {
    const xin = encoderInput(x, mustGet(this.params, 'b_dec'), this.config.applyBDecToInput);
    const pre = this.ctx.backend.matmul(xin, { data: mustGet(this.params, 'W_enc'), rows: this.dIn, cols: this.dSae }, bias);
    return { xin, pre };
  }

  protected encoderWeights(): Matrix {
    return { data: mustGet(this.params, 'W_enc'), rows: this.dIn, cols: this.dSae };
  }

  /** xin (x − b_dec or x): what the encoder multiplies. */
  protected encoderInput(x: Matrix): Matrix {
    return encoderInput(x, mustGet(this.params, 'b_dec'), this.config.applyBDecToInput);
  }

  /** Per row, the k largest positive pre-activations xin·W_enc + bias (among mask ≠ 0), without the dense matrix. */
  protected encoderTopK(xin: Matrix, bias: Float32Array | undefined, k: number, mask?: Uint8Array): SparseRows {
    return this.ctx.backend.matmulRowTopK(xin, this.encoderWeights(), bias, k, mask);
  }

  /** The pre-activations above lower[j], without the dense matrix. */
  protected encoderAbove(xin: Matrix, bias: Float32Array | undefined, lower: Float32Array): SparseRows {
    return this.ctx.backend.matmulAbove(xin, this.encoderWeights(), bias, lower);
  }

  /**
   * Dense pre-activations xin·W_enc[:, cols] (+ bias[cols]) of the listed latents only, [rows × cols.length]:
   * what AuxK and the pre-activation loss need from dead latents, at a cost that scales with their number.
   */
  protected columnPre(xin: Matrix, bias: Float32Array | undefined, cols: Int32Array): Matrix {
    const { dIn, dSae } = this;
    const w = mustGet(this.params, 'W_enc');
    const n = cols.length;
    const sub = new Float32Array(dIn * n);
    for (let i = 0; i < dIn; i++) {
      const base = i * dSae;
      for (let t = 0; t < n; t++) sub[i * n + t] = w[base + cols[t]];
    }
    const b = bias ? Float32Array.from(cols, (j) => bias[j]) : undefined;
    return this.ctx.backend.matmul(xin, { data: sub, rows: dIn, cols: n }, b);
  }

  /**
   * Per row, k latents among those with mask ≠ 0 (AuxK's dead latents), picked by `select` from their
   * pre-activations (default topKOfColumns: the k largest positive ones, as selectRowTopK on the masked dense
   * pre-activations; auxK.ts's deadLatentTopK for AuxK's selection), from a GEMM over the masked latents only.
   */
  protected maskedTopK(xin: Matrix, bias: Float32Array | undefined, k: number, mask: Uint8Array, select: ColumnPick = topKOfColumns): SparseRows {
    const cols = columnsWhere(mask);
    return select(this.columnPre(xin, bias, cols), cols, k, this.dSae);
  }

  protected decoder(): Matrix {
    return { data: mustGet(this.params, 'W_dec'), rows: this.dSae, cols: this.dIn };
  }

  decode(features: SparseRows): Matrix {
    return this.ctx.backend.sparseMatmul(features, this.decoder(), mustGet(this.params, 'b_dec'));
  }

  forward(x: Matrix): { features: SparseRows; reconstruction: Matrix } {
    const features = this.encode(x);
    return { features, reconstruction: this.decode(features) };
  }

  /** x̂ = decode(features), the mean ‖x − x̂‖² and dL/dx̂. */
  protected reconstructionLoss(features: SparseRows, x: Matrix): { xHat: Matrix; mse: number; dXHat: Matrix } {
    const xHat = this.decode(features);
    const { mse, grad } = mseGradient(xHat, x);
    return { xHat, mse, dXHat: grad };
  }

  /** dL/df at each entry of `at` (its values unused): the row of dOut dotted with the latent's decoder row. */
  protected featureGrads(at: SparseRows, dOut: Matrix): Float32Array {
    const out = new Float32Array(at.colIdx.length);
    this.ctx.backend.sampledDot(at, dOut, this.decoder(), out);
    return out;
  }

  /**
   * Gradients of W_dec (featuresᵀ·dX̂), W_enc (xinᵀ·dPre), b_dec (Σ dX̂, minus the encoder path when the
   * input is x − b_dec) and the per-latent sums of dPre; `extra` adds further codes' contributions (in
   * order) after the main one's. Only the main code's dX̂ reaches b_dec (extra codes decode without it).
   */
  protected sharedGrads(
    features: SparseRows,
    dXHat: Matrix,
    dPre: SparseRows,
    xin: Matrix,
    extra?: ExtraCodeGrads | readonly ExtraCodeGrads[],
  ): SharedGrads {
    const { backend } = this.ctx;
    const { dIn, dSae } = this;
    const extras = extra === undefined ? [] : Array.isArray(extra) ? (extra as readonly ExtraCodeGrads[]) : [extra as ExtraCodeGrads];
    const preSums = sparseColumnSums(dPre);
    let wDec: Float32Array;
    let wEnc: Float32Array;
    if (extras.length === 0) {
      // One code: each gradient comes back fresh, W_enc's already in its [d_in × d_sae] layout.
      wDec = backend.sparseTransMatmul(features, dXHat, false);
      wEnc = backend.sparseTransMatmul(dPre, xin, true);
    } else {
      wDec = new Float32Array(dSae * dIn);
      const wEncT = new Float32Array(dSae * dIn);
      backend.sparseTransMatmulAcc(features, dXHat, { data: wDec, rows: dSae, cols: dIn });
      backend.sparseTransMatmulAcc(dPre, xin, { data: wEncT, rows: dSae, cols: dIn });
      for (const ex of extras) {
        backend.sparseTransMatmulAcc(ex.features, ex.dOut, { data: wDec, rows: dSae, cols: dIn });
        backend.sparseTransMatmulAcc(ex.dPre, xin, { data: wEncT, rows: dSae, cols: dIn });
        const extraSums = sparseColumnSums(ex.dPre);
        for (let j = 0; j < dSae; j++) preSums[j] += extraSums[j];
      }
      wEnc = new Float32Array(dIn * dSae);
      transposeInto(wEncT, dSae, dIn, wEnc);
    }
    const bDec = columnSums(dXHat);
    if (this.config.applyBDecToInput) subtractEncoderPath(bDec, mustGet(this.params, 'W_enc'), preSums, dIn, dSae);
    return { wEnc, wDec, preSums, bDec };
  }

  /** Whether the backend wants codes of this density (fraction of active entries) handled densely. */
  protected denseStep(density: number): boolean {
    const above = this.ctx.backend.denseStepAbove;
    return above !== undefined && density > above;
  }

  /**
   * Whether this step should run as the backend's fused dense step (ReLU, Gated early in a run): the
   * fraction of positive pre-activations xin·W_enc + bias on the batch's first DENSITY_SAMPLE_ROWS rows is
   * above the backend's denseStepAbove. A function of the batch and the weights alone, so a resumed run
   * takes the same path as an uninterrupted one; the sample costs a sixteenth of the encoder GEMM at
   * batch 4096 (the dense pre-activations of the whole batch never reach JavaScript on either path).
   */
  protected wantsDenseStep(xin: Matrix, bias: Float32Array): boolean {
    const { backend } = this.ctx;
    if (backend.denseStepAbove === undefined || backend.saeDenseStep === undefined) return false;
    const rows = Math.min(xin.rows, DENSITY_SAMPLE_ROWS);
    const head: Matrix = { data: xin.data.subarray(0, rows * xin.cols), rows, cols: xin.cols };
    const pre = backend.matmul(head, this.encoderWeights(), bias).data;
    let active = 0;
    for (let i = 0; i < pre.length; i++) active += +(pre[i] > 0);
    return this.denseStep(active / Math.max(1, pre.length));
  }

  /** The backend's fused dense step on this model's weights (bias: b_enc or b_gate; see SaeDenseStepInputs). */
  protected denseStepOf(
    kind: 'relu' | 'gated',
    x: Matrix,
    xin: Matrix,
    bias: Float32Array,
    penalty: Float32Array,
    gated?: { bMag: Float32Array; scale: Float32Array },
  ): SaeDenseStepResult {
    const run = this.ctx.backend.saeDenseStep;
    if (!run) throw new Error('this backend has no fused dense step');
    return run({ kind, x, xin, wEnc: this.encoderWeights(), wDec: this.decoder(), bDec: mustGet(this.params, 'b_dec'), bias, penalty, ...gated });
  }

  /**
   * sharedGrads after a fused dense step: its W_enc/W_dec gradients and sums, plus `extra` sparse codes
   * (AuxK) added after the main one's, and b_dec's encoder path. Same quantities as sharedGrads, summed
   * in another order.
   */
  protected denseSharedGrads(step: SaeDenseStepResult, xin: Matrix, extra: readonly ExtraCodeGrads[]): SharedGrads {
    const { backend } = this.ctx;
    const { dIn, dSae } = this;
    const wEnc = step.gWEnc;
    const wDec = step.gWDec;
    const preSums = Float64Array.from(step.preSums);
    if (extra.length > 0) {
      const wEncT = new Float32Array(dSae * dIn);
      for (const ex of extra) {
        backend.sparseTransMatmulAcc(ex.features, ex.dOut, { data: wDec, rows: dSae, cols: dIn });
        backend.sparseTransMatmulAcc(ex.dPre, xin, { data: wEncT, rows: dSae, cols: dIn });
        const extraSums = sparseColumnSums(ex.dPre);
        for (let j = 0; j < dSae; j++) preSums[j] += extraSums[j];
      }
      for (let j = 0; j < dSae; j++) for (let i = 0; i < dIn; i++) wEnc[i * dSae + j] += wEncT[j * dIn + i];
    }
    const bDec = Float32Array.from(step.dXHatSums);
    if (this.config.applyBDecToInput) subtractEncoderPath(bDec, mustGet(this.params, 'W_enc'), preSums, dIn, dSae);
    return { wEnc, wDec, preSums, bDec };
  }

  /** Copies of the named parameters with their stored shapes (any name but W_enc, W_dec, b_dec is per latent). */
  protected storedTensors(names: readonly string[]): Map<string, { shape: number[]; data: Float32Array }> {
    const { dIn, dSae } = this;
    const shapeOf = (name: string): number[] =>
      name === 'W_enc' ? [dIn, dSae] : name === 'W_dec' ? [dSae, dIn] : name === 'b_dec' ? [dIn] : [dSae];
    return new Map(names.map((name) => [name, tensor(shapeOf(name), mustGet(this.params, name).slice())]));
  }
}

/** Rows of the batch whose pre-activations decide between the sparse and the fused dense step. */
const DENSITY_SAMPLE_ROWS = 256;

/** Active entries of a fused dense step's code (Σ of its per-latent fire counts). */
export function firingTotal(step: SaeDenseStepResult): number {
  let n = 0;
  for (let j = 0; j < step.fireCount.length; j++) n += step.fireCount[j];
  return n;
}

/** W_enc, W_dec, b_enc, b_dec gradients keyed like AffineInit's params, in the same order. */
export function affineGrads(g: SharedGrads): Map<string, Float32Array> {
  return new Map<string, Float32Array>([
    ['W_enc', g.wEnc],
    ['W_dec', g.wDec],
    ['b_enc', Float32Array.from(g.preSums)],
    ['b_dec', g.bDec],
  ]);
}

export const AFFINE_PARAMS: readonly string[] = ['W_enc', 'W_dec', 'b_enc', 'b_dec'];

/** The indices j with mask[j] ≠ 0, ascending. */
export function columnsWhere(mask: Uint8Array): Int32Array {
  let n = 0;
  for (let j = 0; j < mask.length; j++) if (mask[j] !== 0) n++;
  const out = new Int32Array(n);
  n = 0;
  for (let j = 0; j < mask.length; j++) if (mask[j] !== 0) out[n++] = j;
  return out;
}

/** Per row, k of the columns of `sub` (latents cols[0..], ascending) in the numbering of a width-`width` code. */
export type ColumnPick = (sub: Matrix, cols: Int32Array, k: number, width: number) => SparseRows;

/**
 * selectRowTopK over the columns of `sub`, which hold latents cols[0..] (ascending) of a width-`width`
 * code; the result is in the full code's column numbering. The mapping keeps column order, so ties
 * resolve as they would on the full matrix.
 */
export function topKOfColumns(sub: Matrix, cols: Int32Array, k: number, width: number): SparseRows {
  const sel = selectRowTopK(sub, k, undefined);
  return { rows: sel.rows, cols: width, rowPtr: sel.rowPtr, colIdx: sel.colIdx.map((t) => cols[t]), values: sel.values };
}
