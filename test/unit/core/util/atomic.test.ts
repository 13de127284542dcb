import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { recoverFolder, writeFileAtomic, writeFolderAtomic } from '../../../../src/core/util/atomic';
import { failingOpFs, fullDiskFs } from '../fixtures/failing-fs';

const enc = (s: string) => new TextEncoder().encode(s);
const scratch = () => mkdtempSync(join(tmpdir(), 'fl-atomic-'));

test('writeFileAtomic replaces the file and leaves no temporary behind', async () => {
  const dir = scratch();
  const path = join(dir, 'a.json');
  writeFileSync(path, 'old');
  await writeFileAtomic(path, [enc('ne'), enc('w')]);
  assert.equal(readFileSync(path, 'utf8'), 'new');
  assert.deepEqual(readdirSync(dir), ['a.json']);
});

test('a full disk during writeFileAtomic keeps the old file and cleans up', async () => {
  const dir = scratch();
  const path = join(dir, 'a.json');
  writeFileSync(path, 'old contents');
  await assert.rejects(writeFileAtomic(path, enc('x'.repeat(1000)), fullDiskFs(100)), /ENOSPC/);
  assert.equal(readFileSync(path, 'utf8'), 'old contents');
  assert.deepEqual(readdirSync(dir), ['a.json']);
});

test('writeFolderAtomic swaps a whole folder and carries over kept user files', async () => {
  const parent = scratch();
  const dir = join(parent, 'ckpt');
  await writeFolderAtomic(dir, new Map([['a', enc('1')], ['b', enc('2')]]));
  writeFileSync(join(dir, 'feature_labels.json'), '{"labels":1}');
  await writeFolderAtomic(dir, new Map([['a', enc('3')]]), { keep: ['feature_labels.json'] });
  assert.deepEqual(readdirSync(dir).sort(), ['a', 'feature_labels.json']);
  assert.equal(readFileSync(join(dir, 'a'), 'utf8'), '3');
  assert.equal(readFileSync(join(dir, 'feature_labels.json'), 'utf8'), '{"labels":1}');
  assert.deepEqual(readdirSync(parent), ['ckpt'], 'no temporary or old folders left');
});

test('a failure at any step before the swap leaves the previous folder as it was', async () => {
  for (const [label, fs] of [
    ['full disk in the second file', fullDiskFs(5)],
    ['full disk in the first file', fullDiskFs(0)],
    ['first rename fails', failingOpFs('rename', 1)],
    ['second rename fails', failingOpFs('rename', 2)],
  ] as const) {
    const parent = scratch();
    const dir = join(parent, 'ckpt');
    mkdirSync(dir);
    writeFileSync(join(dir, 'a'), 'previous-a');
    writeFileSync(join(dir, 'b'), 'previous-b');
    await assert.rejects(
      writeFolderAtomic(dir, new Map([['a', enc('new-a')], ['b', enc('new-b-longer')]]), { fs }),
      /ENOSPC|EIO/,
      label,
    );
    assert.equal(readFileSync(join(dir, 'a'), 'utf8'), 'previous-a', label);
    assert.equal(readFileSync(join(dir, 'b'), 'utf8'), 'previous-b', label);
    assert.deepEqual(readdirSync(parent), ['ckpt'], `${label}: nothing left behind`);
  }
});

test('recoverFolder restores a folder moved aside by a swap interrupted between its renames', async () => {
  const parent = scratch();
  const dir = join(parent, 'ckpt');
  mkdirSync(dir);
  writeFileSync(join(dir, 'a'), 'kept');
  renameSync(dir, join(parent, '.ckpt.old-123-abcd'));
  assert.equal(existsSync(dir), false);
  assert.equal(await recoverFolder(dir), true);
  assert.equal(readFileSync(join(dir, 'a'), 'utf8'), 'kept');
  assert.equal(await recoverFolder(dir), false);
});

test('refuses file names that would escape the folder', async () => {
  await assert.rejects(writeFolderAtomic(join(scratch(), 'x'), new Map([['../evil', enc('')]])), /not a plain file name/);
});
