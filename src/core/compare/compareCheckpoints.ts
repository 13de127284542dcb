// Compare Checkpoints: two or more SAEs at the same site, in any format the one loader reads, evaluated on
// one evaluation set (metrics cached beside each checkpoint, keyed by that set and the weights' hash, so
// nothing known is recomputed), plus feature matching between the first two by decoder cosine.
import { createHash } from 'node:crypto';
import { basename, dirname } from 'node:path';
import type { CheckpointComparison, CheckpointMetrics, ComparedCheckpoint } from '../../protocol/compare';
import { openSae, type OpenedSae } from '../formats/open-sae';
import type { SaeEvaluation } from '../store/evaluateSae';
import { matchFeatures } from './matchFeatures';
import { readCachedMetrics, writeCachedMetrics } from './metricsCache';
import { isHistoryCheckpoint, runOfCheckpoint } from './runHistory';

/** The evaluation set: its cache key, the site it is measured at, and how to evaluate one SAE on it. */
export interface EvalSet {
  /** Describes the set exactly (paths, sizes, token budget, seed): equal keys mean equal data. */
  readonly key: string;
  evaluate(opened: OpenedSae, site: string): Promise<SaeEvaluation>;
}

export interface CompareOptions {
  /** The site when the checkpoints do not name one (and the check when they do). */
  readonly site?: string;
  readonly onProgress?: (message: string) => void;
  /** Skip feature matching (it needs ≥ 2 checkpoints anyway). */
  readonly noMatching?: boolean;
}

export function metricsOf(e: SaeEvaluation): CheckpointMetrics {
  return {
    tokens: e.tokens,
    l0: e.l0,
    fvu: e.fvu,
    mse: e.mse,
    deadFeatures: e.deadFeatures,
    denseFeatures: e.denseFeatures,
    ...(e.lm ? { deltaLoss: e.lm.deltaLoss, lossRecovered: e.lm.lossRecovered, kl: e.lm.klCleanSpliced } : {}),
  };
}

/** A hash of every tensor the SAE holds: the cache is only valid for these exact weights. */
export function weightsHash(opened: OpenedSae): string {
  const h = createHash('sha256');
  for (const [name, t] of [...opened.loaded.weights.tensors].sort(([x], [y]) => (x < y ? -1 : 1))) {
    h.update(name);
    h.update(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  }
  return h.digest('hex').slice(0, 32);
}

function labels(paths: readonly string[]): string[] {
  // A kept checkpoint is named with its run: run/step-0000100.
  const short = paths.map((p) => (isHistoryCheckpoint(p) ? `${basename(dirname(p)).replace(/\.checkpoints$/, '')}/${basename(p)}` : basename(p)));
  return paths.map((p, i) => (short.filter((s) => s === short[i]).length > 1 ? `${basename(dirname(p))}/${short[i]}` : short[i]));
}

/** Opens every checkpoint and refuses a set that does not share one site and one input width, naming both. */
export function openComparable(paths: readonly string[], site?: string): { opened: OpenedSae[]; site: string; dIn: number } {
  if (paths.length < 2) throw new Error('compare needs two or more SAEs');
  const opened = paths.map((p) => openSae(p));
  const siteOf = (i: number) => opened[i].hookName ?? site;
  const first = opened.findIndex((_, i) => siteOf(i) !== undefined);
  if (first < 0) throw new Error('none of the SAEs names its hook site: give the site');
  for (let i = 0; i < opened.length; i++) {
    const s = siteOf(i);
    if (s !== undefined && s !== siteOf(first)) throw new Error(`${paths[first]} reads ${siteOf(first)} but ${paths[i]} reads ${s}: compare SAEs of one site`);
    if (opened[i].sae.dIn !== opened[first].sae.dIn) {
      throw new Error(`${paths[first]} reads width ${opened[first].sae.dIn} but ${paths[i]} reads width ${opened[i].sae.dIn}: compare SAEs of one site and width`);
    }
  }
  const s = siteOf(first) as string;
  if (site !== undefined && site !== s) throw new Error(`the SAEs read ${s}, not ${site}`);
  return { opened, site: s, dIn: opened[first].sae.dIn };
}

/** One SAE's metrics on `evalSet`, from the cache beside it when known, else measured and cached. */
export async function evaluateCheckpoint(path: string, evalSet: EvalSet, site?: string): Promise<{ metrics: CheckpointMetrics; cached: boolean; site: string }> {
  const o = openSae(path);
  const s = o.hookName ?? site;
  if (s === undefined) throw new Error(`${path} does not name its hook site: give the site`);
  const hash = weightsHash(o);
  const known = readCachedMetrics(o.folder, evalSet.key, hash);
  if (known) return { metrics: known, cached: true, site: s };
  const metrics = metricsOf(await evalSet.evaluate(o, s));
  await writeCachedMetrics(o.folder, evalSet.key, hash, metrics);
  return { metrics, cached: false, site: s };
}

export async function compareCheckpoints(paths: readonly string[], evalSet: EvalSet, options: CompareOptions = {}): Promise<CheckpointComparison> {
  const { opened, site, dIn } = openComparable(paths, options.site);
  const names = labels(paths);
  const checkpoints: ComparedCheckpoint[] = [];
  for (let i = 0; i < opened.length; i++) {
    const o = opened[i];
    const hash = weightsHash(o);
    let metrics = readCachedMetrics(o.folder, evalSet.key, hash);
    const cached = metrics !== undefined;
    if (!metrics) {
      options.onProgress?.(`evaluating ${names[i]} (${i + 1}/${opened.length})`);
      metrics = metricsOf(await evalSet.evaluate(o, site));
      await writeCachedMetrics(o.folder, evalSet.key, hash, metrics);
    }
    const { run, step } = runOfCheckpoint(paths[i]);
    checkpoints.push({
      path: paths[i],
      label: names[i],
      architecture: o.loaded.weights.config.architecture,
      dSae: o.sae.dSae,
      metrics,
      cached,
      ...(run !== undefined ? { run } : {}),
      ...(step !== undefined ? { step } : {}),
    });
  }
  const matching =
    options.noMatching || opened.length < 2
      ? undefined
      : matchFeatures(
          { wDec: opened[0].sae.wDec, dSae: opened[0].sae.dSae, d: opened[0].sae.dOut },
          { wDec: opened[1].sae.wDec, dSae: opened[1].sae.dSae, d: opened[1].sae.dOut },
          { a: names[0], b: names[1] },
        );
  return { site, dIn, evalSet: evalSet.key, checkpoints, ...(matching ? { matching } : {}) };
}
