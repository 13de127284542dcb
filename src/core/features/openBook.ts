// Opening the feature book of a loaded SAE: the index beside it when it is current, else (when allowed)
// built and labelled from the corpus and saved beside the SAE. A stale index is never shown as current.
import { readCorpusFiles } from './corpusFiles';
import { FeatureBook } from './featureBook';
import { labelFeatures } from './labelFeatures';
import { median } from './scores';
import { buildIndexFor, indexPathFor, openCurrentIndex, sessionEncoder, type IndexTarget } from './sessionIndex';

export interface BookProgress {
  readonly phase: string;
  readonly done: number;
  readonly total: number;
}

export interface OpenedBook {
  readonly book?: FeatureBook;
  /** Why there is no current index (only when not built). */
  readonly reason?: string;
  /** Set when this call built the index. */
  readonly built?: { seconds: number; liveFeatures: number; labelled: number; medianAuroc?: number; notSaved?: string };
}

export async function openFeatureBook(
  target: IndexTarget,
  saeFolder: string,
  corpusPath: string,
  options: { build: boolean; rebuild?: boolean; onProgress?: (p: BookProgress) => void; signal?: AbortSignal },
): Promise<OpenedBook> {
  const path = indexPathFor(saeFolder);
  const corpus = readCorpusFiles(corpusPath);
  if (!options.rebuild) {
    const opened = await openCurrentIndex(path, target, corpus);
    if ('db' in opened) {
      const book = new FeatureBook(opened.db, path);
      if (book.autoLabels.size > 0 || !options.build) return { book };
      book.close();
    } else if (!options.build) {
      return { reason: opened.reason };
    }
  }
  const started = Date.now();
  const db = await buildIndexFor(target, corpusPath, { corpus, onProgress: (p) => options.onProgress?.({ phase: `indexing: ${p.phase}`, done: p.done, total: p.total }), signal: options.signal });
  const labels = await labelFeatures(db, sessionEncoder(target), (p) => options.onProgress?.(p), options.signal);
  let notSaved: string | undefined;
  try {
    await db.save(path);
  } catch (err) {
    notSaved = `could not save ${path}: ${err instanceof Error ? err.message : String(err)}`;
  }
  const book = new FeatureBook(db, path);
  const aucs = labels.flatMap((l) => (l.scores.ruleAuroc !== undefined ? [l.scores.ruleAuroc] : []));
  const med = median(aucs);
  return {
    book,
    built: {
      seconds: (Date.now() - started) / 1000,
      liveFeatures: [...db.fireCounts()].filter((n) => n > 0).length,
      labelled: labels.length,
      ...(med !== undefined ? { medianAuroc: med } : {}),
      ...(notSaved ? { notSaved } : {}),
    },
  };
}
