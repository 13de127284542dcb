import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmptyCorpusError, MAX_DOCUMENT_CHARS, readCorpusFiles, splitDocuments } from '../../../../src/core/features/corpusFiles';

const dir = () => mkdtempSync(join(tmpdir(), 'fl-corpus-'));

test('a corpus with no text is a clear error', () => {
  const d = dir();
  assert.throws(() => readCorpusFiles(d), EmptyCorpusError);
  writeFileSync(join(d, 'empty.txt'), '   \n\n  ');
  assert.throws(() => readCorpusFiles(d), /holds no usable text/);
});

test('binary and non-UTF-8 files are skipped with a reason; text in sub-folders is read', () => {
  const d = dir();
  writeFileSync(join(d, 'blob.txt'), Buffer.from([0x50, 0x4b, 0, 0, 1, 2, 3, 0, 0x41]));
  writeFileSync(join(d, 'latin1.txt'), Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x20, 0xff, 0xfe]));
  mkdirSync(join(d, 'sub'));
  writeFileSync(join(d, 'sub', 'notes.md'), 'Plain text that is long enough to be a document.');
  mkdirSync(join(d, 'node_modules'));
  writeFileSync(join(d, 'node_modules', 'x.txt'), 'Dependencies are not part of the corpus at all.');
  const read = readCorpusFiles(d);
  assert.deepEqual(read.documents.map((x) => x.source), [join('sub', 'notes.md')]);
  assert.deepEqual(read.skipped.map((s) => s.reason).sort(), ['binary (NUL bytes)', 'not UTF-8 text']);
});

test('one huge line is cut into documents the tokenizer handles, at spaces', () => {
  const line = Array.from({ length: 20_000 }, (_, i) => `w${i}`).join(' ');
  const docs = splitDocuments(line);
  assert.ok(docs.length > 10);
  for (const d of docs) assert.ok(d.length <= MAX_DOCUMENT_CHARS);
  assert.equal(docs.join(' '), line);
  const noSpaces = 'x'.repeat(3 * MAX_DOCUMENT_CHARS);
  assert.deepEqual(splitDocuments(noSpaces).map((d) => d.length), [MAX_DOCUMENT_CHARS, MAX_DOCUMENT_CHARS, MAX_DOCUMENT_CHARS]);
});

test('the fingerprint follows the text', () => {
  const d = dir();
  writeFileSync(join(d, 'a.txt'), 'First version of a document.\n\nSecond paragraph here.');
  const one = readCorpusFiles(d).fingerprint;
  assert.equal(readCorpusFiles(d).fingerprint, one);
  writeFileSync(join(d, 'a.txt'), 'First version of a document.\n\nSecond paragraph HERE.');
  assert.notEqual(readCorpusFiles(d).fingerprint, one);
});
