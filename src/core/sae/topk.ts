// TopK (Gao et al. 2024) and BatchTopK (Bussmann et al. 2024) SAEs, both with the AuxK dead-latent loss.
// Matryoshka BatchTopK (Bussmann et al. 2025; SAELens, dictionary_learning) adds nested prefix losses.
// BatchTopK keeps the k·B largest pre-activations of the whole batch while training; at inference it is a
// JumpReLU with one global threshold (an EMA of the smallest kept activation), and is exported that way.
import { SparseBuilder, type Matrix, type SparseRows } from '../tensor';
import { batchTopKFromEncoder } from './activations';
import { auxKActive, auxKDeadShare, auxKLoss, deadLatentTopK } from './auxK';
import { mseGradient, mustGet, tensor, type LossOptions, type LossResult, type ModelContext } from './model';
import { AFFINE_PARAMS, SaeBase, affineGrads, type AffineInit, type ExtraCodeGrads } from './saeBase';
import type { SaeConfig, SaeWeights } from './weights';

export interface TopKOptions {
  readonly k: number;
  /** AuxK latents per row (Gao: d_in/2). */
  readonly kAux: number;
  /** AuxK weight α on the residual-variance-normalised term (Gao: 1/32); see auxK.ts. */
  readonly auxCoeff: number;
  /** BatchTopK threshold EMA rate. */
  readonly thresholdEmaRate: number;
  /**
   * Matryoshka (BatchTopK only): strictly increasing prefix widths ending at d_sae. Every prefix
   * 0..m_ℓ−1 reconstructs x on its own and the losses of all levels are summed (weights 1, as SAELens).
   */
  readonly matryoshkaWidths?: readonly number[];
  /**
   * Which dead latents AuxK may use: 'positive' (OpenAI, dictionary_learning: the top k_aux of the
   * ReLU'd pre-activations, so a latent whose pre-activations are all ≤ 0 gets no gradient at all) or
   * 'signed' (SAELens: the top k_aux raw pre-activations, any sign). Default 'positive'.
   */
  readonly auxKSelection?: 'positive' | 'signed';
  /** Matryoshka: one weight per level (default 1 each, as SAELens). */
  readonly matryoshkaWeights?: readonly number[];
  /**
   * SAELens's damping of AuxK when few latents are dead: α·min(n_dead/k_aux, 1), n_dead counted where the
   * term picks from (the whole code, or one Matryoshka group). Default off (α as it is).
   */
  readonly auxKDeadScale?: boolean;
  /**
   * Matryoshka: 'full' (default) — every dead latent reconstructs the full width's residual; 'perLevel'
   * (SAELens's use_matryoshka_aux_loss) — the dead latents of group g reconstruct level g's residual
   * x − x̂⁽ᵍ⁾, one AuxK term per group with dead latents, the terms summed.
   */
  readonly matryoshkaAuxK?: 'full' | 'perLevel';
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
    const widths = options.matryoshkaWidths;
    if (widths) {
      if (!batchTopK) throw new Error('Matryoshka prefixes are defined for BatchTopK');
      validateMatryoshkaWidths(widths, config.dSae);
    }
    const weights = options.matryoshkaWeights;
    if (weights && !(widths && weights.length === widths.length && weights.every((w) => Number.isFinite(w) && w > 0))) {
      throw new Error('Matryoshka weights need Matryoshka widths: one positive weight per level');
    }
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

  // The engine selects from xin·W_enc + b_enc itself: the dense pre-activations never reach JavaScript.
  encode(x: Matrix): SparseRows {
    const xin = this.encoderInput(x);
    const bEnc = mustGet(this.params, 'b_enc');
    if (this.batchTopK) {
      const t = this.globalThreshold();
      if (Number.isFinite(t)) return this.encoderAbove(xin, bEnc, uniform(this.dSae, t));
      return this.batchSelect(xin, bEnc).features; // untrained: fall back to the batch rule
    }
    return this.encoderTopK(xin, bEnc, this.options.k);
  }

  private batchSelect(xin: Matrix, bEnc: Float32Array): { features: SparseRows; minKept: number } {
    return batchTopKFromEncoder(this.ctx.backend, xin, this.encoderWeights(), bEnc, this.options.k);
  }

  lossAndGrads(x: Matrix, options: LossOptions): LossResult {
    const xin = this.encoderInput(x);
    const bEnc = mustGet(this.params, 'b_enc');
    let feats: SparseRows;
    if (this.batchTopK) {
      const sel = this.batchSelect(xin, bEnc);
      feats = sel.features;
      if (options.training !== false && Number.isFinite(sel.minKept)) this.updateThreshold(sel.minKept);
    } else {
      feats = this.encoderTopK(xin, bEnc, this.options.k);
    }
    const widths = this.options.matryoshkaWidths;
    const main = widths ? this.matryoshkaLoss(feats, x, widths) : this.singleLoss(feats, x);
    const aux = this.auxK(xin, bEnc, x, main, options.dead);
    const extras = [...main.extras, ...aux.grads];
    return {
      loss: main.loss + aux.loss,
      mse: main.mse,
      sparsityLoss: 0,
      auxLoss: aux.loss,
      l0: feats.colIdx.length / x.rows,
      features: feats,
      reconstruction: main.xHat,
      grads: affineGrads(this.sharedGrads(main.features, main.dXHat, main.dPre, xin, extras)),
    };
  }

  /** AuxK's dead latents per row (see TopKOptions.auxKSelection). */
  private deadSelection(xin: Matrix, bEnc: Float32Array, dead: Uint8Array): SparseRows {
    const selection = this.options.auxKSelection;
    return this.maskedTopK(xin, bEnc, this.options.kAux, dead, (sub, cols, k, width) => deadLatentTopK(sub, cols, k, width, selection));
  }

  /**
   * The AuxK term(s): one over all dead latents against the full residual, or (Matryoshka 'perLevel') one per
   * group against that level's residual; each α damped by min(n_dead/k_aux, 1) when auxKDeadScale is set.
   */
  private auxK(xin: Matrix, bEnc: Float32Array, x: Matrix, main: LevelLosses, dead: Uint8Array | undefined): { loss: number; grads: ExtraCodeGrads[] } {
    const o = this.options;
    if (!auxKActive(dead, { kAux: o.kAux, coeff: o.auxCoeff })) return { loss: 0, grads: [] };
    const widths = o.matryoshkaWidths;
    const parts: { mask: Uint8Array; xHat: Matrix }[] = [];
    if (widths && o.matryoshkaAuxK === 'perLevel') {
      widths.forEach((w, g) => {
        const mask = new Uint8Array(dead.length);
        for (let j = g === 0 ? 0 : widths[g - 1]; j < w; j++) mask[j] = dead[j];
        parts.push({ mask, xHat: main.levels[g] });
      });
    } else {
      parts.push({ mask: dead, xHat: main.xHat });
    }
    let loss = 0;
    const grads: ExtraCodeGrads[] = [];
    for (const { mask, xHat } of parts) {
      let nDead = 0;
      for (const v of mask) if (v !== 0) nDead++;
      if (nDead === 0) continue;
      const coeff = o.auxCoeff * (o.auxKDeadScale ? auxKDeadShare(nDead, o.kAux) : 1);
      const r = auxKLoss(this.ctx.backend, this.decoder(), this.deadSelection(xin, bEnc, mask), x, xHat, coeff, (at, d) => this.featureGrads(at, d));
      loss += r.loss;
      if (r.grads) grads.push(r.grads);
    }
    return { loss, grads };
  }

  private singleLoss(feats: SparseRows, x: Matrix): LevelLosses {
    const { xHat, mse, dXHat } = this.reconstructionLoss(feats, x);
    const dPre: SparseRows = { ...feats, values: this.featureGrads(feats, dXHat) };
    return { loss: mse, mse, xHat, levels: [xHat], features: feats, dXHat, dPre, extras: [] };
  }

  /**
   * Σ_ℓ mean ‖x − x̂⁽ℓ⁾‖² with x̂⁽ℓ⁾ = b_dec + the decoding of latents below m_ℓ. A latent in group g
   * (m_{g−1} ≤ j < m_g) appears in every level ℓ ≥ g, so its gradient is read against G_g = Σ_{ℓ≥g} dX̂⁽ℓ⁾.
   */
  private matryoshkaLoss(feats: SparseRows, x: Matrix, widths: readonly number[]): LevelLosses {
    const { backend } = this.ctx;
    const groups = splitByColumn(feats, widths);
    const L = groups.length;
    const bDec = mustGet(this.params, 'b_dec');
    const n = x.data.length;
    const level = new Float32Array(n);
    for (let i = 0; i < n; i++) level[i] = bDec[i % x.cols];
    const dLevel: Float32Array[] = [];
    let loss = 0;
    let mse = 0;
    let xHat: Matrix = { data: level, rows: x.rows, cols: x.cols };
    const levels: Matrix[] = [];
    for (let g = 0; g < L; g++) {
      const part = backend.sparseMatmul(groups[g], this.decoder());
      for (let i = 0; i < n; i++) level[i] += part.data[i];
      const cur: Matrix = { data: level.slice(), rows: x.rows, cols: x.cols };
      levels.push(cur);
      const r = mseGradient(cur, x);
      const w = this.options.matryoshkaWeights?.[g] ?? 1;
      loss += w * r.mse;
      if (w !== 1) for (let i = 0; i < n; i++) r.grad.data[i] *= w;
      dLevel.push(r.grad.data);
      if (g === L - 1) {
        mse = r.mse;
        xHat = cur;
      }
    }
    // Suffix sums G_g, from the last level down.
    const G: Matrix[] = new Array<Matrix>(L);
    let acc = new Float32Array(n);
    for (let g = L - 1; g >= 0; g--) {
      const next = new Float32Array(n);
      for (let i = 0; i < n; i++) next[i] = acc[i] + dLevel[g][i];
      acc = next;
      G[g] = { data: next, rows: x.rows, cols: x.cols };
    }
    const grads = groups.map((f, g) => ({ features: f, dOut: G[g], dPre: { ...f, values: this.featureGrads(f, G[g]) } }));
    return { loss, mse, xHat, levels, features: grads[0].features, dXHat: G[0], dPre: grads[0].dPre, extras: grads.slice(1) };
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
      config: {
        ...this.config,
        architecture: 'jumprelu',
        k: this.options.k,
        extra: {
          ...this.config.extra,
          trained_as: this.options.matryoshkaWidths ? 'matryoshka_batchtopk' : 'batchtopk',
          ...(this.options.matryoshkaWidths ? { matryoshka_widths: [...this.options.matryoshkaWidths] } : {}),
        },
      },
      tensors,
    };
  }
}

interface LevelLosses {
  readonly loss: number;
  /** Full-width mean ‖x − x̂‖². */
  readonly mse: number;
  readonly xHat: Matrix;
  /** Each level's reconstruction x̂⁽ℓ⁾ (one level, x̂, without Matryoshka). */
  readonly levels: readonly Matrix[];
  /** The main code (the first group for Matryoshka) and its dL/dx̂ (which also trains b_dec). */
  readonly features: SparseRows;
  readonly dXHat: Matrix;
  readonly dPre: SparseRows;
  /** Further groups, decoded without b_dec. */
  readonly extras: ExtraCodeGrads[];
}

export function validateMatryoshkaWidths(widths: readonly number[], dSae: number): void {
  const ok =
    widths.length >= 1 &&
    widths.every((w, i) => Number.isInteger(w) && w >= 1 && (i === 0 || w > widths[i - 1])) &&
    widths[widths.length - 1] === dSae;
  if (!ok) throw new Error(`Matryoshka widths must be strictly increasing integers ending at d_sae ${dSae}, got [${widths.join(', ')}]`);
}

/**
 * Matryoshka prefixes d_sae/4, d_sae/2, d_sae (dropping any below 1 or repeated). Whatever its size, the first
 * prefix takes ~31 of k 32 slots on the bundled model; at d_sae/16 (128 latents = d_in there) that made ~90 of
 * them dense and cost FVU (2 M tokens: 0.0255 vs 0.0214 with d_sae/4; docs/training.md §8c).
 */
export function defaultMatryoshkaWidths(dSae: number): number[] {
  const out: number[] = [];
  for (const div of [4, 2, 1]) {
    const w = Math.floor(dSae / div);
    if (w >= 1 && (out.length === 0 || w > out[out.length - 1])) out.push(w);
  }
  return out;
}

/** One CSR per column range [widths[g−1], widths[g]) with every row kept. */
function splitByColumn(s: SparseRows, widths: readonly number[]): SparseRows[] {
  const builders = widths.map(() => new SparseBuilder(s.rows, s.cols));
  for (let r = 0; r < s.rows; r++) {
    let g = 0;
    for (let e = s.rowPtr[r]; e < s.rowPtr[r + 1]; e++) {
      const j = s.colIdx[e];
      while (j >= widths[g]) g++;
      builders[g].push(j, s.values[e]);
    }
    for (const b of builders) b.endRow();
  }
  return builders.map((b) => b.finish());
}

function uniform(n: number, v: number): Float32Array {
  return new Float32Array(n).fill(v);
}
