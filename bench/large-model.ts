// Memory of a large model: generates a GPT-2-style decoder of ≥ 500 M parameters with random weights as
// ONNX external data (model.onnx + model.onnx_data, ~2.4 GB), then in a fresh process loads it and takes
// the activations at every hook site of 128 tokens, and reports the peak resident memory as a ratio to the
// weights' size (1.0 would be the weights held exactly once and nothing else). The process's memory before
// loading (Node + ONNX Runtime) is printed for reference.
//   npx tsx bench/large-model.ts [--dir /tmp/feature-lens-large] [--layers 24 --d 1280] [--tokens 128]
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModel } from '../src/core/runtime/model';
import { parameterCount, writeRandomDecoder, type RandomDecoderSpec } from './randomDecoder';

function flag(name: string, fallback: string): string {
  const k = process.argv.indexOf(`--${name}`);
  return k > 0 && process.argv[k + 1] ? process.argv[k + 1] : fallback;
}

const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;

async function child(dir: string): Promise<void> {
  const before = process.memoryUsage().rss;
  const tokens = Number(flag('tokens', '128'));
  const lm = await loadModel(dir, { intraOpThreads: 2, cacheDir: join(dir, 'cache') });
  const ids = Int32Array.from({ length: tokens }, (_, k) => (k * 7919) % lm.info.vocabSize);
  const sites = lm.sites().map((s) => s.name);
  const t0 = performance.now();
  const acts = await lm.activations([ids], sites);
  const ms = performance.now() - t0;
  const peak = process.resourceUsage().maxRSS * 1024;
  await lm.dispose();
  console.log(JSON.stringify({ before, peak, sites: acts.size, forwardMs: ms }));
}

async function main(): Promise<void> {
  const dir = flag('dir', join(tmpdir(), 'feature-lens-large'));
  if (process.argv.includes('--child')) return child(dir);
  const spec: RandomDecoderSpec = { layers: Number(flag('layers', '24')), d: Number(flag('d', '1280')), heads: 20, vocab: 50257, ctx: 1024, external: true };
  const params = parameterCount(spec);
  if (!existsSync(join(dir, 'model.onnx_data')) || statSync(join(dir, 'model.onnx_data')).size < params * 4) {
    console.log(`writing ${(params / 1e6).toFixed(0)} M parameters to ${dir} …`);
    writeRandomDecoder(dir, spec);
  }
  const weights = statSync(join(dir, 'model.onnx_data')).size + statSync(join(dir, 'model.onnx')).size;
  const r = spawnSync(process.execPath, ['--import', 'tsx', __filename, '--child', '--dir', dir, '--tokens', flag('tokens', '128')], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`child failed: ${r.stderr}`);
  const m = JSON.parse(r.stdout.trim().split('\n').pop() as string) as { before: number; peak: number; sites: number; forwardMs: number };
  console.log(`model: ${(params / 1e6).toFixed(0)} M parameters, weights ${mib(weights)} (external data)`);
  console.log(`process before loading: ${mib(m.before)}; peak while loading and taking ${m.sites} sites: ${mib(m.peak)}`);
  console.log(`peak RSS / weight bytes = ${(m.peak / weights).toFixed(2)}   (peak − baseline) / weights = ${((m.peak - m.before) / weights).toFixed(2)}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
