// User feature labels saved beside a checkpoint (feature_labels.json). Written atomically; the folder
// writer carries this file over when a new checkpoint replaces the folder.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic, type AtomicFs } from '../util/atomic';
import { encodeJson, isRecord, readJsonObject } from './json-file';
import { formatError } from './limits';

export const LABELS_FILE = 'feature_labels.json';
const MAX_LABEL_CHARS = 2000;

export interface FeatureLabel {
  readonly label: string;
  readonly note?: string;
  /** ISO time of the last edit. */
  readonly updatedAt?: string;
}

/** Feature index → label. */
export type FeatureLabels = ReadonlyMap<number, FeatureLabel>;

export function labelsPath(checkpointDir: string): string {
  return join(checkpointDir, LABELS_FILE);
}

export function parseFeatureLabels(where: string, json: unknown, dSae?: number): Map<number, FeatureLabel> {
  if (!isRecord(json) || json.version !== 1 || !isRecord(json.labels)) throw formatError(where, 'expected {"version": 1, "labels": {...}}');
  const out = new Map<number, FeatureLabel>();
  for (const [key, raw] of Object.entries(json.labels)) {
    const index = Number(key);
    if (!/^\d+$/.test(key) || !Number.isSafeInteger(index) || (dSae !== undefined && index >= dSae)) {
      throw formatError(where, `"${key}" is not a feature index${dSae !== undefined ? ` below ${dSae}` : ''}`);
    }
    if (!isRecord(raw) || typeof raw.label !== 'string') throw formatError(where, `feature ${key}: label must be a string`);
    if (raw.label.length > MAX_LABEL_CHARS) throw formatError(where, `feature ${key}: label longer than ${MAX_LABEL_CHARS} characters`);
    out.set(index, {
      label: raw.label,
      ...(typeof raw.note === 'string' ? { note: raw.note } : {}),
      ...(typeof raw.updatedAt === 'string' ? { updatedAt: raw.updatedAt } : {}),
    });
  }
  return out;
}

/** Labels of the checkpoint in `dir` (empty when there are none yet). */
export function readFeatureLabels(dir: string, dSae?: number): Map<number, FeatureLabel> {
  const path = labelsPath(dir);
  if (!existsSync(path)) return new Map();
  return parseFeatureLabels(path, readJsonObject(path), dSae);
}

export function encodeFeatureLabels(labels: FeatureLabels): Uint8Array {
  const sorted = [...labels.entries()].sort((a, b) => a[0] - b[0]);
  const obj: Record<string, FeatureLabel> = {};
  for (const [index, label] of sorted) {
    if (!Number.isSafeInteger(index) || index < 0) throw new Error(`feature label index ${index} is not a non-negative integer`);
    if (label.label.length > MAX_LABEL_CHARS) throw new Error(`feature ${index}: label longer than ${MAX_LABEL_CHARS} characters`);
    obj[String(index)] = label;
  }
  return encodeJson({ version: 1, labels: obj });
}

export async function writeFeatureLabels(dir: string, labels: FeatureLabels, fs?: AtomicFs): Promise<void> {
  await writeFileAtomic(labelsPath(dir), encodeFeatureLabels(labels), fs);
}

/** Sets (or, with an empty label, removes) one label and saves; returns the new map. */
export async function setFeatureLabel(dir: string, index: number, label: string, note?: string, fs?: AtomicFs): Promise<Map<number, FeatureLabel>> {
  const labels = readFeatureLabels(dir);
  if (label.trim() === '' && !note) labels.delete(index);
  else labels.set(index, { label, ...(note ? { note } : {}), updatedAt: new Date().toISOString() });
  await writeFeatureLabels(dir, labels, fs);
  return labels;
}
