// Models whose weights are ONNX external data (model.onnx + model.onnx_data), built in the test.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, statSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { loadModel, ModelFileError } from '../../../../src/core/runtime';
import { toExternalData } from '../../../fixtures/externalData';
import { buildFamily, FAMILY_BASE, type FamilyModel } from '../../../fixtures/familyModel';
import { maxAbsDiff } from '../../../fixtures/reference';
import { tempDir, type TempDir } from '../../../fixtures/tempModel';

const IDS = Int32Array.from([5, 1, 44, 20, 7, 63, 12]);

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)]));
}

describe('external data', () => {
  let tmp: TempDir;
  let fixture: FamilyModel;
  let dataBytes: number;
  before(() => {
    tmp = tempDir();
    fixture = buildFamily({ ...FAMILY_BASE, norm: 'rms' });
    const { model, data } = toExternalData(fixture.bytes);
    dataBytes = data.length;
    for (const dir of ['ok', 'missing', 'truncated']) {
      tmp.write(`${dir}/model.onnx`, model);
      if (dir !== 'missing') tmp.write(`${dir}/model.onnx_data`, data);
    }
    truncateSync(tmp.path('truncated/model.onnx_data'), data.length - 100);
  });
  after(() => tmp.cleanup());

  test('loads, hooks and splices with the weights left in the data file', async () => {
    const cacheDir = tmp.path('cache');
    const lm = await loadModel(tmp.path('ok'), { cacheDir, intraOpThreads: 1 });
    try {
      assert.ok(statSync(tmp.path('ok/model.onnx')).size < dataBytes / 4, 'the .onnx holds the graph, not the weights');
      const ref = fixture.referenceForward(IDS);
      const names = lm.sites().map((s) => s.name);
      const acts = await lm.activations([IDS], names);
      for (const name of names) {
        const d = maxAbsDiff((acts.get(name) as { data: Float32Array }[])[0].data, ref.sites.get(name) as Float64Array);
        assert.ok(d < 1e-4, `${name}: ${d}`);
      }
      const site = 'blocks.1.hook_resid_mid';
      const [own] = (await lm.activations([IDS], [site])).get(site) as never[];
      const [plain] = await lm.logits([IDS]);
      assert.ok(maxAbsDiff((await lm.runWithSplice(IDS, site, own)).data, plain.data) < 1e-4);
      // Edited graphs (hooked, cut for the splice) refer to the same data: none of them copies the weights.
      const edited = filesUnder(cacheDir).filter((f) => f.endsWith('.onnx'));
      assert.ok(edited.length >= 2, edited.join(', '));
      for (const f of edited) assert.ok(statSync(f).size < dataBytes / 4, `${f} holds ${statSync(f).size} bytes`);
    } finally {
      await lm.dispose();
    }
  });

  test('a missing data file is named', async () => {
    await assert.rejects(
      loadModel(tmp.path('missing'), { cacheDir: tmp.path('cache'), intraOpThreads: 1 }),
      (e: Error) => e instanceof ModelFileError && e.message.startsWith(tmp.path('missing/model.onnx_data')) && /external data file is missing/.test(e.message),
    );
  });

  test('a truncated data file is named with the bytes it lacks', async () => {
    await assert.rejects(
      loadModel(tmp.path('truncated'), { cacheDir: tmp.path('cache'), intraOpThreads: 1 }),
      (e: Error) =>
        e instanceof ModelFileError && e.message.startsWith(tmp.path('truncated/model.onnx_data')) && new RegExp(`truncated: it holds ${dataBytes - 100} bytes`).test(e.message),
    );
  });

  test('a model too large for memory is refused with its size before loading', async () => {
    await assert.rejects(
      loadModel(tmp.path('ok'), { cacheDir: tmp.path('cache2'), intraOpThreads: 1, maxWeightBytes: 10_000 }),
      (e: Error) => e instanceof ModelFileError && /weights take \d+\.\d MiB, more than the 0\.0 MiB/.test(e.message) && /not loaded/.test(e.message),
    );
  });
});
