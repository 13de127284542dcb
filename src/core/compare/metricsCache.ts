// Evaluation results cached beside a checkpoint, in evaluations.json (metrics.json is the training
// history's): one entry per evaluation set and weights hash. Read failures mean "not cached", never an
// error; the file is replaced atomically, and only the newest entries are kept.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { CheckpointMetrics } from '../../protocol/compare';
import { encodeJson, isRecord, readJsonFile } from '../checkpoints/json-file';
import { writeFileAtomic } from '../util/atomic';

export const EVALUATIONS_FILE = 'evaluations.json';
const MAX_ENTRIES = 32;

interface CacheEntry {
  readonly evalSet: string;
  readonly weights: string;
  readonly metrics: CheckpointMetrics;
  readonly at: string;
}

function readEntries(folder: string): CacheEntry[] {
  const file = join(folder, EVALUATIONS_FILE);
  if (!existsSync(file)) return [];
  try {
    const raw = readJsonFile(file);
    if (!isRecord(raw) || !Array.isArray(raw.entries)) return [];
    return raw.entries.filter((e): e is CacheEntry => isRecord(e) && typeof e.evalSet === 'string' && typeof e.weights === 'string' && isRecord(e.metrics) && typeof e.metrics.l0 === 'number' && typeof e.metrics.fvu === 'number');
  } catch {
    return [];
  }
}

export function readCachedMetrics(folder: string, evalSet: string, weights: string): CheckpointMetrics | undefined {
  return readEntries(folder).find((e) => e.evalSet === evalSet && e.weights === weights)?.metrics;
}

/** Best effort: a read-only checkpoint folder just is not cached. */
export async function writeCachedMetrics(folder: string, evalSet: string, weights: string, metrics: CheckpointMetrics): Promise<boolean> {
  const kept = readEntries(folder).filter((e) => !(e.evalSet === evalSet && e.weights === weights));
  const entries = [...kept, { evalSet, weights, metrics, at: new Date().toISOString() }].slice(-MAX_ENTRIES);
  try {
    await writeFileAtomic(join(folder, EVALUATIONS_FILE), encodeJson({ version: 1, entries }));
    return true;
  } catch {
    return false;
  }
}
