// metrics.json: the training curve, one record per logged step, kept beside the checkpoint.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic, type AtomicFs } from '../util/atomic';
import { encodeJson, isRecord, readJsonObject } from './json-file';
import { formatError } from './limits';

export const METRICS_FILE = 'metrics.json';

/** One logged point. `step` is required; the rest are whatever the trainer measured (loss, mse, fvu, l0, …). */
export interface MetricsRecord {
  readonly step: number;
  readonly [metric: string]: number | string | null;
}

export interface MetricsHistory {
  readonly records: readonly MetricsRecord[];
  /** Evaluation summary, written at the end (L0, FVU, ΔLM loss, …). */
  readonly summary?: Readonly<Record<string, unknown>>;
}

export function encodeMetrics(history: MetricsHistory): Uint8Array {
  // JSON has no NaN/Infinity: store them as null rather than corrupting the file.
  const records = history.records.map((r) => {
    const out: Record<string, number | string | null> = {};
    for (const [k, v] of Object.entries(r)) out[k] = typeof v === 'number' && !Number.isFinite(v) ? null : v;
    return out;
  });
  return encodeJson({ version: 1, records, ...(history.summary ? { summary: history.summary } : {}) });
}

export function parseMetrics(where: string, json: Record<string, unknown>): MetricsHistory {
  if (!Array.isArray(json.records)) throw formatError(where, 'records must be an array');
  const records: MetricsRecord[] = [];
  for (const r of json.records) {
    if (!isRecord(r) || typeof r.step !== 'number') throw formatError(where, 'every record needs a numeric step');
    records.push(r as MetricsRecord);
  }
  return { records, ...(isRecord(json.summary) ? { summary: json.summary } : {}) };
}

export function readMetrics(dir: string): MetricsHistory | undefined {
  const path = join(dir, METRICS_FILE);
  if (!existsSync(path)) return undefined;
  return parseMetrics(path, readJsonObject(path));
}

/** Rewrites metrics.json alone (between checkpoints), atomically. */
export async function writeMetrics(dir: string, history: MetricsHistory, fs?: AtomicFs): Promise<void> {
  await writeFileAtomic(join(dir, METRICS_FILE), encodeMetrics(history), fs);
}
