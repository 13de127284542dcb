// Copies the first `rows` rows of a harvested store into one float32 .npy [rows, d], streaming shard
// by shard so the file can be larger than memory.
import { closeSync, fsyncSync, openSync, readSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { StoreManifest } from './manifest';
import { encodeNpyHeader } from '../npy';

export function exportStoreToNpy(dir: string, manifest: StoreManifest, outPath: string, rows = manifest.rows): number {
  const n = Math.min(rows, manifest.rows);
  const rowBytes = manifest.dim * 4;
  const out = openSync(outPath, 'w');
  try {
    const header = encodeNpyHeader([n, manifest.dim]);
    writeSync(out, header);
    const buf = Buffer.alloc(Math.max(rowBytes, 8 * 1024 * 1024 - ((8 * 1024 * 1024) % rowBytes)));
    let left = n * rowBytes;
    for (const shard of manifest.shards) {
      if (left === 0) break;
      const fd = openSync(join(dir, shard.file), 'r');
      try {
        let pos = 0;
        const shardBytes = Math.min(shard.rows * rowBytes, left);
        while (pos < shardBytes) {
          const got = readSync(fd, buf, 0, Math.min(buf.length, shardBytes - pos), pos);
          if (got === 0) throw new Error(`${shard.file} is shorter than the manifest says`);
          writeSync(out, buf, 0, got);
          pos += got;
        }
        left -= shardBytes;
      } finally {
        closeSync(fd);
      }
    }
    fsyncSync(out);
    return n;
  } finally {
    closeSync(out);
  }
}
