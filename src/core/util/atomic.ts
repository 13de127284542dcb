// Crash- and full-disk-safe writes. A file is written to a temporary name in the same directory,
// fsynced, renamed over the target, and the directory fsynced. A folder (a checkpoint, an export) is written
// whole as a new sibling folder and swapped in, so the previous version survives any failure.

import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** Bytes of one file, possibly in chunks (large tensors are written from their own memory). */
export type FileContent = Uint8Array | readonly Uint8Array[];

export interface WritableFile {
  write(chunk: Uint8Array): Promise<void>;
  sync(): Promise<void>;
  close(): Promise<void>;
}

/** The file-system operations the atomic writers use; tests inject failures through it. */
export interface AtomicFs {
  create(path: string): Promise<WritableFile>;
  readFile(path: string): Promise<Uint8Array>;
  rename(from: string, to: string): Promise<void>;
  mkdir(path: string): Promise<void>;
  remove(path: string): Promise<void>;
  exists(path: string): Promise<boolean>;
  list(dir: string): Promise<string[]>;
  syncDir(path: string): Promise<void>;
}

export const nodeAtomicFs: AtomicFs = {
  async create(path) {
    const handle = await fsp.open(path, 'wx');
    return {
      async write(chunk) {
        let done = 0;
        while (done < chunk.byteLength) {
          const { bytesWritten } = await handle.write(chunk, done, Math.min(chunk.byteLength - done, 1 << 30));
          done += bytesWritten;
        }
      },
      sync: () => handle.sync(),
      close: () => handle.close(),
    };
  },
  readFile: async (path) => new Uint8Array(await fsp.readFile(path)),
  rename: (from, to) => fsp.rename(from, to),
  mkdir: async (path) => {
    await fsp.mkdir(path, { recursive: true });
  },
  remove: (path) => fsp.rm(path, { recursive: true, force: true }),
  exists: async (path) => {
    try {
      await fsp.lstat(path);
      return true;
    } catch {
      return false;
    }
  },
  list: (dir) => fsp.readdir(dir),
  async syncDir(path) {
    // Directory fsync makes the rename durable; some platforms (Windows) refuse it, harmlessly.
    let handle: fsp.FileHandle | undefined;
    try {
      handle = await fsp.open(path, 'r');
      await handle.sync();
    } catch {
      /* not supported here */
    } finally {
      await handle?.close();
    }
  },
};

function uniqueSuffix(): string {
  return `${process.pid}-${randomBytes(4).toString('hex')}`;
}

function chunksOf(content: FileContent): readonly Uint8Array[] {
  return content instanceof Uint8Array ? [content] : content;
}

async function writeAndSync(fs: AtomicFs, path: string, content: FileContent): Promise<void> {
  const file = await fs.create(path);
  try {
    for (const chunk of chunksOf(content)) await file.write(chunk);
    await file.sync();
  } finally {
    await file.close();
  }
}

/** Replaces `path` with `content` atomically: readers see the old file or the new one, never a mix. */
export async function writeFileAtomic(path: string, content: FileContent, fs: AtomicFs = nodeAtomicFs): Promise<void> {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.tmp-${uniqueSuffix()}`);
  try {
    await writeAndSync(fs, tmp, content);
    await fs.rename(tmp, path);
  } catch (err) {
    await fs.remove(tmp).catch(() => {});
    throw err;
  }
  await fs.syncDir(dir);
}

export interface FolderWriteOptions {
  /** Files of the previous folder carried over when the new set does not replace them (user data). */
  readonly keep?: readonly string[];
  readonly fs?: AtomicFs;
}

/**
 * Writes a whole folder (flat: file name → content) and swaps it in for `dir`. Any failure before the
 * swap leaves `dir` untouched; a crash between the two renames of the swap leaves the previous folder
 * under a `.<name>.old-*` sibling, which `recoverFolder` puts back.
 */
export async function writeFolderAtomic(
  dir: string,
  files: ReadonlyMap<string, FileContent>,
  options: FolderWriteOptions = {},
): Promise<void> {
  const fs = options.fs ?? nodeAtomicFs;
  for (const name of files.keys()) {
    if (name === '' || name.includes('/') || name.includes('\\') || name === '.' || name === '..') {
      throw new Error(`writeFolderAtomic: "${name}" is not a plain file name`);
    }
  }
  const parent = dirname(dir);
  const base = basename(dir);
  await fs.mkdir(parent);
  await recoverFolder(dir, fs);
  const tmp = join(parent, `.${base}.tmp-${uniqueSuffix()}`);
  const hadPrevious = await fs.exists(dir);
  try {
    await fs.mkdir(tmp);
    for (const [name, content] of files) await writeAndSync(fs, join(tmp, name), content);
    if (hadPrevious) {
      for (const name of options.keep ?? []) {
        if (files.has(name) || !(await fs.exists(join(dir, name)))) continue;
        await writeAndSync(fs, join(tmp, name), await fs.readFile(join(dir, name)));
      }
    }
    await fs.syncDir(tmp);
  } catch (err) {
    await fs.remove(tmp).catch(() => {});
    throw err;
  }
  const old = join(parent, `.${base}.old-${uniqueSuffix()}`);
  if (hadPrevious) {
    try {
      await fs.rename(dir, old);
    } catch (err) {
      await fs.remove(tmp).catch(() => {});
      throw err;
    }
  }
  try {
    await fs.rename(tmp, dir);
  } catch (err) {
    if (hadPrevious) await fs.rename(old, dir).catch(() => {});
    await fs.remove(tmp).catch(() => {});
    throw err;
  }
  await fs.syncDir(parent);
  if (hadPrevious) await fs.remove(old).catch(() => {});
}

/**
 * If `dir` is missing but a previous version was moved aside by an interrupted swap, moves it back.
 * Returns true when it restored something.
 */
export async function recoverFolder(dir: string, fs: AtomicFs = nodeAtomicFs): Promise<boolean> {
  if (await fs.exists(dir)) return false;
  const parent = dirname(dir);
  if (!(await fs.exists(parent))) return false;
  const prefix = `.${basename(dir)}.old-`;
  const candidates = (await fs.list(parent)).filter((n) => n.startsWith(prefix));
  if (candidates.length === 0) return false;
  await fs.rename(join(parent, candidates.sort()[candidates.length - 1]), dir);
  await fs.syncDir(parent);
  return true;
}
