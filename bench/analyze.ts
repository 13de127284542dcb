// End-to-end latency of "Analyze Selection" from request to panel data: the host's request through the real
// worker (dist/worker.js: tokenize, activations at the site, SAE encode, decomposition) and back, for 16,
// 256 and 1024 tokens on the bundled model and SAE. Reported as p50/p95 and as ratios against a reference
// measured in the same run: one bare forward pass (logits) of the same tokens, in-process.
//   npm run build && npx tsx bench/analyze.ts [--sae <dir>] [--runs 30] [--threads 2] [--dsae 2048] [--worker dist/worker.js]
// --threads: ONNX Runtime intra-op threads for both the worker and the reference (the featureLens.intraOpThreads
// setting). Without a bundled SAE, the test SAE (random directions, calibrated thresholds) is generated.
import { Worker } from 'node:worker_threads';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { findBundledSae } from '../src/core/analysis/session';
import { loadModel } from '../src/core/runtime/model';
import { RpcPeer } from '../src/protocol/rpc';
import type { WorkerRequest, WorkerResults } from '../src/protocol/worker';
import { makeTestSae } from '../test/unit/core/analysis/testSae';

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

const root = resolve(__dirname, '..');
const runs = Number(flag('runs', '30'));
const threads = Number(flag('threads', '2'));
const dSae = Number(flag('dsae', '2048'));
const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))];

async function main(): Promise<void> {
  const modelDir = join(root, 'models', 'tiny-lm');
  const saePath = flag('sae', '') || findBundledSae(root) || (await makeTestSae(join(tmpdir(), `feature-lens-bench-sae-${dSae}`), modelDir, { dSae }));
  const lm = await loadModel(modelDir, { intraOpThreads: threads });
  const corpus = 'The quick brown fox jumps over the lazy dog. function add(a: number, b: number) { return a + b; }\n'.repeat(200);
  const allIds = lm.tokenizer!.encode(corpus);

  // --worker: another build of the worker (e.g. a copy of an older dist/) for a before/after comparison.
  const worker = new Worker(resolve(flag('worker', join(root, 'dist', 'worker.js'))), { workerData: { root, intraOpThreads: threads } });
  const peer = new RpcPeer<WorkerRequest, WorkerResults>((m) => worker.postMessage(m));
  worker.on('message', (m: unknown) => peer.receive(m));
  const info = await peer.request({ kind: 'load', saePath });
  if (!info.sae) throw new Error(`no SAE is active: ${info.saeProblem}`);
  console.log(`model ${info.model.name} · site ${info.site} · SAE ${info.sae.name} (d_sae ${info.sae.dSae}) · ${threads} ORT thread(s) · ${runs} runs each`);
  console.log('tokens  analyze p50   p95    forward p50   p95    ratio p50  ratio p95');

  for (const n of [16, 256, 1024]) {
    const end = allIds.offsets[2 * n - 1];
    const text = corpus.slice(0, end);
    const ids = allIds.ids.subarray(0, n);
    const ctx = lm.info.contextLength;
    // Reference: the bare model over the same tokens, in windows of the context length.
    const forward = async () => {
      for (let s = 0; s < n; s += ctx) await lm.logits([ids.subarray(s, Math.min(n, s + ctx))]);
    };
    const e2e = async () => {
      const r = await peer.request({ kind: 'analyze', text, topK: 8, maxTokens: 4096 });
      if (r.tokens.length !== n) throw new Error(`expected ${n} tokens, got ${r.tokens.length}`);
    };
    for (let i = 0; i < 3; i++) {
      await forward();
      await e2e();
    }
    const tf: number[] = [];
    const ta: number[] = [];
    // Interleaved, so machine-load drift hits both alike.
    for (let i = 0; i < runs; i++) {
      let t = performance.now();
      await forward();
      tf.push(performance.now() - t);
      t = performance.now();
      await e2e();
      ta.push(performance.now() - t);
    }
    const [a50, a95, f50, f95] = [quantile(ta, 0.5), quantile(ta, 0.95), quantile(tf, 0.5), quantile(tf, 0.95)];
    console.log(
      `${String(n).padStart(6)}  ${a50.toFixed(1).padStart(8)} ${a95.toFixed(1).padStart(6)} ms  ${f50.toFixed(1).padStart(8)} ${f95.toFixed(1).padStart(6)} ms  ${(a50 / f50).toFixed(2).padStart(8)}× ${(a95 / f95).toFixed(2).padStart(8)}×`,
    );
  }
  await worker.terminate();
  await lm.dispose();
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
