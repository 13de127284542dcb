// The feature index as an SQLite database (one file beside the SAE): meta, corpus windows, per-feature
// statistics and contexts, automatic labels, and an FTS4 table over labels, top tokens and contexts.
import { existsSync, readFileSync } from 'node:fs';
import { gunzipSync, gzipSync } from 'node:zlib';
import { writeFileAtomic } from '../util/atomic';
import { blobOf, f32, f64, i32, u32 } from './blobs';
import { sqlite, type Database } from './sqlite';
import { KEY_KINDS } from './tokenKeys';
import { INDEX_VERSION, type AutoLabel, type BuiltIndex, type FeatureRecord, type IndexedContext, type IndexFingerprints, type IndexMeta, type KeyStat, type LogitTable, type RulePart } from './types';

/** A gzip-compressed SQLite database (gunzip it to open it with any SQLite tool). */
export const INDEX_FILE = 'feature_index.sqlite.gz';

const SCHEMA = `
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE tokens(id INTEGER PRIMARY KEY, text TEXT NOT NULL);
CREATE TABLE words(id INTEGER PRIMARY KEY, text TEXT NOT NULL);
CREATE TABLE windows(id INTEGER PRIMARY KEY, split INTEGER NOT NULL, source TEXT NOT NULL, ids BLOB NOT NULL);
CREATE TABLE features(id INTEGER PRIMARY KEY, fires INTEGER NOT NULL, max_act REAL NOT NULL, mean_act REAL NOT NULL,
  histogram BLOB NOT NULL, decoder_norm REAL NOT NULL, threshold REAL, logits BLOB, coact BLOB, key_stats BLOB);
CREATE TABLE contexts(feature INTEGER PRIMARY KEY, packed BLOB NOT NULL);
CREATE TABLE auto_labels(feature INTEGER PRIMARY KEY, label TEXT NOT NULL, rule TEXT NOT NULL, parts TEXT NOT NULL,
  validation_auroc REAL, auroc REAL, rule_auroc REAL, balanced_accuracy REAL, correlation REAL,
  heldout_fires INTEGER NOT NULL, heldout_tokens INTEGER NOT NULL);
`;

export class StaleIndexError extends Error {
  constructor(readonly reason: string) {
    super(`the feature index is out of date: ${reason}`);
    this.name = 'StaleIndexError';
  }
}

/** Why an index with this meta does not describe the current SAE/model/corpus, or undefined if it does. */
export function staleReason(meta: IndexMeta, expected: Partial<IndexFingerprints>): string | undefined {
  if (meta.version !== INDEX_VERSION) return `it was written by index format ${meta.version}, this version reads ${INDEX_VERSION}`;
  for (const what of ['sae', 'model', 'corpus'] as const) {
    const want = expected[what];
    if (want !== undefined && meta.fingerprints[what] !== want) return `it was built for another ${what === 'sae' ? 'SAE' : what} (fingerprint ${meta.fingerprints[what]}, now ${want})`;
  }
  return undefined;
}

export class FeatureIndexDb {
  private constructor(
    private readonly db: Database,
    readonly meta: IndexMeta,
  ) {}

  static async create(built: BuiltIndex): Promise<FeatureIndexDb> {
    const SQL = await sqlite();
    const db = new SQL.Database();
    db.exec(SCHEMA);
    db.exec('BEGIN');
    const put = (sql: string, rows: Iterable<(number | string | Uint8Array | null)[]>) => {
      const st = db.prepare(sql);
      for (const r of rows) st.run(r);
      st.free();
    };
    put('INSERT INTO meta VALUES (?, ?)', [['meta', JSON.stringify(built.meta)]]);
    put('INSERT INTO tokens VALUES (?, ?)', [...built.tokenTexts].map(([id, text]) => [id, text]));
    put('INSERT INTO words VALUES (?, ?)', built.words.map((w, i) => [i, w]));
    put('INSERT INTO windows VALUES (?, ?, ?, ?)', built.windows.map((w, i) => [i, w.split, w.source, blobOf(w.ids)]));
    put(
      'INSERT INTO features VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      built.features.map((f) => [
        f.id,
        f.fires,
        f.maxActivation,
        f.meanActivation,
        blobOf(Uint32Array.from(f.histogram)),
        f.decoderNorm,
        f.threshold ?? null,
        f.logits ? packLogits(f.logits) : null,
        blobOf(Uint32Array.from(f.coactivations.flatMap((c) => [c.other, c.count]))),
        packKeyStats(f.keyStats),
      ]),
    );
    put(
      'INSERT INTO contexts VALUES (?, ?)',
      built.features.filter((f) => f.contexts.length > 0).map((f) => [f.id, packContexts(f.contexts)]),
    );
    db.exec('COMMIT');
    const index = new FeatureIndexDb(db, built.meta);
    index.refreshSearch();
    return index;
  }

  static async open(stored: Uint8Array, where: string): Promise<FeatureIndexDb> {
    const SQL = await sqlite();
    let bytes = stored;
    let db: Database;
    let meta: IndexMeta;
    try {
      if (bytes[0] === 0x1f && bytes[1] === 0x8b) bytes = gunzipSync(bytes);
      db = new SQL.Database(bytes);
      const row = db.exec("SELECT value FROM meta WHERE key = 'meta'");
      meta = JSON.parse(String(row[0]?.values[0]?.[0])) as IndexMeta;
      if (typeof meta?.version !== 'number' || typeof meta.fingerprints !== 'object') throw new Error('no meta record');
    } catch (err) {
      throw new Error(`${where} is not a feature index (${err instanceof Error ? err.message : String(err)})`);
    }
    return new FeatureIndexDb(db, meta);
  }

  static async read(path: string): Promise<FeatureIndexDb | undefined> {
    if (!existsSync(path)) return undefined;
    return FeatureIndexDb.open(readFileSync(path), path);
  }

  /** Writes the database gzip-compressed (about a third of its size), atomically. */
  async save(path: string): Promise<void> {
    await writeFileAtomic(path, this.bytes());
  }

  bytes(): Uint8Array {
    return gzipSync(this.db.export(), { level: 9 });
  }

  close(): void {
    this.db.close();
  }

  private rows(sql: string, params: (number | string)[] = []): (number | string | Uint8Array | null)[][] {
    const st = this.db.prepare(sql);
    st.bind(params);
    const out: (number | string | Uint8Array | null)[][] = [];
    while (st.step()) out.push(st.get() as (number | string | Uint8Array | null)[]);
    st.free();
    return out;
  }

  private texts?: Map<number, string>;

  /** Text of every token the index mentions (read once). */
  tokenTexts(): Map<number, string> {
    this.texts ??= new Map(this.rows('SELECT id, text FROM tokens').map((r) => [r[0] as number, r[1] as string]));
    return this.texts;
  }

  words(): string[] {
    return this.rows('SELECT text FROM words ORDER BY id').map((r) => r[0] as string);
  }

  windowTokens(window: number): Int32Array {
    const r = this.rows('SELECT ids FROM windows WHERE id = ?', [window])[0];
    if (!r) throw new Error(`the feature index has no window ${window}`);
    return i32(r[0] as Uint8Array);
  }

  windows(split: 0 | 1): { id: number; source: string; ids: Int32Array }[] {
    return this.rows('SELECT id, source, ids FROM windows WHERE split = ? ORDER BY id', [split]).map((r) => ({ id: r[0] as number, source: r[1] as string, ids: i32(r[2] as Uint8Array) }));
  }

  windowSource(window: number): string {
    return String(this.rows('SELECT source FROM windows WHERE id = ?', [window])[0]?.[0] ?? '');
  }

  /** Firing counts of every feature (index = feature id). */
  fireCounts(): Uint32Array {
    const out = new Uint32Array(this.meta.dSae);
    for (const r of this.rows('SELECT id, fires FROM features')) out[r[0] as number] = r[1] as number;
    return out;
  }

  feature(id: number): FeatureRecord | undefined {
    const r = this.rows('SELECT id, fires, max_act, mean_act, histogram, decoder_norm, threshold, logits, coact, key_stats FROM features WHERE id = ?', [id])[0];
    if (!r) return undefined;
    const co = u32(r[8] as Uint8Array);
    const keyStats = unpackKeyStats(r[9] as Uint8Array);
    const contexts = this.contextsOf(id);
    return {
      id,
      fires: r[1] as number,
      maxActivation: r[2] as number,
      meanActivation: r[3] as number,
      histogram: Array.from(u32(r[4] as Uint8Array)),
      decoderNorm: r[5] as number,
      ...(r[6] !== null ? { threshold: r[6] as number } : {}),
      ...(r[7] !== null ? { logits: unpackLogits(r[7] as Uint8Array) } : {}),
      contexts,
      coactivations: Array.from({ length: co.length / 2 }, (_, i) => ({ other: co[2 * i], count: co[2 * i + 1] })),
      keyStats,
    };
  }

  private contextsOf(id: number): IndexedContext[] {
    const r = this.rows('SELECT packed FROM contexts WHERE feature = ?', [id])[0];
    return r ? unpackContexts(r[0] as Uint8Array) : [];
  }

  setAutoLabels(labels: readonly AutoLabel[]): void {
    this.db.exec('BEGIN; DELETE FROM auto_labels;');
    const st = this.db.prepare('INSERT INTO auto_labels VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
    for (const l of labels) {
      const s = l.scores;
      st.run([l.feature, l.label, l.rule, JSON.stringify(l.parts), s.validationAuroc ?? null, s.auroc ?? null, s.ruleAuroc ?? null, s.balancedAccuracy ?? null, s.correlation ?? null, s.heldoutFires, s.heldoutTokens]);
    }
    st.free();
    this.db.exec('COMMIT');
    this.refreshSearch();
  }

  autoLabels(): Map<number, AutoLabel> {
    const out = new Map<number, AutoLabel>();
    for (const r of this.rows('SELECT * FROM auto_labels ORDER BY feature')) {
      const opt = (v: unknown) => (typeof v === 'number' ? v : undefined);
      const validation = opt(r[4]);
      const auroc = opt(r[5]);
      const ruleAuc = opt(r[6]);
      const bal = opt(r[7]);
      const corr = opt(r[8]);
      out.set(r[0] as number, {
        feature: r[0] as number,
        label: r[1] as string,
        rule: r[2] as string,
        parts: JSON.parse(r[3] as string) as RulePart[],
        scores: {
          ...(validation !== undefined ? { validationAuroc: validation } : {}),
          ...(auroc !== undefined ? { auroc } : {}),
          ...(ruleAuc !== undefined ? { ruleAuroc: ruleAuc } : {}),
          ...(bal !== undefined ? { balancedAccuracy: bal } : {}),
          ...(corr !== undefined ? { correlation: corr } : {}),
          heldoutFires: r[9] as number,
          heldoutTokens: r[10] as number,
        },
      });
    }
    return out;
  }

  /** Rebuilds the full-text table: per live feature its automatic label, top tokens and top contexts. */
  private refreshSearch(): void {
    const texts = this.tokenTexts();
    const labels = new Map(this.rows('SELECT feature, label, rule FROM auto_labels').map((r) => [r[0] as number, `${r[1] as string} ${r[2] as string}`]));
    const windowIds = new Map<number, Int32Array>();
    const win = (w: number) => {
      let ids = windowIds.get(w);
      if (!ids) windowIds.set(w, (ids = this.windowTokens(w)));
      return ids;
    };
    const tokenKind = KEY_KINDS.indexOf('token');
    // Contentless: the texts are in the other tables already; only the full-text index is stored.
    this.db.exec('BEGIN; DROP TABLE IF EXISTS search; CREATE VIRTUAL TABLE search USING fts4(content="", label, tokens, contexts, tokenize=unicode61);');
    const st = this.db.prepare('INSERT INTO search(docid, label, tokens, contexts) VALUES (?, ?, ?, ?)');
    for (const r of this.rows('SELECT id, key_stats FROM features WHERE fires > 0')) {
      const id = r[0] as number;
      const tokens = unpackKeyStats(r[1] as Uint8Array)
        .filter((s) => s.kind === tokenKind)
        .map((s) => texts.get(s.key) ?? '');
      const contexts = this.contextsOf(id)
        .filter((c) => c.band === -1)
        .slice(0, 5)
        .map((c) => Array.from(win(c.window).subarray(c.start, c.start + c.activations.length), (t) => texts.get(t) ?? '').join(''));
      st.run([id, labels.get(id) ?? '', tokens.join(' '), contexts.join(' \n ')]);
    }
    st.free();
    this.db.exec('COMMIT');
  }

  /** Full-text search over labels, top tokens and contexts; best matches first (label hits count most). */
  search(query: string, limit = 50): { feature: number; score: number }[] {
    const terms = query
      .toLowerCase()
      .split(/[^\p{L}\p{N}_]+/u)
      .filter((t) => t.length > 0)
      .map((t) => `${t.replace(/"/g, '')}*`);
    if (terms.length === 0) return [];
    const rows = this.rows('SELECT docid, matchinfo(search, \'x\') FROM search WHERE search MATCH ?', [terms.join(' ')]);
    const weights = [4, 2, 1];
    return rows
      .map((r) => {
        const info = u32(r[1] as Uint8Array);
        // matchinfo 'x': per phrase and column, [hits in this row, hits in all rows, rows with hits].
        let score = 0;
        for (let i = 0; i + 2 < info.length; i += 3) {
          const col = (i / 3) % 3;
          if (info[i] > 0) score += weights[col] * (1 + Math.log(info[i])) * Math.log(1 + this.meta.dSae / Math.max(1, info[i + 2]));
        }
        return { feature: r[0] as number, score };
      })
      .sort((a, b) => b.score - a.score || a.feature - b.feature)
      .slice(0, limit);
  }
}

/** Key stats as one blob: keys (float64, bigram keys exceed 32 bits), then kind, fires, total (uint32), activation sums (float32). */
function packKeyStats(stats: readonly KeyStat[]): Uint8Array {
  const n = stats.length;
  const keys = blobOf(Float64Array.from(stats, (s) => s.key));
  const ints = blobOf(Uint32Array.from(stats.flatMap((s) => [s.kind, s.fires, s.total])));
  const sums = blobOf(Float32Array.from(stats, (s) => s.activationSum));
  const out = new Uint8Array(4 + keys.length + ints.length + sums.length);
  new DataView(out.buffer).setUint32(0, n, true);
  out.set(keys, 4);
  out.set(ints, 4 + keys.length);
  out.set(sums, 4 + keys.length + ints.length);
  return out;
}

function unpackKeyStats(blob: Uint8Array): KeyStat[] {
  if (blob.length < 4) return [];
  const n = new DataView(blob.buffer, blob.byteOffset, blob.byteLength).getUint32(0, true);
  const keys = f64(blob.subarray(4, 4 + 8 * n));
  const ints = u32(blob.subarray(4 + 8 * n, 4 + 20 * n));
  const sums = f32(blob.subarray(4 + 20 * n, 4 + 24 * n));
  return Array.from({ length: n }, (_, i) => ({ kind: ints[3 * i], key: keys[i], fires: ints[3 * i + 1], total: ints[3 * i + 2], activationSum: sums[i] }));
}

/** Logit table as one blob: [k, bins] uint32, promoted then suppressed (token int32, value float32), lo, hi, counts. */
function packLogits(t: LogitTable): Uint8Array {
  const k = t.promoted.length;
  const bins = t.histogram.counts.length;
  const buf = new ArrayBuffer(8 + 16 * k + 8 + 4 * bins);
  const v = new DataView(buf);
  v.setUint32(0, k, true);
  v.setUint32(4, bins, true);
  let o = 8;
  for (const e of [...t.promoted, ...t.suppressed]) {
    v.setInt32(o, e.token, true);
    v.setFloat32(o + 4, e.value, true);
    o += 8;
  }
  v.setFloat32(o, t.histogram.lo, true);
  v.setFloat32(o + 4, t.histogram.hi, true);
  o += 8;
  for (const c of t.histogram.counts) {
    v.setUint32(o, c, true);
    o += 4;
  }
  return new Uint8Array(buf);
}

function unpackLogits(blob: Uint8Array): LogitTable {
  const v = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  const k = v.getUint32(0, true);
  const bins = v.getUint32(4, true);
  const entry = (i: number) => ({ token: v.getInt32(8 + 8 * i, true), value: v.getFloat32(12 + 8 * i, true) });
  const o = 8 + 16 * k;
  return {
    promoted: Array.from({ length: k }, (_, i) => entry(i)),
    suppressed: Array.from({ length: k }, (_, i) => entry(k + i)),
    histogram: { lo: v.getFloat32(o, true), hi: v.getFloat32(o + 4, true), counts: Array.from({ length: bins }, (_, i) => v.getUint32(o + 8 + 4 * i, true)) },
  };
}

const CONTEXT_HEADER = 18;

/** Contexts as one blob: per context window int32, band int16, start uint16, peak uint8, length uint8, max and scale float32, then activations quantised to 0…255 of scale. */
function packContexts(contexts: readonly IndexedContext[]): Uint8Array {
  const size = contexts.reduce((s, c) => s + CONTEXT_HEADER + c.activations.length, 0);
  const out = new Uint8Array(size);
  const v = new DataView(out.buffer);
  let o = 0;
  for (const c of contexts) {
    const n = Math.min(255, c.activations.length);
    const scale = c.activations.reduce((m, a) => Math.max(m, a), 0);
    v.setInt32(o, c.window, true);
    v.setInt16(o + 4, c.band, true);
    v.setUint16(o + 6, Math.min(65535, c.start), true);
    v.setUint8(o + 8, Math.min(255, c.peak));
    v.setUint8(o + 9, n);
    v.setFloat32(o + 10, c.maxActivation, true);
    v.setFloat32(o + 14, scale, true);
    for (let i = 0; i < n; i++) out[o + CONTEXT_HEADER + i] = scale > 0 ? Math.round((Math.max(0, c.activations[i]) / scale) * 255) : 0;
    o += CONTEXT_HEADER + n;
  }
  return out.subarray(0, o);
}

function unpackContexts(blob: Uint8Array): IndexedContext[] {
  const v = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  const out: IndexedContext[] = [];
  for (let o = 0; o + CONTEXT_HEADER <= blob.length; ) {
    const n = v.getUint8(o + 9);
    const scale = v.getFloat32(o + 14, true);
    const acts = Float32Array.from(blob.subarray(o + CONTEXT_HEADER, o + CONTEXT_HEADER + n), (q) => (q / 255) * scale);
    const peak = v.getUint8(o + 8);
    // The peak keeps its exact value; the others are quantised.
    const maxActivation = v.getFloat32(o + 10, true);
    if (peak < n) acts[peak] = maxActivation;
    out.push({ window: v.getInt32(o, true), band: v.getInt16(o + 4, true), start: v.getUint16(o + 6, true), peak, maxActivation, activations: acts });
    o += CONTEXT_HEADER + n;
  }
  return out;
}
