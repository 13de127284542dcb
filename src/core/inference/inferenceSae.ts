// The SAE as analysis uses it: stored weights prepared once per loaded SAE, then encode/decode of raw site
// activations with the exact semantics of src/core/sae's models, plus what those leave to the caller:
// per-token input normalisation (SaeConfig.normalizeActivations) and the skip connection (sparsify, skip
// transcoders). A transcoder (config.dOut set) decodes to another site's width: its "reconstruction" is
// the prediction of that output site from the input site's activations.
//
// Encoding is one GEMM (x̃·W_enc, x̃ the normalised input minus b_dec when the SAE subtracts it) followed
// by the architecture's activation over [n, d_sae]. The GEMM is pluggable: a JavaScript kernel here, the
// runtime's ONNX GEMM in the worker (see PreActivationKernel).
import { normalizeInput } from '../formats/activation-normalization';
import { withInputScaleFolded } from '../sae/fold';
import { gatedActivation } from '../sae/gated';
import { activeAbove, rowTopK } from '../sae/activations';
import type { SaeConfig, SaeWeights } from '../sae/weights';
import { matmulTransposed, sparseToDense, transpose, type Matrix, type SparseRows } from '../tensor';

/** x̃ [n, d_in] · W_enc [d_in, d_sae], without bias, as a fresh matrix (the caller may overwrite it). */
export type PreActivationKernel = (x: Matrix) => Promise<Matrix>;

/** Maps a reconstruction from the SAE's (normalised) space back to the site's, in place. */
export type Restore = (y: Float32Array) => Float32Array;

export interface EncodedRows {
  /** Active features per row (CSR, columns ascending), in the units of src/core/sae's models. */
  readonly features: SparseRows;
  /** Per row; undefined when the SAE normalises nothing at run time. */
  readonly restore?: readonly Restore[];
  /** Rows whose per-token normalisation had no scale (all-zero tokens): normalised to zeros, see activation-normalization.ts. */
  readonly degenerateRows?: readonly number[];
}

/** A warning for rows the per-token normalisation could not scale, or undefined when there were none. */
export function degenerateRowsWarning(sae: InferenceSae, rows: number): string | undefined {
  if (rows === 0) return undefined;
  return (
    `${rows} token${rows === 1 ? '' : 's'} had zero ${sae.config.normalizeActivations === 'layer_norm' ? 'spread' : 'norm'}, so the SAE's ` +
    `${sae.config.normalizeActivations} normalisation is undefined there: their normalised input was set to zeros (no NaN)`
  );
}

type Activation = (proj: Matrix) => SparseRows;

export class InferenceSae {
  /** The weights this encodes with (input scale folded in). */
  readonly weights: SaeWeights;
  readonly config: SaeConfig;
  readonly dIn: number;
  readonly dSae: number;
  /** Width of the decoder's output: d_in for an SAE, the output site's width for a transcoder. */
  readonly dOut: number;
  readonly isTranscoder: boolean;
  readonly wEnc: Float32Array;
  /** [d_sae, d_out] */
  readonly wDec: Float32Array;
  /** [d_out] */
  readonly bDec: Float32Array;
  /** Skip connection [d_out, d_in]: x̂_j += Σ_k W_skip[j, k]·x_k (raw x). */
  readonly wSkip?: Float32Array;
  private readonly activation: Activation;
  private wEncT?: Float32Array;

  /**
   * `stored`: weights as read from a checkpoint. An input scale is folded in (as saeFromWeights does), so
   * features and reconstructions are in the site's units.
   */
  constructor(stored: SaeWeights) {
    const weights = withInputScaleFolded(stored);
    this.weights = weights;
    this.config = weights.config;
    const { dIn, dSae } = this.config;
    this.dIn = dIn;
    this.dSae = dSae;
    this.isTranscoder = this.config.dOut !== undefined;
    const dOut = this.config.dOut ?? dIn;
    this.dOut = dOut;
    if (this.isTranscoder && this.config.applyBDecToInput) throw new Error('a transcoder cannot subtract b_dec (its output bias) from its input');
    const get = (name: string, len: number): Float32Array => {
      const t = weights.tensors.get(name);
      if (!t) throw new Error(`SAE weights: missing tensor ${name} for architecture ${this.config.architecture}`);
      if (t.data.length !== len) throw new Error(`SAE weights: ${name} has ${t.data.length} values, expected ${len}`);
      return t.data;
    };
    this.wEnc = get('W_enc', dIn * dSae);
    this.wDec = get('W_dec', dSae * dOut);
    this.bDec = get('b_dec', dOut);
    if (weights.tensors.has('W_skip')) this.wSkip = get('W_skip', dOut * dIn);
    this.activation = activationFor(this.config, (name) => get(name, dSae), (name) => weights.tensors.get(name)?.data);
  }

  /** The encoder's input: normalised per token when the SAE says so, minus b_dec when it subtracts it. */
  encoderInput(x: Matrix): { x: Matrix; restore?: Restore[]; degenerateRows?: number[] } {
    if (x.cols !== this.dIn) throw new Error(`SAE reads d_in ${this.dIn}, got activations of width ${x.cols}`);
    const subtract = this.config.applyBDecToInput;
    const norm = this.config.normalizeActivations;
    const perToken = norm === 'constant_norm_rescale' || norm === 'layer_norm';
    if (!subtract && !perToken) return { x };
    const d = this.dIn;
    const out = new Float32Array(x.rows * d);
    const restore: Restore[] = [];
    const degenerateRows: number[] = [];
    for (let t = 0; t < x.rows; t++) {
      let row = x.data.subarray(t * d, (t + 1) * d);
      if (perToken) {
        const n = normalizeInput(this.config, row);
        row = n.x;
        restore.push(n.restoreOutput);
        if (n.degenerate) degenerateRows.push(t);
      }
      const o = t * d;
      if (subtract) for (let j = 0; j < d; j++) out[o + j] = row[j] - this.bDec[j];
      else out.set(row, o);
    }
    // A transcoder's output lives at another site: SAELens does not map it back through the input's norm.
    const restores = perToken && !this.isTranscoder;
    return { x: { data: out, rows: x.rows, cols: d }, ...(restores ? { restore } : {}), ...(degenerateRows.length > 0 ? { degenerateRows } : {}) };
  }

  /** Features from the encoder's projection x̃·W_enc (biases and thresholds are applied here). */
  activate(proj: Matrix): SparseRows {
    if (proj.cols !== this.dSae) throw new Error(`activate: projection has ${proj.cols} columns, expected ${this.dSae}`);
    return this.activation(proj);
  }

  /** Synchronous encode with the JavaScript GEMM. */
  encode(x: Matrix): EncodedRows {
    const input = this.encoderInput(x);
    this.wEncT ??= transpose(this.wEnc, this.dIn, this.dSae);
    return withRestore(this.activate(matmulTransposed(input.x, this.wEncT, this.dSae)), input);
  }

  /** Encode with another GEMM for x̃·W_enc (e.g. the runtime's dense layer over this.wEnc). */
  async encodeWith(x: Matrix, kernel: PreActivationKernel): Promise<EncodedRows> {
    const input = this.encoderInput(x);
    const proj = await kernel(input.x);
    if (proj.rows !== x.rows || proj.cols !== this.dSae) throw new Error(`encoder GEMM returned ${proj.rows}×${proj.cols}, expected ${x.rows}×${this.dSae}`);
    return withRestore(this.activate(proj), input);
  }

  /**
   * Output of row t in the output site's space: restore(f·W_dec + b_dec) + W_skip·x. `y` [d_out]: f·W_dec
   * (no b_dec), reused. For an SAE this is the reconstruction of x; for a transcoder, its prediction.
   */
  reconstructRow(encoded: EncodedRows, x: Matrix, t: number, y: Float32Array): Float32Array {
    const dOut = this.dOut;
    const dIn = this.dIn;
    for (let j = 0; j < dOut; j++) y[j] += this.bDec[j];
    encoded.restore?.[t](y);
    if (this.wSkip) {
      const xo = t * dIn;
      for (let j = 0; j < dOut; j++) {
        let s = 0;
        const so = j * dIn;
        for (let k = 0; k < dIn; k++) s += this.wSkip[so + k] * x.data[xo + k];
        y[j] += s;
      }
    }
    return y;
  }

  /** Features and outputs in one call (evaluation, `encode --recon`). */
  forward(x: Matrix): { features: SparseRows; reconstruction: Matrix; degenerateRows?: readonly number[] } {
    const encoded = this.encode(x);
    return { features: encoded.features, reconstruction: this.decode(encoded, x), ...(encoded.degenerateRows ? { degenerateRows: encoded.degenerateRows } : {}) };
  }

  /** Dense features [n, d_sae]. */
  denseFeatures(encoded: EncodedRows): Matrix {
    return sparseToDense(encoded.features);
  }

  /** Dense outputs [n, d_out] (reconstructions of x, or a transcoder's predictions) for the raw activations x. */
  decode(encoded: EncodedRows, x: Matrix): Matrix {
    const d = this.dOut;
    const { rowPtr, colIdx, values } = encoded.features;
    const out = new Float32Array(x.rows * d);
    const y = new Float32Array(d);
    for (let t = 0; t < x.rows; t++) {
      y.fill(0);
      for (let e = rowPtr[t]; e < rowPtr[t + 1]; e++) {
        const a = values[e];
        const wo = colIdx[e] * d;
        for (let j = 0; j < d; j++) y[j] += a * this.wDec[wo + j];
      }
      out.set(this.reconstructRow(encoded, x, t, y), t * d);
    }
    return { data: out, rows: x.rows, cols: d };
  }
}

function withRestore(features: SparseRows, input: { restore?: Restore[]; degenerateRows?: number[] }): EncodedRows {
  return { features, ...(input.restore ? { restore: input.restore } : {}), ...(input.degenerateRows ? { degenerateRows: input.degenerateRows } : {}) };
}

function activationFor(config: SaeConfig, need: (name: string) => Float32Array, optional: (name: string) => Float32Array | undefined): Activation {
  const { dSae } = config;
  switch (config.architecture) {
    case 'jumprelu':
    case 'batchtopk': {
      const theta = optional('threshold');
      if (!theta) throw new Error(`SAE weights: ${config.architecture} needs a threshold tensor`);
      if (theta.length !== dSae && theta.length !== 1) throw new Error(`SAE weights: threshold has ${theta.length} values, expected ${dSae}`);
      const bEnc = need('b_enc');
      const th = theta.length === 1 ? new Float32Array(dSae).fill(theta[0]) : theta;
      return (proj) => activeAbove(biased(proj, bEnc), th);
    }
    case 'relu': {
      const bEnc = need('b_enc');
      return (proj) => activeAbove(biased(proj, bEnc), new Float32Array(dSae));
    }
    case 'topk': {
      const k = config.k;
      if (k === undefined || !Number.isInteger(k) || k < 1 || k > dSae) throw new Error(`k must be an integer in 1..d_sae, got ${k}`);
      const bEnc = need('b_enc');
      return (proj) => rowTopK(biased(proj, bEnc), k, undefined);
    }
    case 'gated': {
      const bGate = need('b_gate');
      const bMag = need('b_mag');
      const scale = need('r_mag').map(Math.exp);
      return (proj) => gatedActivation(proj, bGate, bMag, scale);
    }
  }
}

/** proj + bias on every row, in place: the projection is ours (fresh from the GEMM). */
function biased(proj: Matrix, bias: Float32Array): Matrix {
  const n = proj.cols;
  const p = proj.data;
  for (let r = 0; r < proj.rows; r++) {
    const o = r * n;
    for (let j = 0; j < n; j++) p[o + j] += bias[j];
  }
  return proj;
}
