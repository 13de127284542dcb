// The feature index of a loaded model + SAE: where it lives (beside the SAE), whether the one on disk is
// current, and building it from a corpus. Shared by the worker and the CLI.
import { basename, join } from 'node:path';
import { tensorOf } from '../analysis/decompose';
import { logitEffectNote } from '../analysis/logitEffects';
import type { AnalysisModel, AnalysisSae } from '../analysis/ports';
import { buildFeatureIndex, DEFAULT_BUILD_OPTIONS, type BuildOptions, type BuildProgress, type IndexEncoder } from './buildIndex';
import { readCorpusFiles, type CorpusRead } from './corpusFiles';
import { modelFingerprint, saeFingerprint } from './fingerprints';
import { FeatureIndexDb, INDEX_FILE, staleReason } from './indexDb';
import { logitTables } from './logitTables';
import type { IndexFingerprints } from './types';

export interface IndexTarget {
  readonly model: AnalysisModel;
  readonly sae: AnalysisSae;
  readonly site: string;
  readonly modelPath?: string;
  /** The ONNX file loaded from `modelPath` (a variant's); default: the folder's default model. */
  readonly modelFile?: string;
  /**
   * Runs each forward pass (model + SAE) of a build, e.g. through the worker's request queue, so a build in
   * the background never runs the model at the same time as a request. Default: run it directly.
   */
  readonly exclusive?: <T>(run: () => Promise<T>) => Promise<T>;
}

export function indexPathFor(saeFolder: string): string {
  return join(saeFolder, INDEX_FILE);
}

export function sessionEncoder(target: IndexTarget): IndexEncoder {
  const { model, sae, site } = target;
  const exclusive = target.exclusive ?? ((run) => run());
  return {
    vocabSize: vocabSizeOf(model),
    dSae: sae.weights.config.dSae,
    tokenize: (text) => Int32Array.from(model.tokenize(text).ids),
    tokenText: (id) => model.tokenText(id),
    encode: (ids, signal) => exclusive(async () => (await sae.encode(await model.activations(ids, site, signal))).features),
  };
}

function vocabSizeOf(model: AnalysisModel): number {
  const u = model.unembedding();
  if (u) return u.weight.rows;
  // Without an output head, bigram keys only need a bound above every id; token ids are below 2^21 in practice.
  return 1 << 21;
}

const saePrints = new WeakMap<object, string>();
const modelPrints = new Map<string, string>();

export function fingerprintsOf(target: IndexTarget, corpus: CorpusRead): IndexFingerprints {
  let sae = saePrints.get(target.sae.weights);
  if (!sae) saePrints.set(target.sae.weights, (sae = saeFingerprint(target.sae.weights)));
  const modelKey = `${target.modelPath ?? ''}|${target.modelFile ?? ''}|${target.model.name}`;
  let model = modelPrints.get(modelKey);
  if (!model) modelPrints.set(modelKey, (model = modelFingerprint(target.modelPath, target.model.name, target.modelFile)));
  return { sae, model, corpus: corpus.fingerprint };
}

/** The index at `path` when it describes this target and corpus; otherwise why not (missing, stale, unreadable). */
export async function openCurrentIndex(path: string, target: IndexTarget, corpus: CorpusRead): Promise<{ db: FeatureIndexDb } | { reason: string }> {
  let db: FeatureIndexDb | undefined;
  try {
    db = await FeatureIndexDb.read(path);
  } catch (err) {
    return { reason: err instanceof Error ? err.message : String(err) };
  }
  if (!db) return { reason: `there is no feature index at ${path} yet` };
  const why = staleReason(db.meta, fingerprintsOf(target, corpus));
  if (why) {
    db.close();
    return { reason: `the feature index at ${path} is out of date: ${why}` };
  }
  return { db };
}

export async function buildIndexFor(
  target: IndexTarget,
  corpusPath: string,
  options: { build?: Partial<BuildOptions>; corpus?: CorpusRead; onProgress?: (p: BuildProgress) => void; signal?: AbortSignal } = {},
): Promise<FeatureIndexDb> {
  const corpus = options.corpus ?? readCorpusFiles(corpusPath);
  const { sae, model } = target;
  const { dSae } = sae.weights.config;
  // A transcoder's decoder writes its output site, d_out wide.
  const dIn = sae.weights.config.dOut ?? sae.weights.config.dIn;
  const wDec = tensorOf(sae.weights, 'W_dec');
  const norms = new Float32Array(dSae);
  for (let f = 0; f < dSae; f++) {
    let s = 0;
    for (let d = 0; d < dIn; d++) s += wDec[f * dIn + d] ** 2;
    norms[f] = Math.sqrt(s);
  }
  const unembed = model.unembedding();
  const tables = unembed ? logitTables(wDec, dSae, dIn, unembed) : undefined;
  const built = await buildFeatureIndex(
    {
      encoder: sessionEncoder(target),
      documents: corpus.documents,
      fingerprints: fingerprintsOf(target, corpus),
      names: { sae: sae.name, model: model.name, site: target.site, corpus: basename(corpusPath) },
      ...(unembed ? { logitNote: logitEffectNote(unembed) } : {}),
      decoderNorms: norms,
      ...(sae.weights.tensors.get('threshold') ? { thresholds: sae.weights.tensors.get('threshold')!.data } : {}),
      ...(tables ? { logits: (f: number) => tables[f] } : {}),
    },
    { ...DEFAULT_BUILD_OPTIONS, ...options.build },
    options.onProgress,
    options.signal,
  );
  return FeatureIndexDb.create(built);
}
