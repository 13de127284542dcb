// The store on the real bundled model: the adapter feeds windows through the runtime, and a stored
// row equals the runtime's own activation for that window and position.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, test } from 'node:test';
import { loadModel } from '../../../../src/core/runtime/model';
import { listCorpus } from '../../../../src/core/store/corpus';
import { collectWindows, harvestActivations } from '../../../../src/core/store/harvest';
import { activationModelOf } from '../../../../src/core/store/modelAdapter';
import { openStoreSource } from '../../../../src/core/store/sources';

const root = resolve(__dirname, '../../../..');
const cacheDir = mkdtempSync(join(tmpdir(), 'fl-bundled-'));
after(() => rmSync(cacheDir, { recursive: true, force: true }));

test('harvested rows from the bundled model match the runtime, position 0 excluded', async () => {
  const lm = await loadModel(join(root, 'models/tiny-lm'), { intraOpThreads: 1, cacheDir: join(cacheDir, 'ort') });
  try {
    const site = 'blocks.1.hook_resid_post';
    const model = activationModelOf(lm);
    const corpus = listCorpus(join(root, 'models/sample-corpus'));
    const T = model.contextLength;
    const cache = await harvestActivations({ model, site, corpus, tokens: 2 * (T - 1), cacheDir, seed: 9 });
    assert.equal(cache.manifest.dim, 128);
    assert.equal(cache.manifest.rows, 2 * (T - 1));
    const windows = await collectWindows({ corpus, tokenize: model.tokenize, contextLength: T, separatorId: model.separatorId, maxTokens: 2 * T, seed: 9 });
    const direct = (await lm.activations([windows.ids.subarray(T, 2 * T)], [site])).get(site)![0];
    const src = openStoreSource(cache.dir, cache.manifest, { shuffle: false });
    const stored = src.nextBatch(2 * (T - 1));
    src.close();
    // Second window, position 5 → stored row (T − 1) + 4.
    const want = direct.data.subarray(5 * 128, 6 * 128);
    const got = stored.data.subarray((T - 1 + 4) * 128, (T + 4) * 128);
    for (let j = 0; j < 128; j++) assert.ok(Math.abs(want[j] - got[j]) < 1e-4, `dim ${j}: ${want[j]} vs ${got[j]}`);
  } finally {
    await lm.dispose();
  }
});
