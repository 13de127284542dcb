// AuxK (Gao et al. 2024, §A.2): the top-k_aux pre-activations among dead latents reconstruct the detached
// residual e = x − x̂ (through W_dec, without b_dec), so latents that stopped firing get a gradient towards
// what the live ones miss. Weighted as in Gao et al.: the squared error is divided by the residual's total
// variance Σ‖e − ē‖² over the batch, so α (1/32) means the same whatever the residual's size; the
// unnormalised form made AuxK ~30× weaker relative to the main loss once the residual was small.
import type { Matrix, NumericBackend, SparseRows } from '../tensor';
import { kthLargest } from './activations';
import { topKOfColumns, type ExtraCodeGrads } from './saeBase';

/**
 * Which dead latents AuxK uses per row: 'positive' (OpenAI, dictionary_learning: the top k_aux of the
 * ReLU'd pre-activations, so a latent whose pre-activations are all ≤ 0 gets no gradient at all) or
 * 'signed' (SAELens: the top k_aux raw pre-activations, any sign).
 */
export type AuxKSelection = 'positive' | 'signed';

export interface AuxKOptions {
  /** Dead latents used per row (Gao: d_in/2). */
  readonly kAux: number;
  /** Weight α of the normalised term (Gao: 1/32). */
  readonly coeff: number;
  /** Default 'positive'. */
  readonly selection?: AuxKSelection;
}

/**
 * AuxK's pick: per row the k_aux dead latents among the columns of `sub` (their pre-activations, or
 * Gated's π_gate; cols ascending), numbered in a width-`width` code.
 */
export function deadLatentTopK(sub: Matrix, cols: Int32Array, k: number, width: number, selection: AuxKSelection | undefined): SparseRows {
  return selection === 'signed' ? signedTopKOfColumns(sub, cols, k, width) : topKOfColumns(sub, cols, k, width);
}

export interface AuxKResult {
  readonly loss: number;
  /** Undefined when nothing was selected (no dead latent with a positive pre-activation). */
  readonly grads?: ExtraCodeGrads;
}

/**
 * SAELens's damping of AuxK's weight when few latents are dead: min(n_dead/k_aux, 1). With fewer dead
 * latents than k_aux every one of them is picked on every row, so undamped they all get the full pull
 * towards the residual at once. Used only where a caller asks for it (TopKOptions.auxKDeadScale).
 */
export function auxKDeadShare(nDead: number, kAux: number): number {
  return Math.min(nDead / kAux, 1);
}

/** Whether AuxK has anything to do this step. */
export function auxKActive(dead: Uint8Array | undefined, o: AuxKOptions | undefined): dead is Uint8Array {
  return !!dead && !!o && o.coeff > 0 && o.kAux >= 1 && dead.some((v) => v !== 0);
}

/**
 * `aux`: per row the top-k_aux dead latents with the values they would fire with (rowTopK of the
 * pre-activations, or of Gated's π_gate, masked to dead latents). `featureGrads(at, dOut)` = dL/df at the
 * entries of `at` given dL/dê = dOut (the model's decoder dot product). The returned dPre has
 * ∂f/∂pre = 1 at every selected entry.
 */
export function auxKLoss(
  backend: NumericBackend,
  decoder: Matrix,
  aux: SparseRows,
  x: Matrix,
  xHat: Matrix,
  coeff: number,
  featureGrads: (at: SparseRows, dOut: Matrix) => Float32Array,
): AuxKResult {
  if (aux.colIdx.length === 0) return { loss: 0 };
  const B = x.rows;
  const d = x.cols;
  const e = new Float32Array(x.data.length);
  const mean = new Float64Array(d);
  for (let i = 0; i < e.length; i++) {
    e[i] = x.data[i] - xHat.data[i];
    mean[i % d] += e[i];
  }
  let variance = 0;
  for (let r = 0; r < B; r++) for (let j = 0; j < d; j++) variance += (e[r * d + j] - mean[j] / B) ** 2;
  if (!(variance > 0)) return { loss: 0 };
  const eHat = backend.sparseMatmul(aux, decoder);
  const dEHat = new Float32Array(e.length);
  let sum = 0;
  const scale = (2 * coeff) / variance;
  for (let i = 0; i < e.length; i++) {
    const diff = eHat.data[i] - e[i];
    sum += diff * diff;
    dEHat[i] = scale * diff;
  }
  const dOut: Matrix = { data: dEHat, rows: B, cols: d };
  return {
    loss: (coeff * sum) / variance,
    grads: { features: aux, dOut, dPre: { ...aux, values: featureGrads(aux, dOut) } },
  };
}

/**
 * Per row, the k largest entries of `sub` whatever their sign (SAELens's AuxK selection: dead latents'
 * raw pre-activations, not ReLU'd), in the numbering of a width-`width` code whose latents cols[0..]
 * (ascending) are the columns of `sub`. Ties keep the lower column; columns come out ascending.
 * A latent whose pre-activations have all gone negative stays in reach of the loss this way; with a
 * ReLU'd selection it gets no gradient from anything and stays dead for good.
 */
export function signedTopKOfColumns(sub: Matrix, cols: Int32Array, k: number, width: number): SparseRows {
  const n = sub.cols;
  const take = Math.min(k, n);
  const rowPtr = new Int32Array(sub.rows + 1);
  const colIdx = new Int32Array(sub.rows * take);
  const values = new Float32Array(sub.rows * take);
  const scratch = new Float32Array(n);
  let nnz = 0;
  for (let r = 0; r < sub.rows; r++) {
    const row = sub.data.subarray(r * n, (r + 1) * n);
    if (take > 0) {
      scratch.set(row);
      const cut = kthLargest(scratch, take);
      let above = 0;
      for (let t = 0; t < n; t++) if (row[t] > cut) above++;
      let ties = take - above;
      for (let t = 0; t < n; t++) {
        const v = row[t];
        if (v > cut || (v === cut && ties-- > 0)) {
          colIdx[nnz] = cols[t];
          values[nnz] = v;
          nnz++;
        }
      }
    }
    rowPtr[r + 1] = nnz;
  }
  return { rows: sub.rows, cols: width, rowPtr, colIdx: colIdx.slice(0, nnz), values: values.slice(0, nnz) };
}
