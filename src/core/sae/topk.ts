// TopK (Gao et al. 2024) and BatchTopK (Bussmann et al. 2024) SAEs, both with the AuxK dead-latent loss.
// BatchTopK keeps the k·B largest pre-activations of the whole batch while training; at inference it is a
// JumpReLU with one global threshold (an EMA of the smallest kept activation), and is exported that way.
import type { Matrix } from '../tensor';
import { SparseBuilder, sparseColumnSums, type SparseRows } from '../train/backend';
import { activeAbove } from './jumprelu';
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

export interface TopKOptions {
  readonly k: number;
  /** AuxK latents per row (Gao: d_in/2). */
  readonly kAux: number;
  /** AuxK weight α (Gao: 1/32). */
  readonly auxCoeff: number;
  /** BatchTopK threshold EMA rate. */
  readonly thresholdEmaRate: number;
}

export class TopKSae implements SaeModel {
  readonly params = new Map<string, Float32Array>();
  readonly buffers = new Map<string, Float32Array>();
  readonly unitNormDecoder = true;
  private readonly dIn: number;
  private readonly dSae: number;

  constructor(
    readonly config: SaeConfig,
    private readonly ctx: ModelContext,
    init: { wEnc: Float32Array; wDec: Float32Array; bEnc: Float32Array; bDec: Float32Array },
    readonly options: TopKOptions,
    readonly batchTopK: boolean,
  ) {
    this.dIn = config.dIn;
    this.dSae = config.dSae;
    this.params.set('W_enc', init.wEnc);
    this.params.set('W_dec', init.wDec);
    this.params.set('b_enc', init.bEnc);
    this.params.set('b_dec', init.bDec);
    // [threshold, batches seen]: NaN until the first training batch sets it.
    if (batchTopK) this.buffers.set('threshold_ema', Float32Array.of(Number.NaN, 0));
  }

  preActivations(x: Matrix): { xin: Matrix; pre: Matrix } {
    const xin = encoderInput(x, mustGet(this.params, 'b_dec'), this.config.applyBDecToInput);
    const pre = this.ctx.backend.matmul(
      xin,
      { data: mustGet(this.params, 'W_enc'), rows: this.dIn, cols: this.dSae },
      mustGet(this.params, 'b_enc'),
    );
    return { xin, pre };
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
    const wDec: Matrix = { data: mustGet(this.params, 'W_dec'), rows: dSae, cols: dIn };
    const { xin, pre } = this.preActivations(x);
    let feats: SparseRows;
    if (this.batchTopK) {
      const sel = batchTopK(pre, this.options.k);
      feats = sel.features;
      if (options.training !== false && Number.isFinite(sel.minKept)) this.updateThreshold(sel.minKept);
    } else {
      feats = rowTopK(pre, this.options.k, undefined);
    }
    const xHat = backend.sparseMatmul(feats, wDec, mustGet(this.params, 'b_dec'));
    const { mse, grad: dXHat } = mseGradient(xHat, x);
    const dPreVals = new Float32Array(feats.colIdx.length);
    backend.sampledDot(feats, dXHat, wDec, dPreVals);

    const gWDec = new Float32Array(dSae * dIn);
    const gWEncT = new Float32Array(dSae * dIn);
    backend.sparseTransMatmulAcc(feats, dXHat, { data: gWDec, rows: dSae, cols: dIn });
    const dPre: SparseRows = { ...feats, values: dPreVals };
    backend.sparseTransMatmulAcc(dPre, xin, { data: gWEncT, rows: dSae, cols: dIn });
    const dPreSums = sparseColumnSums(dPre);

    // AuxK: the top-k_aux dead latents reconstruct the (detached) residual e = x − x̂, without b_dec.
    let auxLoss = 0;
    const dead = options.dead;
    if (dead && this.options.auxCoeff > 0 && this.options.kAux > 0 && dead.some((v) => v !== 0)) {
      const aux = rowTopK(pre, this.options.kAux, dead);
      if (aux.colIdx.length > 0) {
        const eHat = backend.sparseMatmul(aux, wDec);
        const dEHat = new Float32Array(eHat.data.length);
        const scale = (2 * this.options.auxCoeff) / B;
        let sum = 0;
        for (let i = 0; i < dEHat.length; i++) {
          const diff = eHat.data[i] - (x.data[i] - xHat.data[i]);
          sum += diff * diff;
          dEHat[i] = scale * diff;
        }
        auxLoss = (this.options.auxCoeff * sum) / B;
        const dEHatM: Matrix = { data: dEHat, rows: B, cols: dIn };
        backend.sparseTransMatmulAcc(aux, dEHatM, { data: gWDec, rows: dSae, cols: dIn });
        const dAux = new Float32Array(aux.colIdx.length);
        backend.sampledDot(aux, dEHatM, wDec, dAux);
        const dAuxPre: SparseRows = { ...aux, values: dAux };
        backend.sparseTransMatmulAcc(dAuxPre, xin, { data: gWEncT, rows: dSae, cols: dIn });
        const auxSums = sparseColumnSums(dAuxPre);
        for (let j = 0; j < dSae; j++) dPreSums[j] += auxSums[j];
      }
    }

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
      loss: mse + auxLoss,
      mse,
      sparsityLoss: 0,
      auxLoss,
      l0: feats.colIdx.length / B,
      features: feats,
      reconstruction: xHat,
      grads,
    };
  }

  private updateThreshold(minKept: number): void {
    const buf = mustGet(this.buffers, 'threshold_ema');
    buf[0] = buf[1] === 0 ? minKept : (1 - this.options.thresholdEmaRate) * buf[0] + this.options.thresholdEmaRate * minKept;
    buf[1]++;
  }

  toWeights(): SaeWeights {
    const { dIn, dSae } = this;
    const tensors = new Map<string, { shape: number[]; data: Float32Array }>([
      ['W_enc', tensor([dIn, dSae], mustGet(this.params, 'W_enc').slice())],
      ['W_dec', tensor([dSae, dIn], mustGet(this.params, 'W_dec').slice())],
      ['b_enc', tensor([dSae], mustGet(this.params, 'b_enc').slice())],
      ['b_dec', tensor([dIn], mustGet(this.params, 'b_dec').slice())],
    ]);
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

/**
 * Per row, the k largest positive pre-activations (ReLU after TopK), restricted to latents with
 * mask[j] !== 0 when a mask is given. Columns come out in ascending order.
 */
export function rowTopK(pre: Matrix, k: number, mask: Uint8Array | undefined): SparseRows {
  const n = pre.cols;
  const out = new SparseBuilder(pre.rows, n, pre.rows * k);
  const heapVal = new Float32Array(k);
  const heapIdx = new Int32Array(k);
  const picked: number[] = [];
  for (let r = 0; r < pre.rows; r++) {
    const base = r * n;
    let size = 0;
    for (let j = 0; j < n; j++) {
      if (mask && mask[j] === 0) continue;
      const v = pre.data[base + j];
      if (!(v > 0)) continue;
      if (size < k) {
        heapPush(heapVal, heapIdx, size++, v, j);
      } else if (v > heapVal[0]) {
        heapVal[0] = v;
        heapIdx[0] = j;
        siftDown(heapVal, heapIdx, size, 0);
      }
    }
    picked.length = 0;
    for (let i = 0; i < size; i++) picked.push(heapIdx[i]);
    picked.sort((a, b) => a - b);
    for (const j of picked) out.push(j, pre.data[base + j]);
    out.endRow();
  }
  return out.finish();
}

// Min-heap on values (ties broken towards the larger index leaving first, so results are deterministic).
function less(v: Float32Array, idx: Int32Array, a: number, b: number): boolean {
  return v[a] < v[b] || (v[a] === v[b] && idx[a] > idx[b]);
}

function heapPush(v: Float32Array, idx: Int32Array, at: number, value: number, j: number): void {
  v[at] = value;
  idx[at] = j;
  let i = at;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    if (!less(v, idx, i, parent)) break;
    swap(v, idx, i, parent);
    i = parent;
  }
}

function siftDown(v: Float32Array, idx: Int32Array, size: number, start: number): void {
  let i = start;
  for (;;) {
    const l = 2 * i + 1;
    const r = l + 1;
    let m = i;
    if (l < size && less(v, idx, l, m)) m = l;
    if (r < size && less(v, idx, r, m)) m = r;
    if (m === i) return;
    swap(v, idx, i, m);
    i = m;
  }
}

function swap(v: Float32Array, idx: Int32Array, a: number, b: number): void {
  const tv = v[a];
  v[a] = v[b];
  v[b] = tv;
  const ti = idx[a];
  idx[a] = idx[b];
  idx[b] = ti;
}

/** The k·B largest positive pre-activations across the batch; minKept is the smallest kept value. */
export function batchTopK(pre: Matrix, k: number): { features: SparseRows; minKept: number } {
  const total = k * pre.rows;
  const positives: number[] = [];
  for (let i = 0; i < pre.data.length; i++) if (pre.data[i] > 0) positives.push(pre.data[i]);
  let cut = 0;
  let keepTies = Infinity;
  if (positives.length > total) {
    const vals = Float32Array.from(positives);
    cut = kthLargest(vals, total);
    // Count how many strictly above the cut; ties at the cut fill the remainder in index order.
    let above = 0;
    for (const v of positives) if (v > cut) above++;
    keepTies = total - above;
  }
  const n = pre.cols;
  const b = new SparseBuilder(pre.rows, n, total);
  let minKept = Number.POSITIVE_INFINITY;
  for (let r = 0; r < pre.rows; r++) {
    for (let j = 0; j < n; j++) {
      const v = pre.data[r * n + j];
      if (!(v > 0)) continue;
      let keep = v > cut || (cut === 0 && v > 0);
      if (!keep && v === cut && keepTies > 0) {
        keep = true;
        keepTies--;
      }
      if (keep) {
        b.push(j, v);
        if (v < minKept) minKept = v;
      }
    }
    b.endRow();
  }
  return { features: b.finish(), minKept: Number.isFinite(minKept) ? minKept : Number.NaN };
}

/** The m-th largest value (1-based) by quickselect; reorders vals. */
function kthLargest(vals: Float32Array, m: number): number {
  let lo = 0;
  let hi = vals.length - 1;
  const target = m - 1; // index in descending order
  while (lo < hi) {
    const pivot = vals[(lo + hi) >> 1];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (vals[i] > pivot) i++;
      while (vals[j] < pivot) j--;
      if (i <= j) {
        const t = vals[i];
        vals[i] = vals[j];
        vals[j] = t;
        i++;
        j--;
      }
    }
    if (target <= j) hi = j;
    else if (target >= i) lo = i;
    else return vals[target];
  }
  return vals[target];
}
