// A training checkpoint is one SAELens folder (loadable by SAELens and every Feature Lens reader) plus
// the resume state and the metrics history, all swapped in together so a failure at any point
// (full disk included) leaves the previous checkpoint whole.

import { existsSync } from 'node:fs';
import type { SaeConfig, SaeWeights } from '../sae/weights';
import { isRecord } from './json-file';
import { recoverFolder, writeFolderAtomic, type AtomicFs, type FileContent } from '../util/atomic';
import { LABELS_FILE } from './labels';
import { DEFAULT_LIMITS, formatError, type LoadLimits } from './limits';
import type { LoadedSae } from './loaded';
import { encodeMetrics, METRICS_FILE, readMetrics, type MetricsHistory } from './metrics-history';
import { openSae } from '../formats/open-sae';
import { encodeSaeLens, SAELENS_WEIGHTS } from './saelens';
import type { StoredTensor } from './safetensors';
import { encodeTrainingState, hasTrainingState, readTrainingState, type LoadedTrainingState, type TrainingState } from './training-state';

/** Prefix of the trainer's exact parameters inside the training state. */
const PARAM_PREFIX = 'sae.';
const CONFIG_KEY = 'saeConfig';

export interface CheckpointContents {
  /** The SAE as the trainer holds it; an input scale is folded in for the SAELens files. */
  readonly weights: SaeWeights;
  readonly training?: TrainingState;
  readonly metrics?: MetricsHistory;
  /** log10 firing frequency per feature. */
  readonly sparsity?: Float32Array;
  /** SAELens metadata: context_size, dataset_path, prepend_bos, … */
  readonly metadata?: Readonly<Record<string, unknown>>;
}

export interface LoadedCheckpoint extends LoadedSae {
  /** The weights exactly as saved by the trainer (input scale not folded): what a resume starts from. */
  readonly trainingWeights: SaeWeights;
  readonly training?: LoadedTrainingState;
  readonly metrics?: MetricsHistory;
}

export async function saveCheckpoint(dir: string, contents: CheckpointContents, options: { fs?: AtomicFs } = {}): Promise<void> {
  const files = new Map<string, FileContent>(encodeSaeLens(contents.weights, { sparsity: contents.sparsity, metadata: contents.metadata }));
  if (contents.training) {
    const arrays = new Map<string, StoredTensor | Float32Array | Float64Array | Int32Array | Uint32Array>(contents.training.arrays);
    // SAELens files are folded and architecture-mapped; keep the trainer's own parameters and config so
    // resume starts from exactly what was saved.
    for (const [name, t] of contents.weights.tensors) arrays.set(PARAM_PREFIX + name, t);
    const scalars = { ...(contents.training.scalars ?? {}), [CONFIG_KEY]: contents.weights.config };
    for (const [name, content] of encodeTrainingState({ ...contents.training, arrays, scalars })) files.set(name, content);
  }
  if (contents.metrics) files.set(METRICS_FILE, encodeMetrics(contents.metrics));
  await writeFolderAtomic(dir, files, { keep: [LABELS_FILE], fs: options.fs });
}

export async function loadCheckpoint(dir: string, options: { limits?: LoadLimits; fs?: AtomicFs } = {}): Promise<LoadedCheckpoint> {
  await recoverFolder(dir, options.fs);
  if (!existsSync(dir)) throw formatError(dir, 'no checkpoint here');
  // Through the one SAE loader, so a checkpoint is read and checked exactly as every other SAE is.
  const { loaded } = openSae(dir, { limits: options.limits ?? DEFAULT_LIMITS });
  if (loaded.format !== 'saelens') throw formatError(dir, `holds a ${loaded.format} SAE, not a Feature Lens training checkpoint`);
  const training = hasTrainingState(dir) ? readTrainingState(dir, options.limits ?? DEFAULT_LIMITS) : undefined;
  let trainingWeights = loaded.weights;
  if (training) {
    const params = new Map<string, { shape: readonly number[]; data: Float32Array }>();
    const arrays = new Map(training.arrays);
    for (const [name, value] of training.arrays) {
      if (!name.startsWith(PARAM_PREFIX)) continue;
      const t = value;
      if (!(t.data instanceof Float32Array)) throw formatError(dir, `training parameter ${name} is not float32`);
      params.set(name.slice(PARAM_PREFIX.length), { shape: t.shape, data: t.data });
      arrays.delete(name);
    }
    const savedConfig = training.scalars?.[CONFIG_KEY];
    if (params.size > 0) {
      if (!isRecord(savedConfig)) throw formatError(dir, 'training parameters saved without their SAE config');
      trainingWeights = { config: savedConfig as unknown as SaeConfig, tensors: params };
    }
    const { [CONFIG_KEY]: _c, ...scalars } = training.scalars ?? {};
    return { ...loaded, trainingWeights, training: { ...training, arrays, scalars }, metrics: readMetrics(dir) };
  }
  return { ...loaded, trainingWeights, metrics: readMetrics(dir) };
}

/** True when `dir` holds a checkpoint (or an interrupted swap left one to recover). */
export function looksLikeCheckpoint(dir: string): boolean {
  return existsSync(dir) && existsSync(`${dir}/${SAELENS_WEIGHTS}`);
}
