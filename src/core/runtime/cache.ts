// On-disk cache of edited models, keyed by a hash of the model file and the edit. A cache that cannot be
// written is not an error: the edited model is then used from memory.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function defaultCacheDir(): string {
  return join(tmpdir(), 'feature-lens-cache');
}

export function sha256(...parts: (Uint8Array | string)[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest('hex');
}

/** Edit format version: bump when the edits change so stale cache entries are not reused. */
const EDIT_VERSION = 'fl-edit-1';

export class ModelCache {
  constructor(
    readonly dir: string,
    private readonly modelHash: string,
  ) {}

  private fileFor(key: string): string {
    return join(this.dir, `${sha256(EDIT_VERSION, this.modelHash, key).slice(0, 32)}.onnx`);
  }

  /** The cached bytes for `key`, if any. */
  read(key: string): Uint8Array | undefined {
    try {
      return readFileSync(this.fileFor(key));
    } catch {
      return undefined;
    }
  }

  /** Drop a cache entry that turned out to be unusable. */
  forget(key: string): void {
    try {
      rmSync(this.fileFor(key), { force: true });
    } catch {
      // nothing to do
    }
  }

  /** The cached bytes for `key`, or `build()` (then stored). */
  get(key: string, build: () => Uint8Array): Uint8Array {
    const file = this.fileFor(key);
    const cached = this.read(key);
    if (cached) return cached;
    const bytes = build();
    try {
      mkdirSync(this.dir, { recursive: true });
      const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
      writeFileSync(tmp, bytes);
      renameSync(tmp, file);
    } catch {
      // read-only or full: use from memory
    }
    return bytes;
  }
}
