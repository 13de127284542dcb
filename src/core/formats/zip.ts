// Zip archives (npz, torch .pt) read with fflate, after checking every entry's declared size.

import { readFileSync, statSync } from 'node:fs';
import { unzipSync } from 'fflate';
import { formatError, type LoadLimits } from '../checkpoints/limits';

export function readFileBounded(path: string, limits: LoadLimits): Uint8Array {
  const size = statSync(path).size;
  if (size > limits.maxFileBytes) throw formatError(path, `is ${size} bytes, over the ${limits.maxFileBytes}-byte limit`);
  return new Uint8Array(readFileSync(path));
}

/** Extracts the entries `wanted` accepts; refuses an archive declaring more bytes than the limits allow. */
export function readZip(bytes: Uint8Array, where: string, limits: LoadLimits, wanted: (name: string) => boolean): Map<string, Uint8Array> {
  const maxBytes = limits.maxTotalElements * 8;
  let declared = 0;
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(bytes, {
      filter(info) {
        if (!wanted(info.name)) return false;
        if (info.compression !== 0 && info.compression !== 8) {
          throw formatError(where, `entry ${info.name} uses unsupported compression method ${info.compression}`);
        }
        if (info.compression === 0 && (info.originalSize !== info.size || info.size > bytes.length)) {
          throw formatError(where, `entry ${info.name} declares ${info.originalSize} bytes, more than the archive holds`);
        }
        declared += info.originalSize;
        if (info.originalSize > limits.maxTensorElements * 8 || declared > maxBytes) {
          throw formatError(where, `entry ${info.name} declares ${info.originalSize} bytes, over the limit; refusing to extract`);
        }
        return true;
      },
    });
  } catch (err) {
    if (err instanceof Error && err.name === 'CheckpointFormatError') throw err;
    throw formatError(where, `is not a readable zip archive (${(err as Error).message})`);
  }
  return new Map(Object.entries(files));
}
