// Harvesting: run the model over a corpus and spill the activations at one site to float32 shards on
// disk. Memory holds one batch of activations, one shard being filled and the token ids of the
// windows, never the whole harvest. The result is reused when model, site, corpus and context match.
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { throwIfAborted, yieldToEventLoop } from '../util/abort';
import { nodeAtomicFs, writeFileAtomic } from '../util/atomic';
import { Rng } from '../util/rng';
import { type CorpusListing, readDocuments } from './corpus';
import { MANIFEST_FILE, readManifest, STORE_FORMAT, STORE_VERSION, type ShardInfo, type StoreManifest, storeKey } from './manifest';
import type { ActivationModel } from './types';
import { type TokenWindows, WindowBuilder } from './windows';

export interface HarvestOptions {
  readonly model: ActivationModel;
  readonly site: string;
  readonly corpus: CorpusListing;
  /** Activation rows wanted (tokens, not counting the excluded first position of each window). */
  readonly tokens: number;
  /** Parent folder; each harvest lives in <cacheDir>/<key>/. */
  readonly cacheDir: string;
  readonly seed?: number;
  /** Windows per forward pass. */
  readonly batchWindows?: number;
  /** Bytes per shard file (rounded down to whole rows). */
  readonly shardBytes?: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: HarvestProgress) => void;
}

export interface HarvestProgress {
  readonly phase: 'tokenize' | 'activations';
  /** Tokens collected (tokenize) or rows written (activations). */
  readonly done: number;
  readonly target: number;
  readonly elapsedMs: number;
}

export interface ActivationCache {
  readonly dir: string;
  readonly manifest: StoreManifest;
  /** True when an earlier harvest was reused. */
  readonly reused: boolean;
}

export const DEFAULT_SHARD_BYTES = 32 * 1024 * 1024;

export async function harvestActivations(options: HarvestOptions): Promise<ActivationCache> {
  const { model, site, corpus, cacheDir, signal } = options;
  const seed = options.seed ?? 0;
  const target = Math.floor(options.tokens);
  if (!(target > 0)) throw new Error(`tokens must be a positive number, got ${options.tokens}`);
  if (corpus.files.length === 0) throw new Error(`the corpus at ${corpus.root} holds no text files`);
  const dim = model.siteDim(site);
  const T = model.contextLength;
  const key = storeKey({ model: model.id, site, contextLength: T, seed, files: corpus.files });
  const finalDir = join(cacheDir, key);
  const existing = readManifest(finalDir);
  if (existing && (existing.rows >= target || existing.exhausted)) return { dir: finalDir, manifest: existing, reused: true };

  const started = Date.now();
  const report = (phase: HarvestProgress['phase'], done: number, of: number) =>
    options.onProgress?.({ phase, done, target: of, elapsedMs: Date.now() - started });

  // Tokens to collect: enough whole windows for `target` rows (each window yields T − 1 rows).
  const windowsWanted = Math.ceil(target / (T - 1));
  const windows = await collectWindows({
    corpus,
    tokenize: (text) => model.tokenize(text),
    contextLength: T,
    separatorId: model.separatorId,
    maxTokens: windowsWanted * T,
    seed,
    signal,
    onProgress: (done, of) => report('tokenize', done, of),
  });
  if (windows.count === 0) throw new Error(`the corpus holds fewer than ${T} tokens: not one context window`);
  const rowsToWrite = Math.min(target, windows.count * (T - 1));

  mkdirSync(cacheDir, { recursive: true });
  const partialDir = join(cacheDir, `${key}.partial-${process.pid}-${randomBytes(4).toString('hex')}`);
  mkdirSync(partialDir);
  try {
    const shardRows = Math.max(1, Math.floor((options.shardBytes ?? DEFAULT_SHARD_BYTES) / (4 * dim)));
    const writer = new ShardWriter(partialDir, dim, Math.min(shardRows, rowsToWrite));
    const batch = Math.max(1, options.batchWindows ?? 8);
    for (let w = 0; w < windows.count && writer.rows < rowsToWrite; w += batch) {
      throwIfAborted(signal);
      const b = Math.min(batch, windows.count - w);
      const acts = await model.activations(windows.ids.subarray(w * T, (w + b) * T), b, site, signal);
      if (acts.cols !== dim || acts.rows !== b * T) {
        throw new Error(`model returned [${acts.rows}, ${acts.cols}] activations for ${b} windows of ${T} at ${site}; expected [${b * T}, ${dim}]`);
      }
      for (let i = 0; i < b && writer.rows < rowsToWrite; i++) {
        const from = (i * T + 1) * dim;
        const rowsHere = Math.min(T - 1, rowsToWrite - writer.rows);
        writer.append(acts.data.subarray(from, from + rowsHere * dim));
      }
      report('activations', writer.rows, rowsToWrite);
    }
    const shards = writer.finish();
    const manifest: StoreManifest = {
      format: STORE_FORMAT,
      version: STORE_VERSION,
      key,
      model: model.id,
      site,
      dim,
      contextLength: T,
      excludesFirstPosition: true,
      dtype: 'float32',
      rows: writer.rows,
      exhausted: writer.rows < target,
      seed,
      corpusFiles: corpus.files.length,
      shards,
    };
    await writeFileAtomic(join(partialDir, MANIFEST_FILE), new TextEncoder().encode(JSON.stringify(manifest, null, 1)));
    // Publish the whole folder at once; an older, smaller harvest under the same key is replaced.
    if (existsSync(finalDir)) rmSync(finalDir, { recursive: true, force: true });
    renameSync(partialDir, finalDir);
    await nodeAtomicFs.syncDir(cacheDir);
    return { dir: finalDir, manifest, reused: false };
  } catch (err) {
    rmSync(partialDir, { recursive: true, force: true });
    throw err;
  }
}

export interface WindowRequest {
  readonly corpus: CorpusListing;
  readonly tokenize: (text: string) => Int32Array;
  readonly contextLength: number;
  readonly separatorId?: number;
  readonly maxTokens: number;
  readonly seed: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (tokens: number, target: number) => void;
}

/**
 * Context windows from a corpus: files in seeded order, documents in seeded order within each file,
 * joined by the separator token, cut into windows and shuffled. The same request gives the same windows.
 */
export async function collectWindows(req: WindowRequest): Promise<TokenWindows> {
  const builder = new WindowBuilder(req.contextLength, req.maxTokens, req.separatorId);
  const rng = new Rng(req.seed);
  const fileOrder = rng.shuffle(Int32Array.from(req.corpus.files.keys()));
  for (const fi of fileOrder) {
    if (builder.full) break;
    throwIfAborted(req.signal);
    const docs = readDocuments(req.corpus.root, req.corpus.files[fi]);
    const docOrder = rng.shuffle(Int32Array.from(docs.keys()));
    for (const di of docOrder) {
      if (builder.full) break;
      for (const piece of pieces(docs[di])) builder.addDocument(req.tokenize(piece));
    }
    req.onProgress?.(builder.tokens, req.maxTokens);
    await yieldToEventLoop();
  }
  return builder.build(rng);
}

/** Long documents are tokenized in line-aligned pieces so one huge file never makes one huge call. */
function* pieces(text: string, maxChars = 65536): Generator<string> {
  let start = 0;
  while (start < text.length) {
    let end = Math.min(text.length, start + maxChars);
    if (end < text.length) {
      const nl = text.lastIndexOf('\n', end);
      if (nl > start) end = nl + 1;
    }
    yield text.slice(start, end);
    start = end;
  }
}

/** Appends rows to fixed-size shard files, fsyncing each one when it is full. */
class ShardWriter {
  private readonly buffer: Float32Array;
  private filled = 0;
  private readonly shards: ShardInfo[] = [];
  rows = 0;

  constructor(
    private readonly dir: string,
    private readonly dim: number,
    shardRows: number,
  ) {
    this.buffer = new Float32Array(shardRows * dim);
  }

  append(values: Float32Array): void {
    let off = 0;
    while (off < values.length) {
      const take = Math.min(values.length - off, this.buffer.length - this.filled);
      this.buffer.set(values.subarray(off, off + take), this.filled);
      this.filled += take;
      off += take;
      if (this.filled === this.buffer.length) this.flush();
    }
    this.rows += values.length / this.dim;
  }

  finish(): ShardInfo[] {
    if (this.filled > 0) this.flush();
    return this.shards;
  }

  private flush(): void {
    const file = `shard-${String(this.shards.length).padStart(5, '0')}.f32`;
    const bytes = new Uint8Array(this.buffer.buffer, this.buffer.byteOffset, this.filled * 4);
    const fd = openSync(join(this.dir, file), 'w');
    try {
      let off = 0;
      while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    this.shards.push({ file, rows: this.filled / this.dim });
    this.filled = 0;
  }
}
