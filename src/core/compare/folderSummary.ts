// What a tree row says about an SAE or run folder without loading its weights: the architecture, site and
// width from cfg.json, the latest L0 / FVU (training's metrics.json, else the newest cached evaluation),
// and whether it is a training run (trainer_state.json) that finished (metrics.json has a summary) or
// stopped early and can resume. Small JSON reads only; anything unreadable is simply left out.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { asObject, readSmallJsonObject } from '../util/smallJson';
import { EVALUATIONS_FILE } from './metricsCache';

export interface FolderSummary {
  readonly architecture?: string;
  readonly site?: string;
  readonly dSae?: number;
  readonly l0?: number;
  readonly fvu?: number;
  /** From the newest cached evaluation through the model (Evaluate, Compare Checkpoints). */
  readonly deltaLoss?: number;
  /** Present for training runs. */
  readonly run?: { readonly finished: boolean; readonly step?: number; readonly tokens?: number };
}

const MAX_BYTES = 8 * 2 ** 20;

const readJson = (path: string) => readSmallJsonObject(path, MAX_BYTES);

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const obj = asObject;

export function summarizeFolder(dir: string): FolderSummary {
  const cfg = readJson(join(dir, 'cfg.json')) ?? {};
  const site = (obj(cfg.metadata)?.hook_name ?? cfg.hook_name) as unknown;
  const metrics = readJson(join(dir, 'metrics.json'));
  const records = Array.isArray(metrics?.records) ? (metrics.records as unknown[]) : [];
  const last = obj(records[records.length - 1]);
  const final = obj(obj(metrics?.summary)?.final);
  const evaluations = readJson(join(dir, EVALUATIONS_FILE));
  const entries = Array.isArray(evaluations?.entries) ? (evaluations.entries as unknown[]) : [];
  const evaluated = obj(obj(entries[entries.length - 1])?.metrics);
  const l0 = num(final?.l0) ?? num(last?.l0) ?? num(evaluated?.l0);
  const fvu = num(final?.fvu) ?? num(last?.fvu) ?? num(evaluated?.fvu);
  const deltaLoss = num(evaluated?.deltaLoss);
  const isRun = existsSync(join(dir, 'trainer_state.json'));
  return {
    ...(typeof cfg.architecture === 'string' ? { architecture: cfg.architecture } : {}),
    ...(typeof site === 'string' ? { site } : {}),
    ...(num(cfg.d_sae) !== undefined ? { dSae: num(cfg.d_sae) } : {}),
    ...(l0 !== undefined ? { l0 } : {}),
    ...(fvu !== undefined ? { fvu } : {}),
    ...(deltaLoss !== undefined ? { deltaLoss } : {}),
    ...(isRun ? { run: { finished: metrics?.summary !== undefined, ...(num(last?.step) !== undefined ? { step: num(last?.step) } : {}), ...(num(last?.tokens) !== undefined ? { tokens: num(last?.tokens) } : {}) } } : {}),
  };
}
