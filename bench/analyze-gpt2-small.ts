// Analyze Selection at a realistic scale: a GPT-2-small-sized decoder (12 layers, d 768, vocabulary
// 50257) with random weights written by bench/randomDecoder.ts, and a 24,576-feature SAE (random tied
// directions, calibrated thresholds; test/unit/core/analysis/testSae.ts) at blocks.11.hook_resid_post. 256 tokens through the real worker
// (dist/worker.js), p50/p95, as a ratio to the reference measured in the same run, interleaved: one bare
// forward pass of the model (logits) plus the SAE encoder GEMM (ONNX Runtime dense layer [256, 768]·[768, 24576]).
//   npm run build && npx tsx bench/analyze-gpt2-small.ts [--runs 20] [--threads 2] [--tokens 256]
import { copyFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { createDenseLayer } from '../src/core/runtime/dense';
import { loadModel } from '../src/core/runtime/model';
import { matrix } from '../src/core/tensor';
import { RpcPeer } from '../src/protocol/rpc';
import type { WorkerRequest, WorkerResults } from '../src/protocol/worker';
import { makeTestSae } from '../test/unit/core/analysis/testSae';
import { GPT2_SMALL, parameterCount, writeRandomDecoder } from './randomDecoder';

function flag(name: string, fallback: string): string {
  const k = process.argv.indexOf(`--${name}`);
  return k > 0 && process.argv[k + 1] ? process.argv[k + 1] : fallback;
}
const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))];

const root = resolve(__dirname, '..');
const runs = Number(flag('runs', '20'));
const threads = Number(flag('threads', '2'));
const n = Number(flag('tokens', '256'));
const D_SAE = 24576;
// The deepest site: Analyze Selection then runs the whole network, like the reference forward pass.
const SITE = 'blocks.11.hook_resid_post';

async function main(): Promise<void> {
  const modelDir = join(tmpdir(), 'feature-lens-gpt2-small-random');
  if (!existsSync(join(modelDir, 'model.onnx'))) {
    console.log(`writing ${(parameterCount(GPT2_SMALL) / 1e6).toFixed(0)} M parameters to ${modelDir} …`);
    writeRandomDecoder(modelDir, GPT2_SMALL);
    // Any byte-level tokenizer with fewer tokens than the model will do: the bundled one.
    copyFileSync(join(root, 'models', 'tiny-lm', 'tokenizer.json'), join(modelDir, 'tokenizer.json'));
  }
  const saePath = await makeTestSae(join(tmpdir(), `feature-lens-gpt2-small-sae-${D_SAE}-${SITE}`), modelDir, { dSae: D_SAE, site: SITE });
  const lm = await loadModel(modelDir, { intraOpThreads: threads });
  const text = 'The quick brown fox jumps over the lazy dog. function add(a: number, b: number) { return a + b; }\n'.repeat(40);
  const enc = lm.tokenizer!.encode(text);
  const ids = enc.ids.subarray(0, n);
  const selection = text.slice(0, enc.offsets[2 * n - 1]);
  const encoder = await createDenseLayer(matrix(lm.info.dModel, D_SAE, new Float32Array(lm.info.dModel * D_SAE).fill(0.001)), new Float32Array(D_SAE), { intraOpThreads: threads });
  const acts = matrix(n, lm.info.dModel, new Float32Array(n * lm.info.dModel).fill(0.5));

  const worker = new Worker(resolve(flag('worker', join(root, 'dist', 'worker.js'))), { workerData: { root, intraOpThreads: threads } });
  const peer = new RpcPeer<WorkerRequest, WorkerResults>((m) => worker.postMessage(m));
  worker.on('message', (m: unknown) => peer.receive(m));
  const info = await peer.request({ kind: 'load', modelPath: modelDir, saePath });
  if (!info.sae) throw new Error(`no SAE is active: ${info.saeProblem}`);
  console.log(`model ${info.model.name} (${lm.info.layers} layers, d ${lm.info.dModel}, vocab ${lm.info.vocabSize}) · site ${info.site} · d_sae ${info.sae.dSae} · ${n} tokens · ${threads} ORT thread(s) · ${runs} runs`);

  const reference = async () => {
    await lm.logits([ids]);
    await encoder.apply(acts);
  };
  const analyze = async () => {
    const r = await peer.request({ kind: 'analyze', text: selection, topK: 8, maxTokens: 4096 });
    if (r.tokens.length !== n) throw new Error(`expected ${n} tokens, got ${r.tokens.length}`);
  };
  for (let i = 0; i < 3; i++) {
    await reference();
    await analyze();
  }
  const tr: number[] = [];
  const ta: number[] = [];
  for (let i = 0; i < runs; i++) {
    let t = performance.now();
    await reference();
    tr.push(performance.now() - t);
    t = performance.now();
    await analyze();
    ta.push(performance.now() - t);
  }
  const [a50, a95, r50, r95] = [quantile(ta, 0.5), quantile(ta, 0.95), quantile(tr, 0.5), quantile(tr, 0.95)];
  console.log(`analyze p50 ${a50.toFixed(0)} ms p95 ${a95.toFixed(0)} ms · forward+encoder GEMM p50 ${r50.toFixed(0)} ms p95 ${r95.toFixed(0)} ms`);
  console.log(`ratio p50 ${(a50 / r50).toFixed(2)}× · ratio p95 ${(a95 / r95).toFixed(2)}× (goal ≤ 1.3×; SAE site ${SITE})`);
  await worker.terminate();
  await encoder.dispose();
  await lm.dispose();
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
