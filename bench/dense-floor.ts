// The dense ReLU / Gated step's GEMM floor, against PyTorch in the same run. At initialisation half the
// latents fire, so every product of the step is dense: ReLU needs five GEMMs of the encoder's size
// (x·W_enc, f·W_dec, dL/dx̂·W_decᵀ, fᵀ·dL/dx̂, xᵀ·dL/dpre), the same five PyTorch's autograd runs; Gated
// needs seven. This bench times each of those products alone in ONNX Runtime (MLAS) — in every layout and
// slicing the project could use, ONNX Runtime's own per-node kernel time, nothing else in the graph — and in
// PyTorch (torch.mm into a preallocated output), then PyTorch's whole training step, alternating the two
// sides round by round so both see the same machine load.
//   npx tsx bench/dense-floor.ts [--scale 512x8192] [--batch 4096] [--rows 1024] [--rounds 3] [--reps 3]
//                                [--threads 2] [--no-torch]
// Prints per round: the fastest layout of each product, the project's floor (ReLU: the five fastest
// summed; Gated: seven), PyTorch's five GEMMs and its whole step, and the best ratio a step could reach:
// PyTorch's step over the project's GEMM floor (a step that did nothing but its GEMMs).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { binding, initOrt } from 'onnxruntime-node/dist/binding';
import { encodeModel, onnx } from '../src/core/runtime/onnxProto';
import { Rng } from '../src/core/util/rng';

const { values: opts } = parseArgs({
  options: {
    scale: { type: 'string', default: '512x8192' },
    batch: { type: 'string', default: '4096' },
    rows: { type: 'string', default: '1024' },
    rounds: { type: 'string', default: '3' },
    reps: { type: 'string', default: '3' },
    threads: { type: 'string', default: '2' },
    'no-torch': { type: 'boolean', default: false },
  },
});
const [D, N] = opts.scale.split('x').map(Number);
const B = Number(opts.batch);
const R = Number(opts.rows);
const REPS = Number(opts.reps);
const THREADS = Number(opts.threads);
const FLOP = 2 * B * D * N;

const FLOAT = onnx.TensorProto.DataType.FLOAT;
const intAttr = (name: string, i: number): onnx.IAttributeProto => ({ name, type: onnx.AttributeProto.AttributeType.INT, i });
const io = (name: string, dims: number[]): onnx.IValueInfoProto => ({ name, type: { tensorType: { elemType: FLOAT, shape: { dim: dims.map((d) => ({ dimValue: d })) } } } });

/** The five kinds of product (Gated runs encode and gradWDec… as in `GATED`). */
type Kind = 'encode' | 'decode' | 'dCode' | 'gradWDec' | 'gradWEnc';
const RELU: Kind[] = ['encode', 'decode', 'dCode', 'gradWDec', 'gradWEnc'];
const GATED: Kind[] = ['encode', 'decode', 'decode', 'dCode', 'dCode', 'gradWDec', 'gradWEnc'];

interface Layout {
  kind: Kind;
  label: string;
  a: string;
  b: string;
  transA?: boolean;
  transB?: boolean;
  /** Rows of the batch per product (B: whole batch; R: one slice, timed × B/R). */
  rows: number;
}

/** Operand shapes for a product over `rows` rows of the batch: X [rows×d], F (a code) [rows×n], dX [rows×d], W_enc [d×n], W_dec [n×d], and transposed copies (…T). */
function shapes(rows: number): Record<string, number[]> {
  return { X: [rows, D], XT: [D, rows], F: [rows, N], FT: [N, rows], dX: [rows, D], dXT: [D, rows], We: [D, N], WeT: [N, D], Wd: [N, D], WdT: [D, N] };
}

function layouts(): Layout[] {
  const out: Layout[] = [];
  for (const rows of [...new Set([B, R])]) {
    const s = rows === B ? 'batch' : `${B / rows}×${rows}`;
    out.push(
      { kind: 'encode', label: `x·W_enc (${s})`, a: 'X', b: 'We', rows },
      { kind: 'encode', label: `x·(W_encᵀ)ᵀ transB (${s})`, a: 'X', b: 'WeT', transB: true, rows },
      { kind: 'decode', label: `f·W_dec (${s})`, a: 'F', b: 'Wd', rows },
      { kind: 'decode', label: `f·(W_decᵀ)ᵀ transB (${s})`, a: 'F', b: 'WdT', transB: true, rows },
      { kind: 'dCode', label: `dx̂·W_decᵀ transB (${s})`, a: 'dX', b: 'Wd', transB: true, rows },
      { kind: 'dCode', label: `dx̂·W_decᵀ copy (${s})`, a: 'dX', b: 'WdT', rows },
      { kind: 'gradWDec', label: `fᵀ·dx̂ transA (${s})`, a: 'F', b: 'dX', transA: true, rows },
      { kind: 'gradWDec', label: `(dx̂ᵀ)·f, dx̂ᵀ copy (${s})`, a: 'dXT', b: 'F', rows },
      { kind: 'gradWDec', label: `dx̂ᵀ·f transA (${s})`, a: 'dX', b: 'F', transA: true, rows },
      { kind: 'gradWEnc', label: `xᵀ·dpre transA (${s})`, a: 'X', b: 'F', transA: true, rows },
      { kind: 'gradWEnc', label: `(xᵀ)·dpre, xᵀ copy (${s})`, a: 'XT', b: 'F', rows },
      { kind: 'gradWEnc', label: `dpreᵀ·x transA (${s})`, a: 'F', b: 'X', transA: true, rows },
    );
  }
  return out;
}

function gaussian(rng: Rng, n: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.normal();
  return a;
}

/** One session holding every layout's product (each reduced to a number so that it stays in the graph), profiled per node, and its inputs. */
function buildSession(ls: Layout[], prefix: string, feeds: Record<string, ort.Tensor>): { session: InstanceType<typeof binding.InferenceSession>; fetches: Record<string, null> } {
  const node: onnx.INodeProto[] = [];
  const output: onnx.IValueInfoProto[] = [];
  const input = new Map<string, number[]>();
  ls.forEach((l, i) => {
    const suffix = l.rows === B ? '' : '_s';
    const a = l.a + suffix;
    const b = l.b.startsWith('W') ? l.b : l.b + suffix;
    input.set(a, shapes(l.rows)[l.a]);
    input.set(b, shapes(l.rows)[l.b]);
    const plain = !l.transA && !l.transB;
    node.push({ opType: plain ? 'MatMul' : 'Gemm', name: `p${i}`, input: [a, b], output: [`y${i}`], attribute: plain ? [] : [intAttr('transA', +!!l.transA), intAttr('transB', +!!l.transB)] });
    node.push({ opType: 'ReduceSum', name: `s${i}`, input: [`y${i}`], output: [`z${i}`], attribute: [intAttr('keepdims', 0)] });
    output.push(io(`z${i}`, []));
  });
  const bytes = encodeModel({ irVersion: 8, opsetImport: [{ domain: '', version: 17 }], graph: { name: 'floor', node, input: [...input].map(([k, v]) => io(k, v)), output } });
  const session = new binding.InferenceSession();
  session.loadModel(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.byteLength, {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'disabled', // every product as written (no Transpose folded into a Gemm)
    intraOpNumThreads: THREADS,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    logSeverityLevel: 3,
    enableProfiling: true,
    profileFilePrefix: prefix,
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  });
  const rng = new Rng(11);
  for (const [k, v] of input) feeds[k] ??= new ort.Tensor('float32', gaussian(rng, v[0] * v[1]), v);
  return { session, fetches: Object.fromEntries(output.map((o) => [o.name!, null])) };
}

/** Per layout, the median kernel time of the runs after the first (ms for the whole batch: a slice's time × B/rows). */
function kernelTimes(file: string, ls: Layout[]): number[] {
  const events = JSON.parse(readFileSync(file, 'utf8')) as { cat: string; name: string; dur: number }[];
  const per = new Map<string, number[]>();
  for (const e of events) {
    if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time')) continue;
    const k = e.name.slice(0, -'_kernel_time'.length);
    per.set(k, [...(per.get(k) ?? []), e.dur / 1000]);
  }
  return ls.map((l, i) => {
    const t = (per.get(`p${i}`) ?? []).slice(1).sort((p, q) => p - q);
    return t[Math.floor(t.length / 2)] * (B / l.rows);
  });
}

interface TorchRound {
  gemm_ms: Record<string, number>;
  relu_step_ms: number;
  gated_step_ms: number;
}

function torchRound(): TorchRound | undefined {
  const anchors = [process.env.FL_ANCHORS ?? '', resolve(__dirname, '../../shared/anchors'), resolve(__dirname, '../../../shared/anchors')].find((d) => existsSync(join(d, 'torch_sae.py')));
  if (opts['no-torch'] || !anchors || !existsSync('/usr/bin/python3')) return undefined;
  const r = spawnSync('/usr/bin/python3', [join(__dirname, 'torch_dense_floor.py'), '--anchors', anchors, '--d-in', String(D), '--d-sae', String(N), '--batch', String(B), '--reps', String(REPS), '--threads', String(THREADS)], {
    encoding: 'utf8',
    timeout: 3_600_000,
  });
  if (r.status !== 0) {
    process.stderr.write(`PyTorch side failed: ${r.stderr?.trim().split('\n').slice(-2).join(' ')}\n`);
    return undefined;
  }
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as TorchRound;
}

function main(): void {
  initOrt();
  const ls = layouts();
  const dir = mkdtempSync(join(tmpdir(), 'fl-dense-floor-'));
  const prefix = join(dir, 'prof-');
  const feeds: Record<string, ort.Tensor> = {};
  const gf = (ms: number): string => `${ms.toFixed(0).padStart(6)} ms ${(FLOP / ms / 1e6).toFixed(0).padStart(4)} GFLOP/s`;
  const median = (a: number[]): number => [...a].sort((p, q) => p - q)[Math.floor(a.length / 2)];
  const ratios: number[] = [];
  const gatedRatios: number[] = [];
  process.stdout.write(`d_in ${D}, d_sae ${N}, batch ${B}, ${THREADS} threads; one product = ${(FLOP / 1e9).toFixed(1)} GFLOP\n`);
  try {
    for (let round = 1; round <= Number(opts.rounds); round++) {
      const t0 = Date.now();
      // A fresh session per round: ONNX Runtime writes a session's profile once, when it ends.
      const { session, fetches } = buildSession(ls, prefix, feeds);
      for (let r = 0; r < REPS + 1; r++) session.run(feeds, fetches, {});
      session.endProfiling();
      session.dispose();
      const file = readdirSync(dir).map((f) => join(dir, f)).find((f) => f.startsWith(prefix))!;
      const times = kernelTimes(file, ls);
      rmSync(file);
      const best = new Map<Kind, { ms: number; label: string }>();
      ls.forEach((l, i) => {
        const cur = best.get(l.kind);
        if (!cur || times[i] < cur.ms) best.set(l.kind, { ms: times[i], label: l.label });
      });
      const torch = torchRound();
      const floorOf = (kinds: Kind[]): number => kinds.reduce((s, k) => s + best.get(k)!.ms, 0);
      process.stdout.write(`\nround ${round} (${new Date(t0).toISOString().slice(11, 19)} UTC, load ${readFileSync('/proc/loadavg', 'utf8').split(' ')[0]}):\n`);
      ls.forEach((l, i) => process.stdout.write(`  ${l.kind.padEnd(9)} ${l.label.padEnd(34)} ${gf(times[i])}${best.get(l.kind)!.label === l.label ? '  ← fastest' : ''}\n`));
      for (const k of RELU) process.stdout.write(`  ${k.padEnd(9)} PyTorch torch.mm ${torch ? gf(torch.gemm_ms[k]) : 'n/a'}\n`);
      const relu = floorOf(RELU);
      const gated = floorOf(GATED);
      process.stdout.write(`  project GEMM floor: ReLU (5 products) ${relu.toFixed(0)} ms, Gated (7) ${gated.toFixed(0)} ms\n`);
      if (torch) {
        const torch5 = RELU.reduce((s, k) => s + torch.gemm_ms[k], 0);
        const reluBest = torch.relu_step_ms / relu;
        const gatedBest = torch.gated_step_ms / gated;
        ratios.push(reluBest);
        gatedRatios.push(gatedBest);
        process.stdout.write(
          `  PyTorch: its 5 GEMMs ${torch5.toFixed(0)} ms (project's fastest 5: ${(relu / torch5).toFixed(2)}× that time); whole ReLU step ${torch.relu_step_ms.toFixed(0)} ms, Gated step ${torch.gated_step_ms.toFixed(0)} ms\n` +
            `  best ratio a step could reach (PyTorch step / project GEMM floor): ReLU ${reluBest.toFixed(2)}×, Gated ${gatedBest.toFixed(2)}×\n`,
        );
      }
    }
    if (ratios.length > 0) process.stdout.write(`\nmedian over rounds of the best reachable ratio: ReLU ${median(ratios).toFixed(2)}×, Gated ${median(gatedRatios).toFixed(2)}×\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main();
