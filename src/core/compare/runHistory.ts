// A training run's checkpoint history. The run folder itself is rewritten in place at every checkpoint
// (swapped in whole, so nothing inside it survives), so the SAE of each checkpoint is also kept in a sibling
// folder `<run>.checkpoints/step-<step>/` (cfg.json and the weights only, no optimiser state). Compare's
// Pareto view joins these in order and the feature genealogy matches them one to the next.
// At most MAX_KEPT are kept: when there are more, the one closest to its predecessor goes (first and last stay).
import { existsSync, promises as fsp, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { writeFolderAtomic } from '../util/atomic';

export const HISTORY_SUFFIX = '.checkpoints';
const SNAPSHOT_FILES = ['cfg.json', 'sae_weights.safetensors', 'sparsity.safetensors'];
export const MAX_KEPT = 16;

export interface RunCheckpoint {
  readonly path: string;
  readonly step?: number;
}

export function historyFolder(runDir: string): string {
  return join(dirname(runDir), basename(runDir) + HISTORY_SUFFIX);
}

const stepName = (step: number) => `step-${String(step).padStart(7, '0')}`;
const stepOf = (name: string): number | undefined => {
  const m = /^step-(\d+)$/.exec(name);
  return m ? Number(m[1]) : undefined;
};

/** True for a folder inside some run's history (the tree lists those under their run, not as SAEs). */
export function isHistoryCheckpoint(dir: string): boolean {
  return basename(dirname(dir)).endsWith(HISTORY_SUFFIX) && stepOf(basename(dir)) !== undefined;
}

/** Copies the SAE just saved in `runDir` (at `step`) into its history, then thins the history to MAX_KEPT. */
export async function keepCheckpoint(runDir: string, step: number, maxKept = MAX_KEPT): Promise<string> {
  const files = new Map<string, Uint8Array>();
  for (const name of SNAPSHOT_FILES) {
    const p = join(runDir, name);
    if (existsSync(p)) files.set(name, await fsp.readFile(p));
  }
  if (!files.has('cfg.json') || !files.has('sae_weights.safetensors')) throw new Error(`${runDir} holds no SAE to keep`);
  const history = historyFolder(runDir);
  const dir = join(history, stepName(step));
  await writeFolderAtomic(dir, files);
  const kept = listHistory(history);
  while (kept.length > Math.max(2, maxKept)) {
    let drop = 1;
    for (let i = 2; i < kept.length - 1; i++) if (kept[i].step - kept[i - 1].step < kept[drop].step - kept[drop - 1].step) drop = i;
    await fsp.rm(kept[drop].path, { recursive: true, force: true });
    kept.splice(drop, 1);
  }
  return dir;
}

function listHistory(history: string): { path: string; step: number }[] {
  if (!existsSync(history)) return [];
  const out: { path: string; step: number }[] = [];
  for (const name of readdirSync(history)) {
    const step = stepOf(name);
    const p = join(history, name);
    if (step !== undefined && existsSync(join(p, 'cfg.json'))) out.push({ path: p, step });
  }
  return out.sort((x, y) => x.step - y.step);
}

/** The run folder's own step, from cfg.json's trainer metadata (undefined when it does not say). */
function runStep(runDir: string): number | undefined {
  try {
    const cfg = JSON.parse(readSmall(join(runDir, 'cfg.json'))) as { metadata?: { feature_lens_trainer?: { step?: unknown } } };
    const s = cfg.metadata?.feature_lens_trainer?.step;
    return typeof s === 'number' && Number.isFinite(s) ? s : undefined;
  } catch {
    return undefined;
  }
}

function readSmall(path: string): string {
  if (statSync(path).size > 1 << 20) throw new Error(`${path} is too large`);
  return readFileSync(path, 'utf8');
}

/**
 * The checkpoints of a run in training order: its history, then the run folder itself when it is newer.
 * A folder that is not a run but holds SAE sub-folders gives those, in name order (numbers compared as numbers).
 */
export function listRunCheckpoints(dir: string): RunCheckpoint[] {
  if (isHistoryCheckpoint(dir)) dir = join(dirname(dirname(dir)), basename(dirname(dir)).slice(0, -HISTORY_SUFFIX.length));
  const history = listHistory(historyFolder(dir));
  const hasOwn = existsSync(join(dir, 'cfg.json'));
  if (history.length > 0 || hasOwn) {
    const out: RunCheckpoint[] = history.map((h) => ({ path: h.path, step: h.step }));
    const own = hasOwn ? runStep(dir) : undefined;
    if (hasOwn && (own === undefined || history.length === 0 || own > history[history.length - 1].step)) out.push({ path: dir, ...(own !== undefined ? { step: own } : {}) });
    return out;
  }
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new Error(`${dir} is not a folder`);
  const collator = new Intl.Collator('en', { numeric: true });
  return readdirSync(dir)
    .filter((name) => existsSync(join(dir, name, 'cfg.json')))
    .sort(collator.compare)
    .map((name) => ({ path: join(dir, name), ...(stepOf(name) !== undefined ? { step: stepOf(name) } : {}) }));
}

/** Which run a checkpoint belongs to (its run folder's path) and at which step, when it is part of one. */
export function runOfCheckpoint(path: string): { run?: string; step?: number } {
  if (isHistoryCheckpoint(path)) {
    const history = dirname(path);
    return { run: join(dirname(history), basename(history).slice(0, -HISTORY_SUFFIX.length)), step: stepOf(basename(path)) as number };
  }
  if (existsSync(join(path, 'trainer_state.json')) || existsSync(historyFolder(path))) {
    const step = existsSync(join(path, 'cfg.json')) ? runStep(path) : undefined;
    return { run: path, ...(step !== undefined ? { step } : {}) };
  }
  return {};
}
