// Bits shared by the commands that harvest: the default cache folder and a throttled progress line.
import { basename, join, resolve } from 'node:path';
import type { ChunkedSource } from '../../core/store/chunkedSource';
import type { HarvestProgress } from '../../core/store/harvest';
import { harvestCorpus } from '../../core/store/harvestCorpus';
import { openNpySource, openStoreSource } from '../../core/store/sources';
import { numberFlag, type ParsedArgs, stringFlag, UsageError } from '../args';

export function defaultCacheDir(): string {
  return join(process.cwd(), '.feature-lens-cache', 'activations');
}

/** Progress on stderr at most twice a second, overwriting one line when stderr is a terminal. */
export function progressLine(): (p: HarvestProgress) => void {
  let last = 0;
  return (p) => {
    const now = Date.now();
    if (now - last < 500 && p.done < p.target) return;
    last = now;
    const rate = p.elapsedMs > 0 ? Math.round((p.done / p.elapsedMs) * 1000) : 0;
    const text = `${p.phase}: ${p.done.toLocaleString('en-US')} / ${p.target.toLocaleString('en-US')} tokens (${rate.toLocaleString('en-US')}/s)`;
    process.stderr.write(process.stderr.isTTY ? `\r${text}   ` : `${text}\n`);
  };
}

export interface TrainingData {
  readonly source: ChunkedSource;
  readonly datasetPath: string;
  /** The hook site the rows come from (--site), when given. */
  readonly site?: string;
  /** Set when harvested through a model. */
  readonly modelName?: string;
  readonly contextLength?: number;
}

/**
 * The rows `train` learns from: `--acts acts.npy`, or `--model <m> --site <s> --corpus <dir>` harvested
 * through the activation store (cached; `rows` should cover the budget plus the trainer's init sample).
 */
export async function openTrainingData(args: ParsedArgs, rows: number, seed: number): Promise<TrainingData> {
  const acts = stringFlag(args, 'acts');
  const model = stringFlag(args, 'model');
  const site = stringFlag(args, 'site');
  const corpus = stringFlag(args, 'corpus');
  if (acts && (model || corpus)) throw new UsageError('give either --acts or --model/--site/--corpus, not both');
  if (acts) return { source: openNpySource(acts, { seed }), datasetPath: acts, ...(site ? { site } : {}) };
  if (!model || !site || !corpus) throw new UsageError('give --acts acts.npy, or all of --model, --site and --corpus');
  const cache = await harvestCorpus({
    modelPath: model,
    site,
    corpusDir: corpus,
    tokens: rows,
    cacheDir: stringFlag(args, 'cache') ?? defaultCacheDir(),
    seed,
    maxFileBytes: (numberFlag(args, 'max-file-mb', 4) ?? 4) * 1024 * 1024,
    onListing: (files, skipped) => process.stderr.write(`corpus: ${files} text files (skipped ${skipped.tooLarge} too large, ${skipped.binary} binary)\n`),
    onProgress: progressLine(),
  });
  process.stderr.write(`\n${cache.reused ? 'reusing' : 'harvested'} ${cache.manifest.rows} rows at ${site} in ${cache.dir}\n`);
  return {
    source: openStoreSource(cache.dir, cache.manifest, { seed }),
    datasetPath: corpus,
    site,
    modelName: basename(resolve(model)),
    contextLength: cache.manifest.contextLength,
  };
}
