import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { listCorpus, splitDocuments } from '../../../../src/core/store/corpus';

const root = mkdtempSync(join(tmpdir(), 'fl-corpus-'));
after(() => rmSync(root, { recursive: true, force: true }));

test('listCorpus walks folders, skips binaries, oversized files and tooling folders', () => {
  mkdirSync(join(root, 'sub/deeper'), { recursive: true });
  mkdirSync(join(root, 'node_modules/pkg'), { recursive: true });
  writeFileSync(join(root, 'b.txt'), 'hello world\n');
  writeFileSync(join(root, 'sub/deeper/a.ts'), 'const x = 1;\n');
  writeFileSync(join(root, 'image.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0x01, 0x02]));
  writeFileSync(join(root, 'latin1.bin'), Buffer.from([0x41, 0xe9, 0x41, 0x41]));
  writeFileSync(join(root, 'big.txt'), 'x'.repeat(5000));
  writeFileSync(join(root, 'node_modules/pkg/index.js'), 'module.exports = 1;\n');
  writeFileSync(join(root, 'empty.txt'), '');
  const listing = listCorpus(root, { maxFileBytes: 1000 });
  assert.deepEqual(
    listing.files.map((f) => f.path),
    ['b.txt', 'sub/deeper/a.ts'],
  );
  assert.deepEqual(listing.skipped, { tooLarge: 1, binary: 2 });
  assert.equal(listing.files[0].size, 12);
});

test('listCorpus refuses a missing folder with a clear error', () => {
  assert.throws(() => listCorpus(join(root, 'nope')), /corpus folder not found/);
});

test('splitDocuments splits on <|endoftext|> lines and drops empty documents', () => {
  assert.deepEqual(splitDocuments('one\n<|endoftext|>\ntwo\n<|endoftext|>\n\n<|endoftext|>\n'), ['one', 'two']);
  assert.deepEqual(splitDocuments('just text'), ['just text']);
  assert.deepEqual(splitDocuments('  \n'), []);
});
