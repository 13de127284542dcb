import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ChunkedSource, type RowChunk } from '../../../../src/core/store/chunkedSource';
import { encodeNpyHeader, readNpyMatrixInfo } from '../../../../src/core/npy';
import { openNpySource } from '../../../../src/core/store/sources';

const dir = mkdtempSync(join(tmpdir(), 'fl-sources-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Row r holds [r, r + 0.5]: each row is identifiable. */
function writeNpy(name: string, rows: number, cols = 2): string {
  const data = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) data[r * cols + c] = r + c * 0.5;
  const path = join(dir, name);
  writeFileSync(path, Buffer.concat([encodeNpyHeader([rows, cols]), Buffer.from(data.buffer)]));
  return path;
}

function firstColumn(m: { data: Float32Array; cols: number; rows: number }): number[] {
  return Array.from({ length: m.rows }, (_, r) => m.data[r * m.cols]);
}

test('npy header round-trips and is 64-byte aligned', () => {
  const path = writeNpy('a.npy', 10, 3);
  const info = readNpyMatrixInfo(path);
  assert.deepEqual([info.rows, info.cols], [10, 3]);
  assert.equal(info.dataOffset % 64, 0);
});

test('an npy whose header promises more data than the file holds is refused', () => {
  const path = join(dir, 'short.npy');
  writeFileSync(path, Buffer.concat([encodeNpyHeader([100, 4]), Buffer.alloc(16)]));
  assert.throws(() => readNpyMatrixInfo(path), /promises 100×4/);
  const f64 = join(dir, 'f64.npy');
  const header = Buffer.from(encodeNpyHeader([2, 2])).toString('latin1').replace('<f4', '<f8');
  writeFileSync(f64, Buffer.concat([Buffer.from(header, 'latin1'), Buffer.alloc(32)]));
  assert.throws(() => readNpyMatrixInfo(f64), /float32/);
});

test('the streaming header reader is the strict one: extra dict content and a truncated header are refused', () => {
  const odd = join(dir, 'odd.npy');
  const header = Buffer.from(encodeNpyHeader([2, 2])).toString('latin1').replace("'shape': (2, 2), }", "'shape': (2, 2), 'x': 1}");
  writeFileSync(odd, Buffer.concat([Buffer.from(header, 'latin1'), Buffer.alloc(16)]));
  assert.throws(() => readNpyMatrixInfo(odd), /unexpected header content/);
  const cut = join(dir, 'cut.npy');
  writeFileSync(cut, encodeNpyHeader([2, 2]).subarray(0, 40));
  assert.throws(() => readNpyMatrixInfo(cut), /truncated/);
});

test('one epoch visits every row exactly once, shuffled across chunks', () => {
  const path = writeNpy('b.npy', 1000);
  const src = openNpySource(path, { chunkBytes: 8 * 100, groupChunks: 3, seed: 7 });
  const epoch = firstColumn(src.nextBatch(1000));
  assert.deepEqual([...epoch].sort((a, b) => a - b), Array.from({ length: 1000 }, (_, i) => i));
  assert.notDeepEqual(epoch, Array.from({ length: 1000 }, (_, i) => i));
  // The first batch mixes rows from several 100-row chunks.
  const chunksInFirst = new Set(epoch.slice(0, 64).map((r) => Math.floor(r / 100)));
  assert.ok(chunksInFirst.size >= 2, `first batch came from chunks ${[...chunksInFirst]}`);
  assert.equal(src.nextBatch(1).rows, 1, 'the source loops into the next epoch');
  src.close();
});

test('the same seed gives the same stream; another seed another order', () => {
  const path = writeNpy('c.npy', 500);
  const a = openNpySource(path, { chunkBytes: 8 * 64, seed: 1 });
  const b = openNpySource(path, { chunkBytes: 8 * 64, seed: 1 });
  const c = openNpySource(path, { chunkBytes: 8 * 64, seed: 2 });
  const ra = firstColumn(a.nextBatch(700));
  assert.deepEqual(ra, firstColumn(b.nextBatch(700)));
  assert.notDeepEqual(ra, firstColumn(c.nextBatch(700)));
  [a, b, c].forEach((s) => s.close());
});

test('resuming from getState continues bit-exactly, across group and epoch boundaries', () => {
  const path = writeNpy('d.npy', 300, 5);
  const opts = { chunkBytes: 20 * 40, groupChunks: 2, seed: 11 };
  const straight = openNpySource(path, opts);
  const full = straight.nextBatch(1000).data;
  for (const cut of [1, 79, 160, 299, 300, 301, 777]) {
    const first = openNpySource(path, opts);
    const head = first.nextBatch(cut).data;
    const state = JSON.parse(JSON.stringify(first.getState()));
    first.close();
    const resumed = openNpySource(path, opts);
    resumed.setState(state);
    const tail = resumed.nextBatch(1000 - cut).data;
    resumed.close();
    const joined = new Float32Array(1000 * 5);
    joined.set(head);
    joined.set(tail, head.length);
    assert.deepEqual(joined, full, `resume after ${cut} rows differs`);
  }
  straight.close();
});

test('a state that does not fit the data is refused', () => {
  const path = writeNpy('e.npy', 50);
  const src = openNpySource(path, { chunkBytes: 8 * 10 });
  assert.throws(() => src.setState({ epoch: 0, group: 99, offset: 0 }), /invalid activation source state/);
  assert.throws(() => src.setState({ epoch: -1, group: 0, offset: 0 }), /invalid/);
  src.close();
});

test('a truncated shard is reported, not read as zeros', () => {
  const path = join(dir, 'trunc.f32');
  writeFileSync(path, Buffer.alloc(8 * 10));
  const chunks: RowChunk[] = [{ file: path, byteOffset: 0, rows: 20 }];
  const src = new ChunkedSource(chunks, 2);
  assert.throws(() => src.nextBatch(5), /shorter than its manifest/);
  src.close();
});
