// Greedy generation through the KV cache vs rerunning the context every step, on a merged decoder
// (decoder_model_merged.onnx layout: If on use_cache_branch) built by the test fixtures with random
// weights. Both runs must produce the same tokens; the ratio is measured in the same run, interleaved.
//   npx tsx bench/generate-cache.ts [--layers 4] [--d 256] [--prompt 128] [--tokens 64] [--reps 3] [--threads 2]
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModel } from '../src/core/runtime';
import { buildGpt2WithPast } from '../test/fixtures/gpt2Model';
import { mergeWithCacheBranch } from '../test/fixtures/mergedDecoder';

function flag(name: string, fallback: string): number {
  const k = process.argv.indexOf(`--${name}`);
  return Number(k > 0 && process.argv[k + 1] ? process.argv[k + 1] : fallback);
}

async function main(): Promise<void> {
  const layers = flag('layers', '4');
  const d = flag('d', '256');
  const promptLen = flag('prompt', '128');
  const tokens = flag('tokens', '64');
  const reps = flag('reps', '3');
  const threads = flag('threads', '2');
  const config = { vocab: 2048, d, heads: d / 32, layers, ctx: 512, seed: 5 };
  const dir = mkdtempSync(join(tmpdir(), 'feature-lens-bench-kv-'));
  try {
    const merged = mergeWithCacheBranch(buildGpt2WithPast(config).bytes, buildGpt2WithPast(config, { past: false }).bytes);
    writeFileSync(join(dir, 'decoder_model_merged.onnx'), merged);
    const lm = await loadModel(join(dir, 'decoder_model_merged.onnx'), { intraOpThreads: threads, cacheDir: join(dir, 'cache') });
    const prompt = Int32Array.from({ length: promptLen }, (_, i) => (i * 37 + 11) % config.vocab);
    console.log(`merged decoder: ${layers} layers, d ${d}, vocab ${config.vocab} · prompt ${promptLen} tokens · ${tokens} new tokens · ${threads} ORT thread(s) · ${reps} reps`);
    const want = await lm.generate(prompt, tokens, { cache: false });
    if ((await lm.generate(prompt, tokens)).join() !== want.join()) throw new Error('cached and uncached generation disagree');
    const cached: number[] = [];
    const uncached: number[] = [];
    for (let r = 0; r < reps; r++) {
      let t = performance.now();
      await lm.generate(prompt, tokens, { cache: false });
      uncached.push(performance.now() - t);
      t = performance.now();
      await lm.generate(prompt, tokens);
      cached.push(performance.now() - t);
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const [c, u] = [median(cached), median(uncached)];
    console.log(`same tokens: yes · uncached ${u.toFixed(0)} ms (${(u / tokens).toFixed(1)} ms/token) · cached ${c.toFixed(0)} ms (${(c / tokens).toFixed(1)} ms/token) · speed-up ${(u / c).toFixed(2)}×`);
    await lm.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
