// Named training recipes. "paper" reproduces Rajamanoharan et al. 2024b "Jumping Ahead" (arXiv 2407.14435)
// as Gemma Scope used it (Lieberum et al. 2024, arXiv 2408.05147, App. A) exactly; "default" is Feature
// Lens's CPU-sized recipe for each architecture.
import type { SaeArchitecture } from '../sae/weights';
import type { TrainConfig } from './config';

// Measured on synthetic data (bench/synthetic-recovery.ts, test/unit/core/train/recovery.test.ts): at a
// budget of 10⁵–10⁶ tokens, 1e-3 left TopK at mean max cos 0.85 where 3e-3–1e-2 reached 0.95.
const DEFAULT_LR = 4e-3;

export type PresetName = 'default' | 'paper';

export interface PresetRequest {
  readonly architecture: SaeArchitecture;
  readonly dSae: number;
  readonly totalTokens: number;
  readonly preset?: PresetName;
  /** JumpReLU default preset: the L0 to reach. */
  readonly targetL0?: number;
  /** λ for the paper JumpReLU, Gated and ReLU; overrides the target-L0 coefficient for the default JumpReLU. */
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

export function presetConfig(req: PresetRequest): TrainConfig {
  const preset = req.preset ?? 'default';
  const batchSize = req.batchSize ?? (preset === 'paper' ? 4096 : 1024);
  const steps = Math.max(1, Math.ceil(req.totalTokens / batchSize));
  const seed = req.seed ?? 0;
  const base = { ...common, seed, architecture: req.architecture, dSae: req.dSae, totalTokens: req.totalTokens, batchSize };
  // Dead: unfired for ~10% of the run, at least 200k tokens (Gao use 10M at scale).
  const deadWindowTokens = Math.max(200_000, Math.floor(req.totalTokens / 10));

  if (preset === 'paper') {
    if (req.architecture !== 'jumprelu') throw new Error('the paper preset is defined for jumprelu only');
    return {
      ...base,
      lr: 7e-5,
      lrWarmupSteps: 1000,
      lrWarmupShape: 'cosine',
      lrWarmupStart: 0.1,
      lrDecayFraction: 0,
      beta1: 0,
      beta2: 0.999,
      adamEps: 1e-8,
      sparsityCoeff: req.l0Coeff ?? 1e-3,
      sparsityWarmupSteps: 10_000,
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

  switch (req.architecture) {
    case 'jumprelu': {
      const targetL0 = req.targetL0 ?? 32;
      // Active pre-activations are ~1/√L0 on unit-mean-square inputs: the STE window is sized to that, wide
      // early so θ gets gradient from many tokens, and narrowed 10× over the run.
      const bandwidthStart = 0.5 / Math.sqrt(targetL0);
      return {
        ...base,
        lr: DEFAULT_LR,
        lrWarmupSteps: Math.min(200, Math.floor(steps / 10)),
        sparsityCoeff: req.l0Coeff ?? 1,
        sparsityWarmupSteps: 0,
        applyBDecToInput: true,
        bDecInit: 'mean',
        deadWindowTokens,
        jumpRelu: {
          thresholdParam: 'raw',
          sparsity: 'targetL0',
          targetL0,
          thresholdInit: { kind: 'quantile' },
          bandwidth: bandwidthStart / 10,
          bandwidthStart,
          bandwidthDecaySteps: steps,
          // Measured (d_in 64, 512 true directions, 500k tokens): plain JumpReLU reached mean max cos 0.60
          // where TopK reached 0.94; a TopK first half lets JumpReLU start from TopK's dictionary.
          topKWarmupSteps: Math.floor(steps / 2),
        },
      };
    }
    case 'topk':
    case 'batchtopk':
      return {
        ...base,
        k: req.k ?? 32,
        lr: DEFAULT_LR,
        lrWarmupSteps: Math.min(200, Math.floor(steps / 10)),
        sparsityCoeff: 0,
        sparsityWarmupSteps: 0,
        applyBDecToInput: true,
        bDecInit: 'mean',
        deadWindowTokens,
        topK: {},
      };
    case 'gated':
      return {
        ...base,
        lr: DEFAULT_LR,
        lrWarmupSteps: Math.min(200, Math.floor(steps / 10)),
        sparsityCoeff: req.l0Coeff ?? 0.05,
        sparsityWarmupSteps: Math.floor(steps / 20),
        applyBDecToInput: true,
        bDecInit: 'mean',
        deadWindowTokens,
      };
    case 'relu':
      return {
        ...base,
        lr: DEFAULT_LR,
        lrWarmupSteps: Math.min(200, Math.floor(steps / 10)),
        sparsityCoeff: req.l0Coeff ?? 0.05,
        sparsityWarmupSteps: Math.floor(steps / 20), // Anthropic: λ warm-up over the first 5%
        applyBDecToInput: false,
        bDecInit: 'mean',
        deadWindowTokens,
      };
  }
}
