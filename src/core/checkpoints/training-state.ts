// Everything a resumed run needs besides the SAE weights: named arrays (optimizer moments, dead-feature
// counters, …) in training_state.safetensors, and step / RNG / config as JSON in trainer_state.json.
// Arrays round-trip bit-exactly (Float32, Float64, Int32, Uint32).

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { encodeJson, isRecord, readJsonObject } from './json-file';
import { DEFAULT_LIMITS, formatError, type LoadLimits } from './limits';
import { encodeSafetensors, openSafetensors, type StoredArray, type StoredTensor } from './safetensors';
import type { FileContent } from '../util/atomic';

export const TRAINING_TENSORS_FILE = 'training_state.safetensors';
export const TRAINER_STATE_FILE = 'trainer_state.json';
const STATE_VERSION = 1;

export interface TrainingState {
  readonly step: number;
  readonly tokensSeen: number;
  /** RNG state as the trainer's generator exports it (JSON-safe: numbers, strings, arrays). */
  readonly rng: unknown;
  /** The training configuration, checked on resume. */
  readonly config: Readonly<Record<string, unknown>>;
  /** Any other JSON-safe scalars (λ schedule position, EMA values, …). */
  readonly scalars?: Readonly<Record<string, unknown>>;
  /** Named arrays, e.g. "adam.m.W_enc", "adam.v.W_enc", "dead.lastFired". 1-D shape unless given. */
  readonly arrays: ReadonlyMap<string, StoredArray | StoredTensor>;
}

/** As read back: every array with its shape. */
export interface LoadedTrainingState extends TrainingState {
  readonly arrays: ReadonlyMap<string, StoredTensor>;
}

function asTensor(v: StoredArray | StoredTensor): StoredTensor {
  return ArrayBuffer.isView(v) ? { shape: [v.length], data: v } : v;
}

export function encodeTrainingState(state: TrainingState): Map<string, FileContent> {
  if (!Number.isSafeInteger(state.step) || state.step < 0) throw new Error(`training state: step must be a non-negative integer`);
  const tensors = new Map<string, StoredTensor>();
  for (const [name, v] of state.arrays) tensors.set(name, asTensor(v));
  const json = {
    version: STATE_VERSION,
    step: state.step,
    tokensSeen: state.tokensSeen,
    rng: state.rng,
    config: state.config,
    scalars: state.scalars ?? {},
  };
  // Fail here, not on resume, if something is not JSON-safe (NaN, bigint, functions).
  const text = JSON.stringify(json);
  if (JSON.stringify(JSON.parse(text)) !== text) throw new Error('training state: trainer_state.json does not round-trip');
  return new Map<string, FileContent>([
    [TRAINING_TENSORS_FILE, encodeSafetensors(tensors, { feature_lens: 'training_state' })],
    [TRAINER_STATE_FILE, encodeJson(json)],
  ]);
}

export function hasTrainingState(dir: string): boolean {
  return existsSync(join(dir, TRAINER_STATE_FILE)) && existsSync(join(dir, TRAINING_TENSORS_FILE));
}

export function readTrainingState(dir: string, limits: LoadLimits = DEFAULT_LIMITS): LoadedTrainingState {
  const jsonPath = join(dir, TRAINER_STATE_FILE);
  const json = readJsonObject(jsonPath);
  if (json.version !== STATE_VERSION) throw formatError(jsonPath, `unsupported training state version ${JSON.stringify(json.version)}`);
  if (typeof json.step !== 'number' || !Number.isSafeInteger(json.step) || json.step < 0) throw formatError(jsonPath, 'step is missing or invalid');
  if (typeof json.tokensSeen !== 'number') throw formatError(jsonPath, 'tokensSeen is missing');
  if (!isRecord(json.config)) throw formatError(jsonPath, 'config is missing');
  const reader = openSafetensors(join(dir, TRAINING_TENSORS_FILE), limits);
  const arrays = new Map<string, StoredTensor>();
  try {
    for (const name of reader.entries.keys()) arrays.set(name, reader.readNative(name));
  } finally {
    reader.close();
  }
  return {
    step: json.step,
    tokensSeen: json.tokensSeen,
    rng: json.rng,
    config: json.config,
    scalars: isRecord(json.scalars) ? json.scalars : {},
    arrays,
  };
}
