// TopK (Gao et al. 2024) and BatchTopK (Bussmann et al. 2024) SAEs, both with the AuxK dead-latent loss.
// BatchTopK keeps the k·B largest pre-activations of the whole batch while training; at inference it is a
// JumpReLU with one global threshold (an EMA of the smallest kept activation), and is exported that way.
import type { Matrix } from '../tensor';
import { SparseBuilder, type SparseRows } from '../train/backend';
import { activeAbove } from './jumprelu';
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
