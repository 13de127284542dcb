// Which files make up a text corpus, and the documents inside them. A corpus is a folder scanned
// recursively; files too large or that look binary are skipped, so pointing it at a workspace is safe.
import { closeSync, openSync, readdirSync, readFileSync, readSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

export interface CorpusFile {
  /** Path relative to the corpus root, '/'-separated. */
  readonly path: string;
  readonly size: number;
  readonly mtimeMs: number;
}

export interface CorpusListing {
  readonly root: string;
  /** Sorted by path, so the listing (and the cache key made from it) does not depend on readdir order. */
  readonly files: readonly CorpusFile[];
  readonly skipped: { readonly tooLarge: number; readonly binary: number };
}

export interface CorpusOptions {
  /** Files larger than this are skipped (generated bundles, data dumps). */
  readonly maxFileBytes?: number;
  /** Stop listing once this many bytes of text were accepted. */
  readonly maxTotalBytes?: number;
}

export const DEFAULT_MAX_FILE_BYTES = 4 * 1024 * 1024;

/** Folders that hold tooling or build output rather than text a person wrote. */
const SKIPPED_DIRS = new Set(['.git', 'node_modules', '.hg', '.svn', 'dist', 'out', '.vscode-test', '.feature-lens-cache']);

/** Documents inside one file are separated by a line holding only this marker (as in GPT-2 corpora). */
export const DOCUMENT_SEPARATOR = '<|endoftext|>';

export function listCorpus(root: string, options: CorpusOptions = {}): CorpusListing {
  const maxFile = options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
  const maxTotal = options.maxTotalBytes ?? Number.POSITIVE_INFINITY;
  const rootStat = statSync(root, { throwIfNoEntry: false });
  if (!rootStat?.isDirectory()) throw new Error(`corpus folder not found: ${root}`);
  const candidates: { abs: string; size: number; mtimeMs: number }[] = [];
  const walk = (dir: string): void => {
    const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const abs = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (!SKIPPED_DIRS.has(entry.name)) walk(abs);
      } else if (entry.isFile()) {
        const st = statSync(abs);
        candidates.push({ abs, size: st.size, mtimeMs: Math.floor(st.mtimeMs) });
      }
    }
  };
  walk(root);
  const files: CorpusFile[] = [];
  let tooLarge = 0;
  let binary = 0;
  let total = 0;
  for (const c of candidates) {
    if (c.size === 0) continue;
    if (c.size > maxFile) {
      tooLarge++;
      continue;
    }
    if (looksBinary(c.abs)) {
      binary++;
      continue;
    }
    if (total >= maxTotal) break;
    total += c.size;
    files.push({ path: relative(root, c.abs).split(sep).join('/'), size: c.size, mtimeMs: c.mtimeMs });
  }
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { root, files, skipped: { tooLarge, binary } };
}

/** A NUL byte or invalid UTF-8 in the first 8 KB marks a file as binary. */
export function looksBinary(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(8192);
    const n = readSync(fd, head, 0, head.length, 0);
    const bytes = head.subarray(0, n);
    if (bytes.includes(0)) return true;
    return !isValidUtf8Prefix(bytes);
  } finally {
    closeSync(fd);
  }
}

function isValidUtf8Prefix(bytes: Uint8Array): boolean {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i];
    let extra: number;
    if (b < 0x80) extra = 0;
    else if (b >= 0xc2 && b <= 0xdf) extra = 1;
    else if (b >= 0xe0 && b <= 0xef) extra = 2;
    else if (b >= 0xf0 && b <= 0xf4) extra = 3;
    else return false;
    // A multi-byte character cut by the 8 KB window is not evidence of binary data.
    if (i + extra >= bytes.length) return true;
    for (let k = 1; k <= extra; k++) if ((bytes[i + k] & 0xc0) !== 0x80) return false;
    i += extra + 1;
  }
  return true;
}

/** The documents of one corpus file: split on separator lines, empty ones dropped. */
export function readDocuments(root: string, file: CorpusFile): string[] {
  const text = readFileSync(join(root, file.path), 'utf8');
  return splitDocuments(text);
}

export function splitDocuments(text: string): string[] {
  if (!text.includes(DOCUMENT_SEPARATOR)) return text.trim() ? [text] : [];
  return text
    .split(/\r?\n?<\|endoftext\|>\r?\n?/)
    .filter((d) => d.trim().length > 0);
}
