import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { listCorpus } from '../../../../src/core/store/corpus';
import { harvestActivations } from '../../../../src/core/store/harvest';
import { openStoreSource } from '../../../../src/core/store/sources';
import { fakeModel } from './fakeModel';

const SITE = 'blocks.0.hook_resid_post';
const base = mkdtempSync(join(tmpdir(), 'fl-harvest-'));
after(() => rmSync(base, { recursive: true, force: true }));

function makeCorpus(name: string): string {
  const dir = join(base, name);
  // Each document uses its own letter, so a row's token tells which document it came from.
  const docs = 'abcdefghij'.split('').map((c) => c.repeat(40));
  writeFileSync(join(base, `${name}.keep`), '');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir);
  writeFileSync(join(dir, 'one.txt'), docs.slice(0, 5).join('\n<|endoftext|>\n'));
  writeFileSync(join(dir, 'two.txt'), docs.slice(5).join('\n<|endoftext|>\n'));
  return dir;
}

test('harvest writes the requested rows in shards, never position 0, with documents mixed', async () => {
  const corpus = makeCorpus('c1');
  const model = fakeModel(8, 4);
  const cacheDir = join(base, 'cache1');
  const cache = await harvestActivations({ model, site: SITE, corpus: listCorpus(corpus), tokens: 300, cacheDir, shardBytes: 4 * 4 * 50 });
  assert.equal(cache.reused, false);
  assert.equal(cache.manifest.rows, 300);
  assert.equal(cache.manifest.shards.length, 6);
  assert.equal(cache.manifest.dim, 4);
  const src = openStoreSource(cache.dir, cache.manifest, { shuffle: false });
  const all = src.nextBatch(300);
  src.close();
  const positions = new Set<number>();
  const letters: string[] = [];
  for (let r = 0; r < 300; r++) {
    positions.add(all.data[r * 4 + 1]);
    const id = all.data[r * 4];
    if (id !== 0) letters.push(String.fromCharCode(id));
  }
  assert.ok(!positions.has(0), 'position 0 of a window must be excluded');
  assert.deepEqual([...positions].sort(), [1, 2, 3, 4, 5, 6, 7]);
  // Windows were shuffled: the first 20 windows (140 rows) come from several documents, not one or two.
  const early = new Set(letters.slice(0, 140));
  assert.ok(early.size >= 4, `early rows come from only ${[...early].join('')}`);
  // Nothing but the published folder is left behind.
  assert.deepEqual(readdirSync(cacheDir), [cache.manifest.key]);
});

test('harvest reuses a matching store and redoes it when the corpus changes', async () => {
  const corpus = makeCorpus('c2');
  const model = fakeModel(8, 4);
  const cacheDir = join(base, 'cache2');
  const first = await harvestActivations({ model, site: SITE, corpus: listCorpus(corpus), tokens: 100, cacheDir });
  const callsAfterFirst = model.calls;
  const again = await harvestActivations({ model, site: SITE, corpus: listCorpus(corpus), tokens: 50, cacheDir });
  assert.equal(again.reused, true);
  assert.equal(model.calls, callsAfterFirst);
  assert.equal(again.dir, first.dir);

  const later = new Date(Date.now() + 5000);
  utimesSync(join(corpus, 'one.txt'), later, later);
  const redone = await harvestActivations({ model, site: SITE, corpus: listCorpus(corpus), tokens: 50, cacheDir });
  assert.equal(redone.reused, false);
  assert.notEqual(redone.manifest.key, first.manifest.key);

  const otherModel = await harvestActivations({ model: fakeModel(8, 4, 'other'), site: SITE, corpus: listCorpus(corpus), tokens: 50, cacheDir });
  assert.notEqual(otherModel.manifest.key, redone.manifest.key);
});

test('asking for more rows than the corpus holds marks the store exhausted and reuses it', async () => {
  const corpus = makeCorpus('c3');
  const model = fakeModel(8, 4);
  const cacheDir = join(base, 'cache3');
  const cache = await harvestActivations({ model, site: SITE, corpus: listCorpus(corpus), tokens: 100000, cacheDir });
  assert.equal(cache.manifest.exhausted, true);
  // 10 docs × 40 tokens + 9 separators = 409 tokens → 51 windows × 7 rows.
  assert.equal(cache.manifest.rows, 51 * 7);
  const again = await harvestActivations({ model, site: SITE, corpus: listCorpus(corpus), tokens: 100000, cacheDir });
  assert.equal(again.reused, true);
});

test('a cancelled harvest leaves no store and no partial folder', async () => {
  const corpus = makeCorpus('c4');
  const model = fakeModel(8, 4);
  const cacheDir = join(base, 'cache4');
  const controller = new AbortController();
  const inner = model.activations.bind(model);
  model.activations = async (ids, batch, site) => {
    controller.abort();
    return inner(ids, batch, site);
  };
  await assert.rejects(
    harvestActivations({ model, site: SITE, corpus: listCorpus(corpus), tokens: 300, cacheDir, batchWindows: 2, signal: controller.signal }),
    /cancelled/,
  );
  assert.deepEqual(existsSync(cacheDir) ? readdirSync(cacheDir) : [], []);
});

test('a model returning the wrong width is a clear error', async () => {
  const corpus = makeCorpus('c5');
  const model = fakeModel(8, 4);
  model.siteDim = () => 5;
  await assert.rejects(
    harvestActivations({ model, site: SITE, corpus: listCorpus(corpus), tokens: 30, cacheDir: join(base, 'cache5') }),
    /expected \[\d+, 5\]/,
  );
});
