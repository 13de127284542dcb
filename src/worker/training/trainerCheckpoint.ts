// A training run's checkpoint on disk: the SAELens folder of the current (input-scale-folded) SAE, plus
// the trainer's exact state and the job that started it, so a folder alone is enough to resume
// bit-exactly. Written through the checkpoint module's atomic folder swap: a crash or full disk leaves
// the previous checkpoint whole.
import { loadCheckpoint, saveCheckpoint } from '../../core/checkpoints/checkpoint';
import type { MetricsRecord } from '../../core/checkpoints/metrics-history';
import type { StoredTensor } from '../../core/checkpoints/safetensors';
import { log10Frequencies } from '../../core/metrics/sparsity';
import type { TrainConfig } from '../../core/train/config';
import type { HistoryRecord, SaeTrainer, TrainerState } from '../../core/train/trainer';
import type { DataSource } from '../../core/train/dataSource';
import type { RngState } from '../../core/util/rng';
import { parseTrainJob, type TrainJob } from '../../protocol/training';

export interface CheckpointContext {
  readonly job: TrainJob;
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
  const weights = { ...exported, config: { ...exported.config, hookName: ctx.job.site, ...(ctx.modelName ? { modelName: ctx.modelName } : {}) } };
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
      hook_name: ctx.job.site,
      ...(ctx.contextLength ? { context_size: ctx.contextLength } : {}),
      ...(ctx.datasetPath ? { dataset_path: ctx.datasetPath } : {}),
      prepend_bos: false,
      feature_lens_trainer: { arch: ctx.job.arch, preset: ctx.job.preset ?? 'default', tokens: state.tokens, step: state.step },
    },
  });
}

export interface ResumePoint {
  readonly job: TrainJob;
  readonly state: TrainerState;
}

export async function readTrainerCheckpoint(dir: string): Promise<ResumePoint> {
  const loaded = await loadCheckpoint(dir);
  const t = loaded.training;
  if (!t) throw new Error(`${dir} holds an SAE but no training state: it cannot be resumed`);
  const scalars = t.scalars ?? {};
  const parsed = parseTrainJob(scalars.job);
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
