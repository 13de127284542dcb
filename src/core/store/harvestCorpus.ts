// One call for the CLI, the training worker and tools: load a model folder, list a corpus folder,
// harvest (or reuse) its activations at a site, and release the model.
import { loadModel } from '../runtime/model';
import { type CorpusOptions, listCorpus } from './corpus';
import { type ActivationCache, harvestActivations, type HarvestProgress } from './harvest';
import { activationModelOf } from './modelAdapter';

export interface CorpusHarvestRequest extends CorpusOptions {
  readonly modelPath: string;
  readonly site: string;
  readonly corpusDir: string;
  readonly tokens: number;
  readonly cacheDir: string;
  readonly seed?: number;
  readonly batchWindows?: number;
  readonly intraOpThreads?: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: HarvestProgress) => void;
  /** Told how many files were listed and skipped, before any work starts. */
  readonly onListing?: (files: number, skipped: { tooLarge: number; binary: number }) => void;
}

export async function harvestCorpus(req: CorpusHarvestRequest): Promise<ActivationCache> {
  const corpus = listCorpus(req.corpusDir, req);
  req.onListing?.(corpus.files.length, corpus.skipped);
  const lm = await loadModel(req.modelPath, { intraOpThreads: req.intraOpThreads ?? 2 });
  try {
    return await harvestActivations({
      model: activationModelOf(lm),
      site: req.site,
      corpus,
      tokens: req.tokens,
      cacheDir: req.cacheDir,
      seed: req.seed,
      batchWindows: req.batchWindows,
      signal: req.signal,
      onProgress: req.onProgress,
    });
  } finally {
    await lm.dispose();
  }
}
