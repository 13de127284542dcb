// Named training recipes. "paper" reproduces Rajamanoharan et al. 2024b "Jumping Ahead" (arXiv 2407.14435)
// as Gemma Scope used it (Lieberum et al. 2024, arXiv 2408.05147, App. A) exactly; "default" is Feature
// Lens's CPU-sized recipe for each architecture;
// "anthropic" is Anthropic's Jan 2025 JumpReLU recipe as SAELens implements it; "matryoshka" is Matryoshka
// BatchTopK. Every preset names what it does in config.recipe. Measurements: docs/training.md.
import { defaultMatryoshkaWidths } from '../sae/topk';
import type { SaeArchitecture } from '../sae/weights';
import type { TrainConfig } from './config';

// Measured on synthetic data (bench/synthetic-recovery.ts, test/unit/core/train/recovery.test.ts): at a
// budget of 10⁵–10⁶ tokens, 1e-3 left TopK at mean max cos 0.85 where 3e-3–1e-2 reached 0.95.
const DEFAULT_LR = 4e-3;
/** AuxK weight on the residual-variance-normalised term (Gao et al. 2024). */
const AUXK_COEFF = 1 / 32;
/** The paper's λ warm-up (steps). */
const PAPER_L0_WARMUP = 10_000;
/**
 * Default JumpReLU: a latent silent for this many tokens counts as dead (AuxK and the pre-activation loss
 * revive it). Fixed rather than a share of the budget: what matters is the firing rate a latent must keep
 * to show up on a held-out text of ~10⁵ tokens. Measured (bundled model, 1 M tokens, docs/training.md §5c):
 * 200 k tokens left 118 latents silent on 32 k held-out tokens, 50 k tokens 34, 20 k tokens 6.
 */
const JUMPRELU_DEAD_WINDOW_TOKENS = 20_000;

/**
 * Matryoshka: the dead-latent window. Its later prefix groups share < 1 of k 32 slots, so their latents fire
 * rarely, and a budget-scaled window (1 M tokens at 10 M) let hundreds of them fall silent on 100 k held-out
 * tokens before AuxK acted; 50 k tokens kept them to a quarter of that up to 3 M tokens, not at the end (docs/training.md §8c).
 */
const MATRYOSHKA_DEAD_WINDOW_TOKENS = 50_000;

/**
 * Default JumpReLU: the firing rate above which the frequency penalty acts. 8 % sits just under the 10 %
 * that counts as dense, so only the few latents TopK would push past it pay (5 % cost FVU, docs/training.md
 * §5c); it never goes below twice the mean firing rate L0/d_sae, which a cap must leave room for.
 */
export function jumpReluFrequencyCap(targetL0: number, dSae: number): number {
  return Math.min(0.5, Math.max(0.08, (2 * targetL0) / dSae));
}

export const PRESET_NAMES = ['default', 'paper', 'paper-scaled', 'anthropic', 'matryoshka'] as const;
export type PresetName = (typeof PRESET_NAMES)[number];

/** Which architecture each non-default preset trains. */
export const PRESET_ARCHITECTURE: Readonly<Record<Exclude<PresetName, 'default'>, SaeArchitecture>> = {
  paper: 'jumprelu',
  'paper-scaled': 'jumprelu',
  anthropic: 'jumprelu',
  matryoshka: 'batchtopk',
};

export interface PresetRequest {
  readonly architecture: SaeArchitecture;
  readonly dSae: number;
  readonly totalTokens: number;
  readonly preset?: PresetName;
  /** JumpReLU default preset: the L0 to reach. */
  readonly targetL0?: number;
  /** λ for the paper/anthropic JumpReLU, Gated and ReLU; overrides the target-L0 coefficient for the default JumpReLU. */
  readonly l0Coeff?: number;
  readonly k?: number;
  readonly batchSize?: number;
  readonly seed?: number;
}

const common = {
  seed: 0,
  lrWarmupShape: 'linear',
  lrWarmupStart: 0,
  lrDecayFraction: 0.2,
  beta1: 0.9,
  beta2: 0.999,
  adamEps: 1e-8,
  normalizeInput: true,
  initRows: 8192,
  historyEvery: 50,
} as const;

function stepsOf(req: PresetRequest): { batchSize: number; steps: number } {
  const preset = req.preset ?? 'default';
  const batchSize = req.batchSize ?? (preset === 'paper' || preset === 'paper-scaled' ? 4096 : 1024);
  return { batchSize, steps: Math.max(1, Math.ceil(req.totalTokens / batchSize)) };
}

/** Refuses requests no recipe can train (before any data is read). */
function checkRequest(req: PresetRequest): void {
  const preset = req.preset ?? 'default';
  if (!PRESET_NAMES.includes(preset)) throw new Error(`unknown preset ${String(preset)} (one of ${PRESET_NAMES.join(', ')})`);
  if (preset !== 'default' && PRESET_ARCHITECTURE[preset] !== req.architecture) {
    throw new Error(`the ${preset} preset is defined for ${PRESET_ARCHITECTURE[preset]} only, not ${req.architecture}`);
  }
  if (!Number.isInteger(req.dSae) || req.dSae < 1) throw new Error(`d_sae must be a positive integer, got ${req.dSae}`);
  if (req.targetL0 !== undefined && !(req.targetL0 >= 1 && req.targetL0 <= req.dSae)) {
    throw new Error(`target L0 must be between 1 and d_sae (${req.dSae}), got ${req.targetL0}`);
  }
  if (req.k !== undefined && !(Number.isInteger(req.k) && req.k >= 1 && req.k <= req.dSae)) {
    throw new Error(`k must be an integer between 1 and d_sae (${req.dSae}), got ${req.k}`);
  }
}

/** Warnings to show before training starts: budgets a recipe cannot use as intended. */
export function presetWarnings(req: PresetRequest): string[] {
  checkRequest(req);
  const preset = req.preset ?? 'default';
  const { steps } = stepsOf(req);
  const out: string[] = [];
  if (preset === 'paper' && steps < PAPER_L0_WARMUP) {
    out.push(
      `The paper's λ warm-up (${PAPER_L0_WARMUP.toLocaleString('en-US')} steps) does not fit this budget of ${steps.toLocaleString('en-US')} steps: ` +
        `λ would reach only ${Math.round((100 * steps) / PAPER_L0_WARMUP)} % of its value by the end. ` +
        `The "paper-scaled" preset is the same recipe with the warm-up scaled to ${scaledPaperWarmup(steps).toLocaleString('en-US')} steps (10 % of the run).`,
    );
  }
  if (req.architecture === 'jumprelu' && preset === 'default') {
    const after = steps - Math.floor(0.8 * steps);
    if (after < 100) {
      out.push(
        `Only ${after} steps follow the TopK warm start: the JumpReLU thresholds may not settle at target L0 ${req.targetL0 ?? 32} ` +
          `(measured: ≥ 100 steps of ${stepsOf(req).batchSize} tokens; docs/training.md).`,
      );
    }
  }
  return out;
}

function scaledPaperWarmup(steps: number): number {
  return Math.min(PAPER_L0_WARMUP, Math.max(1, Math.round(steps / 10)));
}

export function presetConfig(req: PresetRequest): TrainConfig {
  checkRequest(req);
  const preset = req.preset ?? 'default';
  const { batchSize, steps } = stepsOf(req);
  const seed = req.seed ?? 0;
  const base = { ...common, seed, architecture: req.architecture, dSae: req.dSae, totalTokens: req.totalTokens, batchSize };
  // Dead: unfired for ~10% of the run, at least 200k tokens (Gao use 10M at scale).
  const deadWindowTokens = Math.max(200_000, Math.floor(req.totalTokens / 10));
  const lrWarmupSteps = Math.min(200, Math.floor(steps / 10));

  if (preset === 'paper' || preset === 'paper-scaled') {
    const warm = preset === 'paper' ? PAPER_L0_WARMUP : scaledPaperWarmup(steps);
    return {
      ...base,
      recipe:
        preset === 'paper'
          ? 'JumpReLU, paper recipe (Rajamanoharan et al. 2024): λ·L0, log θ from 0.001, ε 0.001, λ warm-up 10,000 steps'
          : `JumpReLU, paper recipe with the λ warm-up scaled to the budget (${warm} steps instead of 10,000)`,
      lr: 7e-5,
      lrWarmupSteps: 1000,
      lrWarmupShape: 'cosine',
      lrWarmupStart: 0.1,
      lrDecayFraction: 0,
      beta1: 0,
      beta2: 0.999,
      adamEps: 1e-8,
      sparsityCoeff: req.l0Coeff ?? 1e-3,
      sparsityWarmupSteps: warm,
      applyBDecToInput: false,
      bDecInit: 'zero',
      deadWindowTokens,
      jumpRelu: {
        // The doc gives "θ init 0.001" and is silent on the parametrisation; the paper's pseudo-code trains
        // log θ (θ = exp(log_threshold)), so the paper preset does too.
        thresholdParam: 'log',
        sparsity: 'l0',
        thresholdInit: { kind: 'constant', value: 0.001 },
        bandwidth: 0.001,
      },
    };
  }

  if (preset === 'anthropic') {
    // SAELens's "Anthropic" example (docs/training_saes.md and saes/jumprelu_sae.py there) in SAELens units: inputs scaled to
    // E‖x‖² = d_in, tanh sparsity (c = 4) on f·‖d‖ with λ warmed up over the whole run, STE into the
    // pre-activations, pre-activation loss 3e-6 on dead latents, ε 2.0, θ from 0.1, free decoder norms
    // starting at 0.1, lr decay over the last 20 %.
    return {
      ...base,
      recipe: 'JumpReLU, Anthropic 2025 recipe (SAELens): tanh sparsity on f·‖W_dec‖, STE into pre-activations, pre-activation loss on dead latents',
      lr: DEFAULT_LR,
      lrWarmupSteps,
      sparsityCoeff: req.l0Coeff ?? 5,
      sparsityWarmupSteps: steps,
      applyBDecToInput: true,
      bDecInit: 'mean',
      inputNormTarget: 'dIn',
      deadWindowTokens,
      jumpRelu: {
        thresholdParam: 'raw',
        sparsity: 'tanh',
        tanhScale: 4,
        steToInput: true,
        unitNormDecoder: false,
        decoderInitNorm: 0.1,
        preActCoeff: 3e-6,
        thresholdInit: { kind: 'constant', value: 0.1 },
        bandwidth: 2,
      },
    };
  }

  if (preset === 'matryoshka') {
    const k = req.k ?? 32;
    const widths = defaultMatryoshkaWidths(req.dSae);
    return {
      ...base,
      recipe:
        `Matryoshka BatchTopK (k ${k}): prefixes [${widths.join(', ')}], one reconstruction loss per prefix, summed; ` +
        `AuxK per prefix group on its dead latents (silent for ${MATRYOSHKA_DEAD_WINDOW_TOKENS.toLocaleString('en-US')} tokens) over their ReLU'd pre-activations, ` +
        `weight damped by min(n_dead/k_aux, 1) (as SAELens)`,
      k,
      lr: DEFAULT_LR,
      lrWarmupSteps,
      sparsityCoeff: 0,
      sparsityWarmupSteps: 0,
      applyBDecToInput: true,
      bDecInit: 'mean',
      deadWindowTokens: MATRYOSHKA_DEAD_WINDOW_TOKENS,
      // AuxK per prefix group against that level's residual, damped by min(n_dead/k_aux, 1) (SAELens's
      // use_matryoshka_aux_loss and its scale), over a short window, with the ReLU'd pick (docs/training.md §8c):
      // the raw ('signed') pick with a short window lifted starved latents everywhere at once, so they came back
      // firing on many rows: waves of churn (3 M tokens: FVU 0.041, 386 dead); the ReLU'd pick trains a latent
      // only where it is nearly firing. Still, 1,043 of 2,048 end dead at 10 M tokens (the later groups starve).
      topK: { auxCoeff: AUXK_COEFF, matryoshkaWidths: widths, auxKDeadScale: true, matryoshkaAuxK: 'perLevel' },
    };
  }

  switch (req.architecture) {
    case 'jumprelu': {
      const targetL0 = req.targetL0 ?? 32;
      // Active pre-activations are ~1/√L0 on unit-mean-square inputs: the STE window is sized to that, wide
      // early so θ gets gradient from many tokens, and narrowed 10× over the run.
      const bandwidthStart = 0.5 / Math.sqrt(targetL0);
      // TopK for the first 80 % (it finds the dictionary fastest), JumpReLU for the last 20 % (the lr decay):
      // measured on the toy (docs/training.md), a 50 % switch lost 0.05 MMCS to the switch's disruption.
      const warm = Math.floor(0.8 * steps);
      // An abrupt switch: blending TopK's loss out over the steps after it (jumpRelu.switchBlendSteps, an
      // option) made the switch continuous and recovered the toy's dictionary better, but cost FVU +0.0005 at
      // blocks.1 in both seeds of a paired 2 M-token screen (docs/training.md §4e).
      const cap = jumpReluFrequencyCap(targetL0, req.dSae);
      return {
        ...base,
        recipe:
          `JumpReLU, TopK warm start (k ${Math.max(1, Math.round(targetL0))}, first ${warm} steps) then θ from per-latent quantiles, ` +
          `target-L0 loss (L0 ${targetL0}), AuxK and pre-activation loss on dead latents (silent for ${JUMPRELU_DEAD_WINDOW_TOKENS.toLocaleString('en-US')} tokens), ` +
          `firing-frequency penalty above ${+(100 * cap).toFixed(1)} % (from the start, through b_enc in the warm start)`,
        lr: DEFAULT_LR,
        lrWarmupSteps,
        sparsityCoeff: req.l0Coeff ?? 1,
        sparsityWarmupSteps: 0,
        applyBDecToInput: true,
        bDecInit: 'mean',
        deadWindowTokens: JUMPRELU_DEAD_WINDOW_TOKENS,
        jumpRelu: {
          thresholdParam: 'raw',
          sparsity: 'targetL0',
          targetL0,
          thresholdInit: { kind: 'quantile' },
          bandwidth: bandwidthStart / 10,
          bandwidthStart,
          bandwidthDecaySteps: steps,
          // Measured (d_in 64, 512 true directions, 500k tokens): plain JumpReLU reached mean max cos 0.60
          // where TopK reached 0.94; a TopK warm start lets JumpReLU start from TopK's dictionary.
          topKWarmupSteps: warm,
          auxK: { coeff: AUXK_COEFF },
          // Under Adam a dead latent's only gradient is this one, so it moves its b_enc up and θ down by ≈ lr
          // per step whatever α is; α only has to be small next to the live latents' losses.
          preActCoeff: 1e-3,
          // Also during the warm start (through b_enc): applied to θ only after the switch it cut TopK's dense
          // latents with too little lr left to replace them (bundled model, 1 M tokens: FVU 0.048 vs 0.029).
          // No latent exempt (`exempt` stays an option): exempting each batch's 10 most frequent lowered FVU
          // (10 M tokens, blocks.1: 0.0243 → 0.0194) but left nine of them almost always on, and 11–13 dense
          // latents at every layer on 100,470 held-out positions (docs/training.md §5f).
          frequencyPenalty: { cap, coeff: 1, duringWarmup: true },
        },
      };
    }
    case 'topk':
    case 'batchtopk': {
      const k = req.k ?? 32;
      return {
        ...base,
        recipe: `${req.architecture === 'topk' ? 'TopK' : 'BatchTopK'} (k ${k}), AuxK on dead latents`,
        k,
        lr: DEFAULT_LR,
        lrWarmupSteps,
        sparsityCoeff: 0,
        sparsityWarmupSteps: 0,
        applyBDecToInput: true,
        bDecInit: 'mean',
        deadWindowTokens,
        topK: { auxCoeff: AUXK_COEFF },
      };
    }
    case 'gated':
      return {
        ...base,
        recipe: `Gated (λ ${req.l0Coeff ?? 0.05}), AuxK on dead latents`,
        lr: DEFAULT_LR,
        lrWarmupSteps,
        sparsityCoeff: req.l0Coeff ?? 0.05,
        sparsityWarmupSteps: Math.floor(steps / 20),
        applyBDecToInput: true,
        bDecInit: 'mean',
        deadWindowTokens,
        gated: { auxK: { coeff: AUXK_COEFF } },
      };
    case 'relu':
      return {
        ...base,
        recipe: `ReLU + decoder-norm-weighted L1 (λ ${req.l0Coeff ?? 0.05})`,
        lr: DEFAULT_LR,
        lrWarmupSteps,
        sparsityCoeff: req.l0Coeff ?? 0.05,
        sparsityWarmupSteps: Math.floor(steps / 20), // Anthropic: λ warm-up over the first 5%
        applyBDecToInput: false,
        bDecInit: 'mean',
        deadWindowTokens,
      };
  }
}
