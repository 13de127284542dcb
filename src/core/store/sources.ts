// Opening activation sources for training and evaluation: a harvested store or a float32 .npy file.
import { join } from 'node:path';
import { ChunkedSource, type ChunkedSourceOptions, type RowChunk } from './chunkedSource';
import type { StoreManifest } from './manifest';
import { readNpyMatrixInfo } from '../npy';

export function openStoreSource(dir: string, manifest: StoreManifest, options: ChunkedSourceOptions = {}): ChunkedSource {
  const chunks: RowChunk[] = manifest.shards.map((s) => ({ file: join(dir, s.file), byteOffset: 0, rows: s.rows }));
  return new ChunkedSource(chunks, manifest.dim, options);
}

/** Default slice of a .npy file treated as one chunk (~8 MB at d 512). */
export const NPY_CHUNK_BYTES = 8 * 1024 * 1024;

export function openNpySource(path: string, options: ChunkedSourceOptions & { chunkBytes?: number } = {}): ChunkedSource {
  const info = readNpyMatrixInfo(path);
  if (info.rows === 0) throw new Error(`${path} holds no rows`);
  const rowBytes = info.cols * 4;
  const chunkRows = Math.max(1, Math.floor((options.chunkBytes ?? NPY_CHUNK_BYTES) / rowBytes));
  const chunks: RowChunk[] = [];
  for (let r = 0; r < info.rows; r += chunkRows) {
    chunks.push({ file: path, byteOffset: info.dataOffset + r * rowBytes, rows: Math.min(chunkRows, info.rows - r) });
  }
  return new ChunkedSource(chunks, info.cols, { groupChunks: 16, ...options });
}
