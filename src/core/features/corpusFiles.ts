// The text a feature index is built from: a folder (read recursively) or one file. Bad input is reported,
// never fatal one file at a time: binary files and undecodable text are skipped with a note, very long lines
// are cut into pieces the tokenizer handles, and a corpus with no usable text is a clear error.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

export interface CorpusDocument {
  /** File path relative to the corpus root (the file name for a one-file corpus). */
  readonly source: string;
  readonly text: string;
}

export interface CorpusRead {
  readonly documents: CorpusDocument[];
  /** Files left out and why (binary, not UTF-8, too large). */
  readonly skipped: { source: string; reason: string }[];
  /** SHA-256 over the documents' sources and texts: the index is stale when this changes. */
  readonly fingerprint: string;
  readonly chars: number;
}

export class EmptyCorpusError extends Error {
  constructor(path: string, skipped: number) {
    super(`the corpus ${path} holds no usable text${skipped ? ` (${skipped} file(s) skipped as binary or undecodable)` : ''}`);
    this.name = 'EmptyCorpusError';
  }
}

const TEXT_EXTENSIONS = /\.(txt|md|markdown|rst|ts|tsx|js|jsx|mjs|cjs|py|java|c|h|cc|cpp|hpp|cs|go|rs|rb|php|json|yaml|yml|toml|html|css|sh|tex)$/i;
const SKIPPED_DIRS = new Set(['node_modules', '.git', 'dist', 'out', '.vscode-test']);
/** Longest piece of text handed to the tokenizer at once; longer runs without blank lines are cut. */
export const MAX_DOCUMENT_CHARS = 4000;

function listFiles(root: string): string[] {
  if (!statSync(root).isDirectory()) return [root];
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      if (name.startsWith('.') || SKIPPED_DIRS.has(name)) continue;
      const path = join(dir, name);
      const st = statSync(path);
      if (st.isDirectory()) walk(path);
      else if (st.isFile() && TEXT_EXTENSIONS.test(name)) out.push(path);
    }
  };
  walk(root);
  return out;
}

/** Why bytes are not text, or undefined when they decode as UTF-8 without NUL bytes. */
export function notTextReason(bytes: Uint8Array): string | undefined {
  if (bytes.subarray(0, 8192).includes(0)) return 'binary (NUL bytes)';
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return 'not UTF-8 text';
  }
  return undefined;
}

/** Cuts text at blank lines and `<|endoftext|>`, then cuts long pieces at a whitespace near maxChars. */
export function splitDocuments(text: string, maxChars = MAX_DOCUMENT_CHARS): string[] {
  const out: string[] = [];
  for (const part of text.split(/\n\s*\n|<\|endoftext\|>/)) {
    let rest = part.trim();
    while (rest.length > maxChars) {
      let cut = rest.lastIndexOf(' ', maxChars);
      if (cut < maxChars / 2) cut = maxChars;
      out.push(rest.slice(0, cut));
      rest = rest.slice(cut).trimStart();
    }
    if (rest.length > 0) out.push(rest);
  }
  return out.filter((t) => t.length >= 8);
}

/** Reads up to maxChars of documents, round-robin over files so a small budget still samples each one. */
export function readCorpusFiles(path: string, maxChars = 2_000_000): CorpusRead {
  const skipped: CorpusRead['skipped'] = [];
  const root = statSync(path).isDirectory() ? path : join(path, '..');
  const perFile: CorpusDocument[][] = [];
  for (const file of listFiles(path)) {
    const source = relative(root, file) || file;
    const size = statSync(file).size;
    if (size > 64 * maxChars) {
      skipped.push({ source, reason: `too large (${size} bytes)` });
      continue;
    }
    const bytes = readFileSync(file);
    const why = notTextReason(bytes);
    if (why) {
      skipped.push({ source, reason: why });
      continue;
    }
    const docs = splitDocuments(bytes.toString('utf8')).map((text) => ({ source, text }));
    if (docs.length > 0) perFile.push(docs);
  }
  const documents: CorpusDocument[] = [];
  let chars = 0;
  for (let i = 0; chars < maxChars && perFile.some((p) => i < p.length); i++) {
    for (const p of perFile) {
      if (i < p.length && chars < maxChars) {
        documents.push(p[i]);
        chars += p[i].text.length;
      }
    }
  }
  if (documents.length === 0) throw new EmptyCorpusError(path, skipped.length);
  const hash = createHash('sha256');
  for (const d of documents) hash.update(d.source).update('\0').update(d.text).update('\0');
  return { documents, skipped, fingerprint: hash.digest('hex').slice(0, 32), chars };
}
