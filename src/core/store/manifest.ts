// The activation cache's manifest: written last and atomically, so a folder with a valid manifest is
// complete. The key says which model, site, corpus and context produced the rows.
import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { writeNpyStreamed } from '../npy';
import type { CorpusFile } from './corpus';

export const MANIFEST_FILE = 'manifest.json';
export const STORE_FORMAT = 'feature-lens-activations';
export const STORE_VERSION = 1;

export interface ShardInfo {
  readonly file: string;
  readonly rows: number;
}

export interface StoreManifest {
  readonly format: typeof STORE_FORMAT;
  readonly version: number;
  readonly key: string;
  readonly model: string;
  readonly site: string;
  readonly dim: number;
  readonly contextLength: number;
  /** Position 0 of every window (attends only to itself, BOS-like) is never stored. */
  readonly excludesFirstPosition: true;
  readonly dtype: 'float32';
  readonly rows: number;
  /** The corpus ran out before the requested number of rows. */
  readonly exhausted: boolean;
  readonly seed: number;
  readonly corpusFiles: number;
  readonly shards: readonly ShardInfo[];
}

export interface KeyInputs {
  readonly model: string;
  readonly site: string;
  readonly contextLength: number;
  readonly seed: number;
  readonly files: readonly CorpusFile[];
}

export function storeKey(inputs: KeyInputs): string {
  const h = createHash('sha256');
  h.update(JSON.stringify({ v: STORE_VERSION, model: inputs.model, site: inputs.site, ctx: inputs.contextLength, seed: inputs.seed }));
  for (const f of inputs.files) h.update(`\n${f.path}\t${f.size}\t${f.mtimeMs}`);
  return h.digest('hex').slice(0, 32);
}

/** A parsed, checked manifest, or undefined when the folder is not a complete store. */
export function readManifest(dir: string): StoreManifest | undefined {
  const path = join(dir, MANIFEST_FILE);
  if (!existsSync(path)) return undefined;
  let m: StoreManifest;
  try {
    m = JSON.parse(readFileSync(path, 'utf8')) as StoreManifest;
  } catch {
    return undefined;
  }
  if (m.format !== STORE_FORMAT || m.version !== STORE_VERSION || !Array.isArray(m.shards)) return undefined;
  if (!Number.isInteger(m.dim) || m.dim <= 0 || !Number.isInteger(m.rows) || m.rows < 0) return undefined;
  const sum = m.shards.reduce((s, x) => s + x.rows, 0);
  if (sum !== m.rows) return undefined;
  return m;
}

/**
 * Copies the first `rows` rows of a store into one float32 .npy [rows, d], shard by shard, so the file
 * can be larger than memory. Returns the rows written.
 */
export function exportStoreToNpy(dir: string, manifest: StoreManifest, outPath: string, rows = manifest.rows): number {
  const n = Math.min(rows, manifest.rows);
  const rowBytes = manifest.dim * 4;
  const buf = Buffer.alloc(Math.max(rowBytes, 8 * 1024 * 1024 - ((8 * 1024 * 1024) % rowBytes)));
  writeNpyStreamed(outPath, n, manifest.dim, (append) => {
    let left = n * rowBytes;
    for (const shard of manifest.shards) {
      if (left === 0) break;
      const fd = openSync(join(dir, shard.file), 'r');
      try {
        const shardBytes = Math.min(shard.rows * rowBytes, left);
        for (let pos = 0; pos < shardBytes; ) {
          const got = readSync(fd, buf, 0, Math.min(buf.length, shardBytes - pos), pos);
          if (got === 0) throw new Error(`${shard.file} is shorter than the manifest says`);
          append(buf.subarray(0, got));
          pos += got;
        }
        left -= shardBytes;
      } finally {
        closeSync(fd);
      }
    }
  });
  return n;
}
