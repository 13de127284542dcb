// A training run's checkpoint on disk: the SAELens folder of the current (input-scale-folded) SAE, plus
// the trainer's exact state and the job that started it, so a folder alone is enough to resume
// bit-exactly. Written through the checkpoint module's atomic folder swap: a crash or full disk leaves
// the previous checkpoint whole. The job is the caller's (the worker's or the CLI's TrainJob): stored as
// plain data and handed back to the caller's parser on reading, so the core does not know its shape.
import { loadCheckpoint, saveCheckpoint } from '../checkpoints/checkpoint';
import type { MetricsRecord } from '../checkpoints/metrics-history';
import type { StoredTensor } from '../checkpoints/safetensors';
import { log10Frequencies } from '../metrics/sparsity';
import type { RngState } from '../util/rng';
import type { TrainConfig } from './config';
import type { DataSource } from './dataSource';
import type { HistoryRecord, SaeTrainer, TrainerState } from './trainer';

export interface CheckpointContext {
  /** What started the run (plain data), enough to reopen its data and continue it. */
  readonly job: unknown;
  /** The hook site the SAE reads (cfg.json hook_name), when known. */
  readonly hookName?: string;
  /** The recipe name, recorded in the metadata ('default' when absent). */
  readonly preset?: string;
  readonly modelName?: string;
  readonly contextLength?: number;
  readonly datasetPath?: string;
  /** Summary to store in metrics.json (set on the final save). */
  readonly summary?: Record<string, unknown>;
}

type Group = 'param' | 'adam.m' | 'adam.v' | 'buffer';

export async function saveTrainerCheckpoint(dir: string, trainer: SaeTrainer, source: DataSource, ctx: CheckpointContext): Promise<void> {
  const state = trainer.getState(source);
  const arrays = new Map<string, StoredTensor | Float32Array | Float64Array>();
  const put = (group: Group, record: Record<string, Float32Array>) => {
    for (const [name, data] of Object.entries(record)) arrays.set(`${group}.${name}`, data);
  };
  put('param', state.params);
  put('adam.m', state.adamM);
  put('adam.v', state.adamV);
  put('buffer', state.buffers);
  arrays.set('firing.fireCount', state.firing.fireCount);
  arrays.set('firing.lastFired', state.firing.lastFired);

  const exported = trainer.exportWeights();
  const weights = {
    ...exported,
    config: { ...exported.config, ...(ctx.hookName ? { hookName: ctx.hookName } : {}), ...(ctx.modelName ? { modelName: ctx.modelName } : {}) },
  };
  await saveCheckpoint(dir, {
    weights,
    training: {
      step: state.step,
      tokensSeen: state.tokens,
      rng: [...state.rng],
      config: state.config as unknown as Record<string, unknown>,
      scalars: {
        job: ctx.job,
        skippedRows: state.skippedRows,
        skippedSteps: state.skippedSteps,
        inputScale: state.inputScale,
        firingTokens: state.firing.tokens,
        ...(state.source !== undefined ? { source: state.source } : {}),
      },
      arrays,
    },
    metrics: { records: state.history as unknown as MetricsRecord[], ...(ctx.summary ? { summary: ctx.summary } : {}) },
    sparsity: log10Frequencies(trainer.firingFrequencies()),
    metadata: {
      ...(ctx.hookName ? { hook_name: ctx.hookName } : {}),
      ...(ctx.contextLength ? { context_size: ctx.contextLength } : {}),
      ...(ctx.datasetPath ? { dataset_path: ctx.datasetPath } : {}),
      prepend_bos: false,
      feature_lens_trainer: {
        arch: state.config.architecture,
        preset: ctx.preset ?? 'default',
        ...(state.config.recipe !== undefined ? { recipe: state.config.recipe } : {}),
        tokens: state.tokens,
        step: state.step,
      },
    },
  });
}

export interface ResumePoint<Job> {
  readonly job: Job;
  readonly state: TrainerState;
}

export type JobParser<Job> = (raw: unknown) => { readonly ok: true; readonly value: Job } | { readonly ok: false; readonly reason: string };

export async function readTrainerCheckpoint<Job>(dir: string, parseJob: JobParser<Job>): Promise<ResumePoint<Job>> {
  const loaded = await loadCheckpoint(dir);
  const t = loaded.training;
  if (!t) throw new Error(`${dir} holds an SAE but no training state: it cannot be resumed`);
  const scalars = t.scalars ?? {};
  const parsed = parseJob(scalars.job);
  if (!parsed.ok) throw new Error(`${dir}: the saved training job is unreadable (${parsed.reason})`);
  const group = (prefix: Group): Record<string, Float32Array> => {
    const out: Record<string, Float32Array> = {};
    for (const [name, v] of t.arrays) {
      if (!name.startsWith(`${prefix}.`)) continue;
      const data = ArrayBuffer.isView(v) ? v : (v as StoredTensor).data;
      if (!(data instanceof Float32Array)) throw new Error(`${dir}: ${name} is not float32`);
      out[name.slice(prefix.length + 1)] = data;
    }
    return out;
  };
  const f64 = (name: string): Float64Array => {
    const v = t.arrays.get(name);
    const data = v && (ArrayBuffer.isView(v) ? v : (v as StoredTensor).data);
    if (!(data instanceof Float64Array)) throw new Error(`${dir}: ${name} is missing or not float64`);
    return data;
  };
  const history = (loaded.metrics?.records ?? []).map(
    (r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v === null ? Number.NaN : v])) as unknown as HistoryRecord,
  );
  const state: TrainerState = {
    version: 1,
    config: t.config as unknown as TrainConfig,
    step: t.step,
    tokens: t.tokensSeen,
    skippedRows: Number(scalars.skippedRows ?? 0),
    skippedSteps: Number(scalars.skippedSteps ?? 0),
    inputScale: Number(scalars.inputScale),
    rng: t.rng as RngState,
    params: group('param'),
    adamM: group('adam.m'),
    adamV: group('adam.v'),
    buffers: group('buffer'),
    firing: { tokens: Number(scalars.firingTokens ?? 0), fireCount: f64('firing.fireCount'), lastFired: f64('firing.lastFired') },
    history,
    ...(scalars.source !== undefined ? { source: scalars.source } : {}),
  };
  return { job: parsed.value, state };
}
