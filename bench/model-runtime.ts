// Benchmark of the model runtime on the bundled model: activation harvesting throughput at batch 1 and 32,
// and the latency of one 256-token forward with every hook site exposed. Each number is printed next to a
// reference measured in the same run: the unedited model's plain forward (logits only) on the same input.
// Run: npx tsx bench/model-runtime.ts [--model <dir>] [--threads N] [--reps N]
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadModel } from '../src/core/runtime';
import { buildFeeds, OrtSession } from '../src/core/runtime/session';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

async function median(reps: number, fn: () => Promise<unknown>): Promise<number> {
  await fn(); // warm-up
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

async function main(): Promise<void> {
  const modelDir = arg('model', join(__dirname, '..', 'models', 'tiny-lm'));
  const threads = Number(arg('threads', '2'));
  const reps = Number(arg('reps', '5'));
  const lm = await loadModel(modelDir, { intraOpThreads: threads });
  const T = Math.min(256, lm.info.contextLength);
  const seq = (k: number) => Int32Array.from({ length: T }, (_, i) => (i * 31 + k * 7 + 1) % lm.info.vocabSize);
  const plain = await OrtSession.create(readFileSync(lm.info.onnxFile), lm.info.onnxFile, { intraOpThreads: threads, graphOptimization: 'all' });
  const plainForward = async (batch: Int32Array[]) => {
    const { feeds } = buildFeeds(plain, batch, 0);
    await plain.run(feeds, ['logits']);
  };
  const allSites = lm.sites().map((s) => s.name);
  const site = allSites.find((s) => s.endsWith('hook_resid_post') && s.startsWith(`blocks.${Math.floor(lm.info.layers / 2)}.`)) ?? allSites[0];

  const lines: string[] = [];
  const out = (s: string) => {
    lines.push(s);
    process.stdout.write(s + '\n');
  };
  out(`model ${lm.info.name} (${lm.info.layers} layers, d ${lm.info.dModel}), ${T}-token sequences, ${threads} intra-op threads, median of ${reps}`);

  // 1. Latency of one T-token forward with all sites exposed and fetched.
  const one = [seq(0)];
  const refLatency = await median(reps, () => plainForward(one));
  const hookedLatency = await median(reps, () => lm.activations(one, allSites));
  out(`forward ${T} tokens, plain model (reference):          ${refLatency.toFixed(1)} ms`);
  out(`forward ${T} tokens, all ${allSites.length} sites exposed and fetched: ${hookedLatency.toFixed(1)} ms  (×${(hookedLatency / refLatency).toFixed(2)} the reference)`);

  // 2. Harvest throughput at one site, batch 1 and 32.
  for (const B of [1, 32]) {
    const batch = Array.from({ length: B }, (_, k) => seq(k));
    const r = B === 1 ? reps : Math.max(2, Math.ceil(reps / 2));
    const ref = await median(r, () => plainForward(batch));
    const harvest = await median(r, () => lm.activations(batch, [site]));
    const tps = (B * T) / (harvest / 1000);
    const refTps = (B * T) / (ref / 1000);
    out(`harvest ${site} at batch ${String(B).padStart(2)}: ${tps.toFixed(0)} tokens/s  (reference plain forward ${refTps.toFixed(0)} tokens/s; ratio ${(tps / refTps).toFixed(2)})`);
  }

  // 3. Splice overhead (prefix + suffix sessions) for the same single sequence.
  const acts = (await lm.activations(one, [site])).get(site)![0];
  const spliceLatency = await median(reps, () => lm.runWithSplice(one[0], site, acts));
  out(`splice at ${site}, ${T} tokens: ${spliceLatency.toFixed(1)} ms  (×${(spliceLatency / refLatency).toFixed(2)} the reference)`);

  await plain.release();
  await lm.dispose();
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});
