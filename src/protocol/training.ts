// Messages between the extension host and the training worker (dist/trainWorker.js). One worker runs
// one job: the host sends `start`, may send `cancel`, and the worker answers with progress events and
// exactly one `done` or `error`. Every message is checked on arrival: both sides treat the other as
// untrusted input, so a malformed message is refused with a reason instead of crashing a loop.
import { SAE_ARCHITECTURES, type SaeArchitecture } from './architectures';
import { describeUnknown, hasFiniteNumber, hasString, isRecord, refuse, type Parsed } from './validate';

export const TRAINING_PROTOCOL_VERSION = 1;

/** Where training rows come from: a corpus harvested through a model, or a precomputed [N, d] .npy. */
export type TrainData =
  | {
      readonly kind: 'corpus';
      readonly modelPath: string;
      readonly corpusDir: string;
      readonly cacheDir: string;
      /** Corpus files larger than this are skipped (default 4 MB). */
      readonly maxFileBytes?: number;
    }
  | { readonly kind: 'acts'; readonly path: string };

export interface TrainJob {
  readonly site: string;
  readonly arch: SaeArchitecture;
  readonly dSae: number;
  /** JumpReLU default preset: the L0 to reach. */
  readonly targetL0?: number;
  /** TopK / BatchTopK. */
  readonly k?: number;
  /** Fixed sparsity coefficient (λ) instead of a target. */
  readonly l0Coeff?: number;
  /** Trainer preset name, e.g. 'default' or 'paper'. */
  readonly preset?: string;
  /** Training budget in activation rows (tokens). */
  readonly tokens: number;
  readonly data: TrainData;
  /** The SAE (SAELens folder) goes here; checkpoints to <outDir>/checkpoint. */
  readonly outDir: string;
  /** Steps between checkpoints (0: only at the end and on cancel). */
  readonly checkpointEvery: number;
  readonly seed: number;
  readonly batchSize?: number;
}

/**
 * The host's settings a training worker starts with (its workerData): featureLens.trainingBackend,
 * intraOpThreads and sparseThreads. The worker reports and ignores values it does not know.
 */
export interface TrainWorkerSettings {
  readonly backend?: string;
  readonly intraOpThreads?: number;
  /** 'auto', '1' or '2': threads of the fast backend's sparse kernels. */
  readonly sparseThreads?: string;
}

/** What a training run is asked to do: a new job, or the run saved in a checkpoint folder. */
export type TrainingStart =
  | { readonly kind: 'start'; readonly job: TrainJob }
  /** cacheDir: where to harvest when the saved run names no activation cache (a CLI run without --cache). */
  | { readonly kind: 'resume'; readonly checkpointDir: string; readonly cacheDir?: string };

export type HostToTrainer =
  | { readonly type: 'start'; readonly protocol: number; readonly job: TrainJob }
  /** Continue the run saved in a checkpoint folder (its job is stored there) to its original budget. */
  | { readonly type: 'resume'; readonly protocol: number; readonly checkpointDir: string; readonly cacheDir?: string }
  | { readonly type: 'cancel' }
  /** Stop stepping after the current step (a checkpoint is saved first) until `continue`. */
  | { readonly type: 'pause' }
  | { readonly type: 'continue' }
  /**
   * End the worker at the next step boundary without saving (what closing the window does to a run). The
   * worker exits by itself there, because terminating it while onnxruntime runs a kernel aborts the host.
   */
  | { readonly type: 'stop-now' };

export interface TrainProgressEvent {
  readonly type: 'progress';
  readonly phase: 'harvest' | 'train';
  readonly step: number;
  readonly tokens: number;
  readonly totalTokens: number;
  readonly loss: number;
  readonly mse: number;
  readonly fvu: number;
  readonly l0: number;
  readonly deadFraction: number;
  /** Fraction of latents firing on more than 10% of the tokens seen (absent while harvesting). */
  readonly denseFraction?: number;
  readonly tokensPerSecond: number;
  /** Rows skipped so far because they held NaN/Inf. */
  readonly skippedRows: number;
}

export interface TrainSummary {
  readonly outDir: string;
  readonly steps: number;
  readonly tokens: number;
  readonly seconds: number;
  readonly final: { readonly mse: number; readonly fvu: number; readonly l0: number; readonly deadFraction: number };
  readonly cancelled: boolean;
}

export type TrainerToHost =
  | TrainProgressEvent
  | { readonly type: 'log'; readonly message: string }
  | { readonly type: 'checkpoint-saved'; readonly dir: string; readonly step: number; readonly tokens: number }
  /** Stepping really stopped (after `pause`) or restarted (after `continue`) at this step. */
  | { readonly type: 'paused'; readonly step: number }
  | { readonly type: 'continued'; readonly step: number }
  | { readonly type: 'done'; readonly summary: TrainSummary }
  | { readonly type: 'error'; readonly message: string };

function positiveInt(r: Record<string, unknown>, key: string, optional = false): string | undefined {
  const v = r[key];
  if (v === undefined && optional) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) return `${key} must be a positive integer`;
  return undefined;
}

function parseData(v: unknown): Parsed<TrainData> {
  if (!isRecord(v)) return refuse('data must be an object');
  if (v.kind === 'acts') return hasString(v, 'path') ? { ok: true, value: { kind: 'acts', path: v.path as string } } : refuse('data.path must be a string');
  if (v.kind === 'corpus') {
    for (const k of ['modelPath', 'corpusDir', 'cacheDir']) if (!hasString(v, k)) return refuse(`data.${k} must be a string`);
    if (v.maxFileBytes !== undefined && positiveInt(v, 'maxFileBytes')) return refuse('data.maxFileBytes must be a positive integer');
    return {
      ok: true,
      value: {
        kind: 'corpus',
        modelPath: v.modelPath as string,
        corpusDir: v.corpusDir as string,
        cacheDir: v.cacheDir as string,
        ...(v.maxFileBytes !== undefined ? { maxFileBytes: v.maxFileBytes as number } : {}),
      },
    };
  }
  return refuse('data.kind must be "corpus" or "acts"');
}

export function parseTrainJob(v: unknown): Parsed<TrainJob> {
  if (!isRecord(v)) return refuse('job must be an object');
  if (!hasString(v, 'site') || !(v.site as string)) return refuse('site must be a non-empty string');
  if (!SAE_ARCHITECTURES.includes(v.arch as SaeArchitecture)) return refuse(`arch must be one of ${SAE_ARCHITECTURES.join(', ')}`);
  for (const [key, optional] of [['dSae', false], ['tokens', false], ['targetL0', true], ['k', true], ['batchSize', true]] as const) {
    const problem = positiveInt(v, key, optional);
    if (problem) return refuse(problem);
  }
  if (v.l0Coeff !== undefined && !(hasFiniteNumber(v, 'l0Coeff') && (v.l0Coeff as number) >= 0)) return refuse('l0Coeff must be a number ≥ 0');
  if (v.preset !== undefined && !hasString(v, 'preset')) return refuse('preset must be a string');
  if (!hasString(v, 'outDir') || !(v.outDir as string)) return refuse('outDir must be a non-empty string');
  if (!(typeof v.checkpointEvery === 'number' && Number.isInteger(v.checkpointEvery) && v.checkpointEvery >= 0)) return refuse('checkpointEvery must be an integer ≥ 0');
  if (!(typeof v.seed === 'number' && Number.isInteger(v.seed) && v.seed >= 0)) return refuse('seed must be an integer ≥ 0');
  if ((v.arch === 'topk' || v.arch === 'batchtopk') && v.k === undefined) return refuse(`${v.arch as string} needs k`);
  const data = parseData(v.data);
  if (!data.ok) return data;
  return { ok: true, value: { ...(v as unknown as TrainJob), data: data.value } };
}

export function parseHostToTrainer(v: unknown): Parsed<HostToTrainer> {
  if (!isRecord(v)) return refuse(describeUnknown(v));
  switch (v.type) {
    case 'cancel':
      return { ok: true, value: { type: 'cancel' } };
    case 'pause':
      return { ok: true, value: { type: 'pause' } };
    case 'continue':
      return { ok: true, value: { type: 'continue' } };
    case 'stop-now':
      return { ok: true, value: { type: 'stop-now' } };
    case 'start': {
      if (v.protocol !== TRAINING_PROTOCOL_VERSION) return refuse(`protocol ${String(v.protocol)} is not ${TRAINING_PROTOCOL_VERSION}`);
      const job = parseTrainJob(v.job);
      return job.ok ? { ok: true, value: { type: 'start', protocol: TRAINING_PROTOCOL_VERSION, job: job.value } } : job;
    }
    case 'resume': {
      if (v.protocol !== TRAINING_PROTOCOL_VERSION) return refuse(`protocol ${String(v.protocol)} is not ${TRAINING_PROTOCOL_VERSION}`);
      if (!hasString(v, 'checkpointDir')) return refuse('checkpointDir must be a string');
      if (v.cacheDir !== undefined && !hasString(v, 'cacheDir')) return refuse('cacheDir must be a string');
      return {
        ok: true,
        value: { type: 'resume', protocol: TRAINING_PROTOCOL_VERSION, checkpointDir: v.checkpointDir as string, ...(v.cacheDir !== undefined ? { cacheDir: v.cacheDir as string } : {}) },
      };
    }
    default:
      return refuse(describeUnknown(v));
  }
}

export function parseTrainerToHost(v: unknown): Parsed<TrainerToHost> {
  if (!isRecord(v)) return refuse(describeUnknown(v));
  switch (v.type) {
    case 'progress':
      for (const k of ['step', 'tokens', 'totalTokens', 'tokensPerSecond', 'skippedRows']) if (!hasFiniteNumber(v, k)) return refuse(`progress.${k} must be a number`);
      if (v.phase !== 'harvest' && v.phase !== 'train') return refuse('progress.phase must be "harvest" or "train"');
      // Loss metrics may legitimately be NaN before the first step.
      for (const k of ['loss', 'mse', 'fvu', 'l0', 'deadFraction']) if (typeof v[k] !== 'number') return refuse(`progress.${k} must be a number`);
      if (v.denseFraction !== undefined && typeof v.denseFraction !== 'number') return refuse('progress.denseFraction must be a number');
      return { ok: true, value: v as unknown as TrainerToHost };
    case 'log':
      return hasString(v, 'message') ? { ok: true, value: v as unknown as TrainerToHost } : refuse('log.message must be a string');
    case 'checkpoint-saved':
      return hasString(v, 'dir') && hasFiniteNumber(v, 'step') && hasFiniteNumber(v, 'tokens')
        ? { ok: true, value: v as unknown as TrainerToHost }
        : refuse('checkpoint-saved needs dir, step, tokens');
    case 'paused':
    case 'continued':
      return hasFiniteNumber(v, 'step') ? { ok: true, value: { type: v.type, step: v.step as number } } : refuse(`${v.type}.step must be a number`);
    case 'done':
      return isRecord(v.summary) && hasString(v.summary, 'outDir') ? { ok: true, value: v as unknown as TrainerToHost } : refuse('done.summary.outDir must be a string');
    case 'error':
      return hasString(v, 'message') ? { ok: true, value: v as unknown as TrainerToHost } : refuse('error.message must be a string');
    default:
      return refuse(describeUnknown(v));
  }
}
