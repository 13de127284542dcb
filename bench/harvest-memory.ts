// Memory of the activation store at scale, without the cost of a real model: a fake model with the
// requested width writes N tokens × d float32 through harvest → shards → shuffled reading, and the peak
// RSS is printed for each phase. Usage: npx tsx bench/harvest-memory.ts [tokens=2000000] [dim=512]
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listCorpus } from '../src/core/store/corpus';
import { harvestActivations } from '../src/core/store/harvest';
import { openStoreSource } from '../src/core/store/sources';
import type { ActivationModel } from '../src/core/store/types';
import { matrix } from '../src/core/tensor';

async function main(): Promise<void> {
  const tokens = Number(process.argv[2] ?? 2_000_000);
  const dim = Number(process.argv[3] ?? 512);
  const T = 256;
  const work = mkdtempSync(join(tmpdir(), 'fl-harvest-mem-'));
  const mb = (b: number) => Math.round(b / 2 ** 20);
  try {
    // ~1 byte per token with the character tokenizer below: 200 files of equal size.
    const corpusDir = join(work, 'corpus');
    mkdirSync(corpusDir);
    const words = 'the quick brown fox jumps over a lazy dog while code compiles '.repeat(1000);
    const perFile = Math.ceil((tokens * 1.05) / 200);
    for (let f = 0; f < 200; f++) writeFileSync(join(corpusDir, `f${f}.txt`), words.repeat(Math.ceil(perFile / words.length)).slice(0, perFile));
    let seed = 1;
    const model: ActivationModel = {
      id: 'fake',
      contextLength: T,
      siteDim: () => dim,
      tokenize: (text) => Int32Array.from(text, (c) => c.charCodeAt(0)),
      async activations(_ids, batch) {
        const m = matrix(batch * T, dim);
        for (let i = 0; i < m.data.length; i++) {
          seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
          m.data[i] = seed / 2 ** 32 - 0.5;
        }
        return m;
      },
    };
    const base = process.memoryUsage().rss;
    const t0 = Date.now();
    const cache = await harvestActivations({ model, site: 's', corpus: listCorpus(corpusDir, { maxFileBytes: 2 ** 30 }), tokens, cacheDir: join(work, 'cache') });
    const harvestPeak = process.resourceUsage().maxRSS * 1024;
    const harvestSeconds = (Date.now() - t0) / 1000;
    const src = openStoreSource(cache.dir, cache.manifest, { seed: 1 });
    const t1 = Date.now();
    let rows = 0;
    while (rows < cache.manifest.rows) rows += src.nextBatch(4096).rows;
    src.close();
    const readSeconds = (Date.now() - t1) / 1000;
    const gb = (cache.manifest.rows * dim * 4) / 2 ** 30;
    process.stdout.write(
      JSON.stringify(
        {
          tokens: cache.manifest.rows,
          dim,
          shards: cache.manifest.shards.length,
          dataGiB: Number(gb.toFixed(2)),
          rssAtStartMB: mb(base),
          peakRssMB: mb(process.resourceUsage().maxRSS * 1024),
          peakRssAfterHarvestMB: mb(harvestPeak),
          harvestSeconds,
          shuffledReadSeconds: readSeconds,
          readGiBPerSecond: Number((gb / readSeconds).toFixed(2)),
        },
        null,
        2,
      ) + '\n',
    );
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

void main();
