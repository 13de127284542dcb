// The dense encoder GEMM [batch × d_in]·[d_in × d_sae] on each candidate engine, in one run:
// ONNX Runtime (MLAS) with the product reduced inside the graph and returned dense, the project's
// JavaScript kernel, and TensorFlow.js's wasm backend when it is installed (it is not a dependency:
// `npm i --no-save @tensorflow/tfjs-core @tensorflow/tfjs-backend-wasm` to include it). GFLOP/s, and
// each as a ratio to ONNX Runtime's in-graph time.   npx tsx bench/gemm-candidates.ts [--d-in 512] [--d-sae 8192]
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { createOrtDenseEngine } from '../src/core/runtime/ortDenseEngine';
import { matmulTransposed, transpose, type Matrix } from '../src/core/tensor';
import { Rng } from '../src/core/util/rng';

const { values: opts } = parseArgs({
  options: { 'd-in': { type: 'string', default: '512' }, 'd-sae': { type: 'string', default: '8192' }, batch: { type: 'string', default: '4096' }, iters: { type: 'string', default: '3' } },
});
const dIn = Number(opts['d-in']);
const dSae = Number(opts['d-sae']);
const B = Number(opts.batch);
const ITERS = Number(opts.iters);
const flops = 2 * B * dIn * dSae;

function best(f: () => void, iters = ITERS): number {
  f();
  let t = Infinity;
  for (let i = 0; i < iters; i++) {
    const s = performance.now();
    f();
    t = Math.min(t, (performance.now() - s) / 1000);
  }
  return t;
}

interface TfLike {
  setBackend(name: string): Promise<boolean>;
  ready(): Promise<void>;
  tensor2d(data: Float32Array, shape: [number, number]): unknown;
  matMul(a: unknown, b: unknown): { dataSync(): Float32Array; dispose(): void };
  sum(x: unknown): { dataSync(): Float32Array; dispose(): void };
  tidy<T>(f: () => T): T;
  env(): { getBool(flag: string): boolean };
}

async function loadTfjsWasm(): Promise<TfLike | undefined> {
  try {
    const req = createRequire(__filename);
    const tf = req('@tensorflow/tfjs-core') as TfLike;
    const wasm = req('@tensorflow/tfjs-backend-wasm') as { setWasmPaths(p: string): void };
    wasm.setWasmPaths(req.resolve('@tensorflow/tfjs-backend-wasm').replace(/[^/]+$/, ''));
    await tf.setBackend('wasm');
    await tf.ready();
    return tf;
  } catch {
    return undefined;
  }
}

async function main(): Promise<void> {
  const rng = new Rng(3);
  const x: Matrix = { data: Float32Array.from({ length: B * dIn }, () => rng.normal()), rows: B, cols: dIn };
  const w: Matrix = { data: Float32Array.from({ length: dIn * dSae }, () => rng.normal()), rows: dIn, cols: dSae };
  const engine = createOrtDenseEngine({ intraOpThreads: 2 });
  const rows: Array<[string, number]> = [];
  const ort = best(() => engine.gemmSum(x, w));
  rows.push(['onnxruntime, product kept in the graph (2 threads)', ort]);
  rows.push(['onnxruntime, dense product returned to JavaScript', best(() => engine.gemm(x, w))]);
  const tf = await loadTfjsWasm();
  if (tf) {
    const a = tf.tensor2d(x.data, [B, dIn]);
    const b = tf.tensor2d(w.data, [dIn, dSae]);
    const threads = tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT') ? 'threads' : '1 thread';
    rows.push([`tfjs wasm (SIMD, ${threads}), product reduced in tfjs`, best(() => tf.tidy(() => tf.sum(tf.matMul(a, b)).dataSync()))]);
    rows.push([`tfjs wasm (SIMD, ${threads}), dense product returned`, best(() => tf.tidy(() => tf.matMul(a, b).dataSync()))]);
  } else {
    rows.push(['tfjs wasm: not installed (skipped)', Number.NaN]);
  }
  // The JavaScript kernel on a slice of the batch (it is far slower), scaled to the full batch.
  const slice = Math.max(64, Math.floor(B / 16));
  const wT = transpose(w.data, dIn, dSae);
  const js = (best(() => matmulTransposed({ data: x.data.subarray(0, slice * dIn), rows: slice, cols: dIn }, wT, dSae), 1) * B) / slice;
  rows.push([`JavaScript kernel (1 thread; ${slice} rows timed, scaled)`, js]);
  engine.dispose();
  console.log(`GEMM [${B}×${dIn}]·[${dIn}×${dSae}] = ${(flops / 1e9).toFixed(1)} GFLOP; best of ${ITERS}`);
  for (const [name, s] of rows) {
    console.log(`${name.padEnd(62)} ${Number.isFinite(s) ? `${(s * 1000).toFixed(0).padStart(7)} ms ${(flops / s / 1e9).toFixed(1).padStart(7)} GFLOP/s ${(s / ort).toFixed(2).padStart(7)}×` : ''}`);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
