// Everything that determines a training run. Plain data: stored in the training state for resume.
import type { SaeArchitecture } from '../sae/weights';

export interface TrainConfig {
  readonly architecture: SaeArchitecture;
  readonly dSae: number;
  /** TopK / BatchTopK. */
  readonly k?: number;
  readonly seed: number;
  readonly batchSize: number;
  /** Training tokens (rows); steps = ceil(totalTokens / batchSize). */
  readonly totalTokens: number;

  readonly lr: number;
  readonly lrWarmupSteps: number;
  readonly lrWarmupShape: 'cosine' | 'linear';
  /** lr factor at step 0 of the warm-up (paper: 0.1). */
  readonly lrWarmupStart: number;
  /** Linear decay to 0 over this last fraction of the steps. */
  readonly lrDecayFraction: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly adamEps: number;

  /** λ (l0, l1, gated) or the target-L0 loss coefficient. */
  readonly sparsityCoeff: number;
  readonly sparsityWarmupSteps: number;

  readonly applyBDecToInput: boolean;
  /** 'mean': b_dec starts at the mean of the (normalised) initialisation sample. */
  readonly bDecInit: 'zero' | 'mean';
  /** Divide inputs by a fixed scalar C with E‖x/C‖² = 1, estimated from data (folded back on export). */
  readonly normalizeInput: boolean;
  /** E‖x/C‖² after normalisation: 'unit' = 1 (the paper), 'dIn' = d_in (SAELens expected_average_only_in). */
  readonly inputNormTarget?: 'unit' | 'dIn';
  /** Rows drawn up front to estimate C and data-dependent inits. */
  readonly initRows: number;
  /** A latent is dead if it has not fired within this many tokens. */
  readonly deadWindowTokens: number;

  /** What the preset did, in words (saved with the SAE and shown in the UI), e.g. "JumpReLU, TopK warm start …". */
  readonly recipe?: string;

  readonly jumpRelu?: {
    readonly thresholdParam: 'log' | 'raw';
    /** 'tanh': Anthropic's λ·Σ tanh(c·f_i·‖d_i‖) (c = tanhScale). */
    readonly sparsity: 'l0' | 'targetL0' | 'tanh';
    readonly targetL0?: number;
    readonly tanhScale?: number;
    /** Straight-through pseudo-derivatives also into the pre-activations (Anthropic). */
    readonly steToInput?: boolean;
    /** Unit-norm decoder rows (default true). */
    readonly unitNormDecoder?: boolean;
    /** Initial decoder row norm when rows are not kept at unit norm (SAELens: 0.1). */
    readonly decoderInitNorm?: number;
    /**
     * AuxK on dead latents (normalised by the residual's variance, Gao et al.), in the TopK warm start and
     * after it; selection: ReLU'd pre-activations (default) or raw ones of any sign (SAELens).
     */
    readonly auxK?: { readonly kAux?: number; readonly coeff: number; readonly selection?: 'positive' | 'signed' };
    /** Anthropic's pre-activation loss on dead latents. */
    readonly preActCoeff?: number;
    /**
     * Penalty β·max(0, p_i − cap)² on each latent's firing rate in the batch (duringWarmup: also in the TopK warm
     * start, through b_enc); `exempt`: the batch's n most frequent latents above the cap go unpenalised.
     */
    readonly frequencyPenalty?: { readonly cap: number; readonly coeff: number; readonly duringWarmup?: boolean; readonly exempt?: number };
    /** A constant θ, or per latent the pre-activation quantile at which it fires on targetL0/d_sae of tokens. */
    readonly thresholdInit: { readonly kind: 'constant'; readonly value: number } | { readonly kind: 'quantile' };
    /** ε decays geometrically from bandwidthStart to bandwidth over bandwidthDecaySteps. */
    readonly bandwidth: number;
    readonly bandwidthStart?: number;
    readonly bandwidthDecaySteps?: number;
    /** Train the first steps as TopK (k = round(targetL0)), then start θ from TopK's selections. */
    readonly topKWarmupSteps?: number;
    /** 'batch': the warm start is BatchTopK and θ starts at its threshold (default 'row': TopK, θ from quantiles). */
    readonly warmupSelection?: 'row' | 'batch';
    /**
     * θ at the switch (row warm start): 'quantile' (default) = each latent's pre-activation quantile at its
     * recent TopK selection rate; 'topkAgreement' = per latent the cut that best reproduces TopK's selections
     * of it on the switch batch.
     */
    readonly switchThreshold?: 'quantile' | 'topkAgreement';
    /**
     * Gradual switch: for this many steps after the TopK warm start the loss is (1 − α)·TopK's + α·JumpReLU's,
     * α rising linearly from 1/(n + 1) to n/(n + 1) (default 0: an abrupt switch).
     */
    readonly switchBlendSteps?: number;
    /** θ's learning rate as a fraction of lr (default 1): Adam moves every θ by ≈ its lr per step however small the gradient. */
    readonly thresholdLrScale?: number;
  };
  readonly topK?: {
    readonly kAux?: number;
    readonly auxCoeff?: number;
    readonly thresholdEmaRate?: number;
    /** Matryoshka BatchTopK: nested prefix widths ending at dSae. */
    readonly matryoshkaWidths?: readonly number[];
    /** AuxK's dead-latent selection: ReLU'd pre-activations (default) or raw ones of any sign (SAELens). */
    readonly auxKSelection?: 'positive' | 'signed';
    /** Matryoshka: per-level loss weights (default 1 each). */
    readonly matryoshkaWeights?: readonly number[];
    /** AuxK's α damped by min(n_dead/k_aux, 1) (SAELens). Default off. */
    readonly auxKDeadScale?: boolean;
    /** Matryoshka: AuxK against the full residual ('full', default) or one term per group against its level's ('perLevel', SAELens's use_matryoshka_aux_loss). */
    readonly matryoshkaAuxK?: 'full' | 'perLevel';
  };
  /** Gated: AuxK on dead latents through the gate pre-activations. */
  readonly gated?: { readonly auxK?: { readonly kAux?: number; readonly coeff: number; readonly selection?: 'positive' | 'signed' } };

  /** Append a metrics record to the history every this many steps. */
  readonly historyEvery: number;
}

export function totalSteps(c: TrainConfig): number {
  return Math.max(1, Math.ceil(c.totalTokens / c.batchSize));
}

export function validateTrainConfig(c: TrainConfig): void {
  const bad = (msg: string): never => {
    throw new Error(`train config: ${msg}`);
  };
  if (!Number.isInteger(c.dSae) || c.dSae < 1) bad(`dSae must be a positive integer, got ${c.dSae}`);
  if (!Number.isInteger(c.batchSize) || c.batchSize < 1) bad(`batchSize must be a positive integer, got ${c.batchSize}`);
  if (!(c.totalTokens > 0)) bad(`totalTokens must be positive, got ${c.totalTokens}`);
  if (!(c.lr > 0)) bad(`lr must be positive, got ${c.lr}`);
  if (!(c.sparsityCoeff >= 0)) bad(`sparsity coefficient must be ≥ 0, got ${c.sparsityCoeff}`);
  if (c.beta1 < 0 || c.beta1 >= 1 || c.beta2 < 0 || c.beta2 >= 1) bad('Adam betas must be in [0, 1)');
  if (c.architecture === 'topk' || c.architecture === 'batchtopk') {
    if (c.k === undefined || !Number.isInteger(c.k) || c.k < 1 || c.k > c.dSae) bad(`k must be an integer in 1..dSae, got ${c.k}`);
  }
  if (c.topK?.matryoshkaWidths) {
    const w = c.topK.matryoshkaWidths;
    if (c.architecture !== 'batchtopk') bad('Matryoshka widths are for batchtopk');
    if (!(w.length >= 1 && w.every((v, i) => Number.isInteger(v) && v >= 1 && (i === 0 || v > w[i - 1])) && w[w.length - 1] === c.dSae)) {
      bad(`Matryoshka widths must be strictly increasing integers ending at dSae ${c.dSae}, got [${w.join(', ')}]`);
    }
  }
  const mw = c.topK?.matryoshkaWeights;
  if (mw && !(mw.length === (c.topK?.matryoshkaWidths?.length ?? -1) && mw.every((v) => Number.isFinite(v) && v > 0))) {
    bad('Matryoshka weights need Matryoshka widths: one positive weight per level');
  }
  const levelAux = c.topK?.matryoshkaAuxK;
  if (levelAux !== undefined && !((levelAux === 'full' || levelAux === 'perLevel') && c.topK?.matryoshkaWidths)) {
    bad(`Matryoshka AuxK must be 'full' or 'perLevel' and needs Matryoshka widths, got ${String(levelAux)}`);
  }
  for (const sel of [c.topK?.auxKSelection, c.jumpRelu?.auxK?.selection, c.gated?.auxK?.selection]) {
    if (sel !== undefined && sel !== 'positive' && sel !== 'signed') bad(`AuxK selection must be 'positive' or 'signed', got ${String(sel)}`);
  }
  if (c.architecture === 'jumprelu') {
    const j = c.jumpRelu ?? bad('jumprelu needs jumpRelu options');
    if (j.sparsity === 'targetL0' && !(j.targetL0 !== undefined && j.targetL0 >= 1 && j.targetL0 <= c.dSae)) {
      bad(`target L0 must be between 1 and d_sae (${c.dSae}), got ${j.targetL0}`);
    }
    if (j.sparsity === 'tanh' && !(j.tanhScale !== undefined && j.tanhScale > 0)) bad('tanh sparsity needs a positive tanhScale');
    if (j.frequencyPenalty && !(j.frequencyPenalty.cap > 0 && j.frequencyPenalty.cap < 1 && j.frequencyPenalty.coeff >= 0)) bad('frequency penalty: cap in (0, 1), coeff ≥ 0');
    if (j.frequencyPenalty?.exempt !== undefined && !(Number.isInteger(j.frequencyPenalty.exempt) && j.frequencyPenalty.exempt >= 0)) bad('frequency penalty: exempt must be a whole number ≥ 0');
    if (j.thresholdInit.kind === 'quantile' && !(j.targetL0 && j.targetL0 > 0)) bad('a quantile θ init needs targetL0');
    if (!(j.bandwidth > 0)) bad('bandwidth must be positive');
  }
}
