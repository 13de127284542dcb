// Builds the feature index: encodes the corpus once, then per feature its top-activating contexts, samples
// from ten activation bands (as SAEDashboard shows them), firing density, activation histogram, the features
// it fires with most, and per-key firing counts for the explainer. Cancellable, with progress.
import type { SparseFeatures } from '../analysis/decompose';
import { throwIfAborted, yieldToEventLoop } from '../util/abort';
import { Rng } from '../util/rng';
import type { CorpusDocument } from './corpusFiles';
import { KIND_COUNT, TokenFacts, WordTable, windowKeys } from './tokenKeys';
import { INDEX_VERSION, type BuiltIndex, type CorpusWindow, type FeatureRecord, type IndexedContext, type IndexFingerprints, type KeyStat, type LogitTable } from './types';

/** What the index needs from a model + SAE: tokens in, sparse features per token out. */
export interface IndexEncoder {
  readonly vocabSize: number;
  readonly dSae: number;
  tokenize(text: string): Int32Array;
  tokenText(id: number): string;
  /** Features of every token of one window (one forward pass). */
  encode(ids: Int32Array, signal?: AbortSignal): Promise<SparseFeatures>;
}

export interface BuildOptions {
  readonly windowTokens: number;
  readonly maxTokens: number;
  /** Every n-th window is held out for scoring labels (never indexed). */
  readonly heldoutEvery: number;
  readonly topContexts: number;
  readonly bands: number;
  readonly perBand: number;
  readonly contextBefore: number;
  readonly contextAfter: number;
  readonly keyStatsPerKind: number;
  readonly coactivations: number;
  readonly histogramBins: number;
  readonly seed: number;
}

export const DEFAULT_BUILD_OPTIONS: BuildOptions = {
  windowTokens: 128,
  maxTokens: 120_000,
  heldoutEvery: 5,
  topContexts: 10,
  bands: 10,
  perBand: 2,
  contextBefore: 10,
  contextAfter: 4,
  keyStatsPerKind: 16,
  coactivations: 8,
  histogramBins: 20,
  seed: 1,
};

export interface BuildProgress {
  readonly phase: 'encoding' | 'statistics';
  readonly done: number;
  readonly total: number;
}

export interface BuildInput {
  readonly encoder: IndexEncoder;
  readonly documents: readonly CorpusDocument[];
  readonly fingerprints: IndexFingerprints;
  readonly names: { sae: string; model: string; site: string; corpus: string };
  readonly decoderNorms: Float32Array;
  readonly thresholds?: Float32Array;
  readonly logits?: (feature: number) => LogitTable;
  /** How the logit tables were computed (shown on dashboards). */
  readonly logitNote?: string;
}

/** Windows of at most windowTokens tokens per document; every heldoutEvery-th window is held out. */
export function corpusWindows(encoder: IndexEncoder, documents: readonly CorpusDocument[], options: Pick<BuildOptions, 'windowTokens' | 'maxTokens' | 'heldoutEvery'>): CorpusWindow[] {
  const windows: CorpusWindow[] = [];
  let total = 0;
  for (const doc of documents) {
    const ids = encoder.tokenize(doc.text);
    for (let from = 0; from < ids.length && total < options.maxTokens; from += options.windowTokens) {
      const to = Math.min(ids.length, from + options.windowTokens, from + options.maxTokens - total);
      if (to - from < 8) break;
      const split = windows.length % options.heldoutEvery === options.heldoutEvery - 1 ? 1 : 0;
      windows.push({ source: doc.source, split, ids: ids.slice(from, to) });
      total += to - from;
    }
    if (total >= options.maxTokens) break;
  }
  return windows;
}

/** Value of one feature at row t of CSR features (columns ascending), 0 when it is off. */
export function valueAt(f: SparseFeatures, t: number, feature: number): number {
  let lo = f.rowPtr[t];
  let hi = f.rowPtr[t + 1] - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const c = f.colIdx[mid];
    if (c === feature) return f.values[mid];
    if (c < feature) lo = mid + 1;
    else hi = mid - 1;
  }
  return 0;
}

class GrowList {
  pos = new Int32Array(16);
  act = new Float32Array(16);
  n = 0;
  push(p: number, a: number): void {
    if (this.n === this.pos.length) {
      const pos = new Int32Array(this.n * 2);
      pos.set(this.pos);
      this.pos = pos;
      const act = new Float32Array(this.n * 2);
      act.set(this.act);
      this.act = act;
    }
    this.pos[this.n] = p;
    this.act[this.n++] = a;
  }
}

export async function buildFeatureIndex(input: BuildInput, options: BuildOptions = DEFAULT_BUILD_OPTIONS, onProgress?: (p: BuildProgress) => void, signal?: AbortSignal): Promise<BuiltIndex> {
  const started = Date.now();
  const { encoder } = input;
  const dSae = encoder.dSae;
  const windows = corpusWindows(encoder, input.documents, options);
  const explain = windows.map((w, i) => ({ w, i })).filter((x) => x.w.split === 0);
  if (explain.length === 0) throw new Error('the corpus is too short to index: it gives no window of at least 8 tokens');

  // Encode the explanation split; positions are numbered across its windows (global index g).
  const encoded: SparseFeatures[] = [];
  const windowOf: number[] = [];
  const offsetOf: number[] = [];
  const startOf = new Int32Array(explain.length + 1);
  const totalTokens = explain.reduce((s, x) => s + x.w.ids.length, 0);
  let done = 0;
  for (let k = 0; k < explain.length; k++) {
    throwIfAborted(signal);
    const f = await encoder.encode(explain[k].w.ids, signal);
    if (f.rows !== explain[k].w.ids.length) throw new Error(`encoder returned ${f.rows} rows for ${explain[k].w.ids.length} tokens`);
    encoded.push(f);
    startOf[k + 1] = startOf[k] + f.rows;
    for (let t = 0; t < f.rows; t++) {
      windowOf.push(k);
      offsetOf.push(t);
    }
    done += f.rows;
    onProgress?.({ phase: 'encoding', done, total: totalTokens });
    await yieldToEventLoop();
  }

  // Keys of every position, global key counts, firing lists and co-firing counts. Position 0 of a window is
  // skipped everywhere (the SAE was trained without it, and it is an attention sink).
  const words = new WordTable();
  const facts = new TokenFacts((id) => encoder.tokenText(id), words);
  const keys = Array.from({ length: KIND_COUNT }, () => new Float64Array(totalTokens).fill(-1));
  const totals = Array.from({ length: KIND_COUNT }, () => new Map<number, number>());
  const firings = Array.from({ length: dSae }, () => new GrowList());
  const co = new Uint32Array(dSae * dSae);
  let indexed = 0;
  for (let k = 0; k < explain.length; k++) {
    const ids = explain[k].w.ids;
    const wk = windowKeys(ids, facts, encoder.vocabSize);
    const f = encoded[k];
    for (let t = 1; t < ids.length; t++) {
      const g = startOf[k] + t;
      indexed++;
      for (let kind = 0; kind < KIND_COUNT; kind++) {
        const key = wk[kind][t];
        keys[kind][g] = key;
        if (key >= 0) totals[kind].set(key, (totals[kind].get(key) ?? 0) + 1);
      }
      const a = f.rowPtr[t];
      const b = f.rowPtr[t + 1];
      for (let e = a; e < b; e++) {
        const i = f.colIdx[e];
        if (!(f.values[e] > 0)) continue;
        firings[i].push(g, f.values[e]);
        const row = i * dSae;
        for (let e2 = a; e2 < b; e2++) if (e2 !== e && f.values[e2] > 0) co[row + f.colIdx[e2]]++;
      }
    }
    if (k % 16 === 0) {
      throwIfAborted(signal);
      await yieldToEventLoop();
    }
  }

  const random = new Rng(options.seed);
  const contextOf = (feature: number, g: number, band: number): IndexedContext => {
    const k = windowOf[g];
    const t = offsetOf[g];
    const n = explain[k].w.ids.length;
    const from = Math.max(0, t - options.contextBefore);
    const to = Math.min(n, t + options.contextAfter + 1);
    const acts = new Float32Array(to - from);
    for (let u = from; u < to; u++) acts[u - from] = valueAt(encoded[k], u, feature);
    return { band, window: explain[k].i, start: from, peak: t - from, maxActivation: acts[t - from], activations: acts };
  };

  const features: FeatureRecord[] = [];
  for (let i = 0; i < dSae; i++) {
    const list = firings[i];
    const n = list.n;
    const base = { id: i, decoderNorm: input.decoderNorms[i], ...(input.thresholds ? { threshold: input.thresholds[i] } : {}), ...(input.logits ? { logits: input.logits(i) } : {}) };
    if (n === 0) {
      features.push({ ...base, fires: 0, maxActivation: 0, meanActivation: 0, histogram: new Array<number>(options.histogramBins).fill(0), contexts: [], coactivations: [], keyStats: [] });
      continue;
    }
    let max = 0;
    let sum = 0;
    for (let e = 0; e < n; e++) {
      max = Math.max(max, list.act[e]);
      sum += list.act[e];
    }
    const histogram = new Array<number>(options.histogramBins).fill(0);
    const bandOf = (a: number, bins: number) => Math.min(bins - 1, Math.floor((a / max) * bins));
    for (let e = 0; e < n; e++) histogram[bandOf(list.act[e], options.histogramBins)]++;

    // Top contexts: strongest firings, at most one per window.
    const order = Array.from({ length: n }, (_, e) => e).sort((x, y) => list.act[y] - list.act[x]);
    const contexts: IndexedContext[] = [];
    const usedWindows = new Set<number>();
    const used = new Set<number>();
    for (const e of order) {
      if (contexts.length >= options.topContexts) break;
      const k = windowOf[list.pos[e]];
      if (usedWindows.has(k)) continue;
      usedWindows.add(k);
      used.add(e);
      contexts.push(contextOf(i, list.pos[e], -1));
    }
    // Band samples: perBand firings drawn uniformly from each activation band (reservoir sampling).
    const reservoirs = Array.from({ length: options.bands }, () => ({ seen: 0, kept: [] as number[] }));
    for (let e = 0; e < n; e++) {
      if (used.has(e)) continue;
      const r = reservoirs[bandOf(list.act[e], options.bands)];
      r.seen++;
      if (r.kept.length < options.perBand) r.kept.push(e);
      else {
        const j = random.int(r.seen);
        if (j < options.perBand) r.kept[j] = e;
      }
    }
    reservoirs.forEach((r, band) => r.kept.sort((x, y) => list.act[y] - list.act[x]).forEach((e) => contexts.push(contextOf(i, list.pos[e], band))));

    // Co-firing features, by how often they fire at the same positions.
    const row = co.subarray(i * dSae, (i + 1) * dSae);
    const coactivations = topByValue(row, options.coactivations).map((other) => ({ other, count: row[other] }));

    features.push({ ...base, fires: n, maxActivation: max, meanActivation: sum / n, histogram, contexts, coactivations, keyStats: keyStatsOf(list, keys, totals, options.keyStatsPerKind) });
    if (i % 64 === 0) {
      onProgress?.({ phase: 'statistics', done: i, total: dSae });
      throwIfAborted(signal);
      await yieldToEventLoop();
    }
  }

  const tokenTexts = new Map<number, string>();
  for (const w of windows) for (const id of w.ids) if (!tokenTexts.has(id)) tokenTexts.set(id, encoder.tokenText(id));
  for (const f of features) for (const e of [...(f.logits?.promoted ?? []), ...(f.logits?.suppressed ?? [])]) if (!tokenTexts.has(e.token)) tokenTexts.set(e.token, encoder.tokenText(e.token));
  const heldoutTokens = windows.filter((w) => w.split === 1).reduce((s, w) => s + w.ids.length, 0);
  return {
    meta: {
      version: INDEX_VERSION,
      fingerprints: input.fingerprints,
      saeName: input.names.sae,
      modelName: input.names.model,
      site: input.names.site,
      corpusName: input.names.corpus,
      dSae,
      vocabSize: encoder.vocabSize,
      windowTokens: options.windowTokens,
      explainTokens: indexed,
      heldoutTokens,
      histogramBins: options.histogramBins,
      ...(input.logitNote ? { logitNote: input.logitNote } : {}),
      createdAt: new Date().toISOString(),
      buildSeconds: (Date.now() - started) / 1000,
    },
    windows,
    tokenTexts,
    words: words.words,
    features,
  };
}

function topByValue(values: ArrayLike<number>, k: number): number[] {
  const idx: number[] = [];
  for (let j = 0; j < values.length; j++) if (values[j] > 0) idx.push(j);
  return idx.sort((a, b) => values[b] - values[a] || a - b).slice(0, k);
}

function keyStatsOf(list: GrowList, keys: Float64Array[], totals: Map<number, number>[], perKind: number): KeyStat[] {
  const out: KeyStat[] = [];
  for (let kind = 0; kind < keys.length; kind++) {
    const counts = new Map<number, { fires: number; sum: number }>();
    for (let e = 0; e < list.n; e++) {
      const key = keys[kind][list.pos[e]];
      if (key < 0) continue;
      const c = counts.get(key);
      if (c) {
        c.fires++;
        c.sum += list.act[e];
      } else counts.set(key, { fires: 1, sum: list.act[e] });
    }
    // Keep the keys that explain most firings; ties go to the rarer (more specific) key.
    const ranked = [...counts.entries()].sort((a, b) => b[1].fires - a[1].fires || (totals[kind].get(a[0]) ?? 0) - (totals[kind].get(b[0]) ?? 0) || a[0] - b[0]);
    for (const [key, c] of ranked.slice(0, perKind)) out.push({ kind, key, fires: c.fires, total: totals[kind].get(key) ?? c.fires, activationSum: c.sum });
  }
  return out;
}
