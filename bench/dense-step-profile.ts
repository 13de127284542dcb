// Where the fused dense Gated / ReLU step (DenseEngine.saeDenseStep) spends its time: the engine call alone
// on random weights of the trainer's shapes, timed per step, and with --profile ONNX Runtime's own per-node
// profile (session option enableProfiling) summed per node and per operator type. The dense-encoder GEMM
// (xin·W_enc, the floor bench/train.ts divides by) is timed in the same process for scale. The process CPU
// time per step is printed too: on a machine other jobs load, it moves much less than the wall time.
//   npx tsx bench/dense-step-profile.ts [--scale 512x8192] [--batch 4096] [--arch relu,gated] [--steps 3]
//                                       [--threads 2] [--rows 1024] [--profile] [--top 30] [--engine path.ts]
//                                       [--versus path.ts|this] [--versus-rows 1024]
// --rows sets the rows per run of the fused step (the engine's denseStepRows); --engine loads
// createOrtDenseEngine from another file (e.g. main's ortDenseEngine.ts copied aside). --versus adds a second
// engine (a file, or `this` for this checkout's with --versus-rows) and alternates the two step by step in
// one process, so both see the same minutes of a loaded machine (peak RSS is then the pair's).
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { DENSE_STEP_ROWS, createOrtDenseEngine as ownEngine } from '../src/core/runtime/ortDenseEngine';
import type { Matrix } from '../src/core/tensor';
import type { SaeDenseStepInputs } from '../src/core/tensor/denseEngine';
import { Rng } from '../src/core/util/rng';

const { values: opts } = parseArgs({
  options: {
    scale: { type: 'string', default: '512x8192' },
    batch: { type: 'string', default: '4096' },
    arch: { type: 'string', default: 'relu,gated' },
    steps: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '2' },
    threads: { type: 'string', default: '2' },
    rows: { type: 'string', default: String(DENSE_STEP_ROWS) },
    engine: { type: 'string' },
    versus: { type: 'string' },
    'versus-rows': { type: 'string' },
    profile: { type: 'boolean', default: false },
    top: { type: 'string', default: '30' },
  },
});
const [D, N] = opts.scale.split('x').map(Number);
const B = Number(opts.batch);
const STEPS = Number(opts.steps);
const WARMUP = Number(opts.warmup);
const ROWS = Number(opts.rows);
/** ONNX Runtime runs per step: the batch runs in slices of at most ROWS rows. */
const RUNS_PER_STEP = Math.ceil(B / ROWS);

const profilePrefix = join(tmpdir(), `fl-dense-prof-${process.pid}-`);

function gaussian(rng: Rng, n: number, std: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.normal() * std;
  return a;
}

interface TraceEvent {
  cat: string;
  name: string;
  ts: number;
  dur: number;
  args?: { op_name?: string; thread_scheduling_stats?: unknown };
}

function summarise(file: string, steps: number, top: number): void {
  const all = JSON.parse(readFileSync(file, 'utf8')) as TraceEvent[];
  // The warm-up runs (first-touch memory: ONNX Runtime's arena settles after two runs) are left out.
  const runs = all.filter((e) => e.cat === 'Session' && e.name === 'model_run').sort((a, b) => a.ts - b.ts);
  const warm = WARMUP * RUNS_PER_STEP;
  const warmEnd = warm > 0 && runs.length > warm ? runs[warm - 1].ts + runs[warm - 1].dur : -Infinity;
  const events = all.filter((e) => e.ts >= warmEnd);
  const byNode = new Map<string, { op: string; us: number }>();
  const byOp = new Map<string, number>();
  let total = 0;
  for (const e of events) {
    if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time')) continue;
    const node = e.name.slice(0, -'_kernel_time'.length);
    const op = e.args?.op_name ?? '?';
    const cur = byNode.get(node) ?? { op, us: 0 };
    cur.us += e.dur;
    byNode.set(node, cur);
    byOp.set(op, (byOp.get(op) ?? 0) + e.dur);
    total += e.dur;
  }
  const ms = (us: number): string => (us / 1000 / steps).toFixed(1).padStart(8);
  process.stdout.write(`  kernels ${ms(total)} ms/step in total\n  per operator type:\n`);
  for (const [op, us] of [...byOp].sort((a, b) => b[1] - a[1])) process.stdout.write(`    ${op.padEnd(20)}${ms(us)} ms  ${((100 * us) / total).toFixed(1).padStart(5)} %\n`);
  process.stdout.write(`  per node:\n`);
  for (const [node, { op, us }] of [...byNode].sort((a, b) => b[1].us - a[1].us).slice(0, top)) {
    process.stdout.write(`    ${node.padEnd(28)}${op.padEnd(16)}${ms(us)} ms  ${((100 * us) / total).toFixed(1).padStart(5)} %\n`);
  }
}

/** This process's peak resident set so far (VmHWM), MiB. */
function peakRssMiB(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : Number.NaN;
}

async function engineFrom(path: string | undefined): Promise<typeof ownEngine> {
  if (path === undefined || path === 'this') return ownEngine;
  return ((await import(resolve(path))) as { createOrtDenseEngine: typeof ownEngine }).createOrtDenseEngine;
}

async function main(): Promise<void> {
  const createOrtDenseEngine = await engineFrom(opts.engine);
  const engine = createOrtDenseEngine({ intraOpThreads: Number(opts.threads), denseStepRows: ROWS, ...(opts.profile ? { profileFilePrefix: profilePrefix } : {}) });
  const engines = [{ label: `${opts.engine ?? 'this checkout'} (${ROWS} rows per run)`, engine }];
  if (opts.versus !== undefined) {
    const rows = Number(opts['versus-rows'] ?? ROWS);
    engines.push({ label: `${opts.versus} (${rows} rows per run)`, engine: (await engineFrom(opts.versus))({ intraOpThreads: Number(opts.threads), denseStepRows: rows }) });
  }
  const rng = new Rng(7);
  const x: Matrix = { data: gaussian(rng, B * D, 1), rows: B, cols: D };
  const wEnc: Matrix = { data: gaussian(rng, D * N, 1 / Math.sqrt(D)), rows: D, cols: N };
  const wDec: Matrix = { data: new Float32Array(N * D), rows: N, cols: D };
  for (let j = 0; j < N; j++) for (let i = 0; i < D; i++) wDec.data[j * D + i] = wEnc.data[i * N + j];
  const bDec = new Float32Array(D);
  const penalty = new Float32Array(N).fill(5 / B);
  const gemmMs: number[] = [];
  for (let s = 0; s <= STEPS; s++) {
    const t0 = performance.now();
    engine.gemmSum(x, wEnc);
    if (s > 0) gemmMs.push(performance.now() - t0);
  }
  const median = (a: number[]): number => [...a].sort((p, q) => p - q)[Math.floor(a.length / 2)];
  process.stdout.write(`${engines.map((e) => e.label).join(' vs ')}; d_in ${D}, d_sae ${N}, batch ${B}, ${opts.threads} threads; dense encoder GEMM median ${median(gemmMs).toFixed(0)} ms\n`);
  for (const kind of opts.arch.split(',') as ('relu' | 'gated')[]) {
    const inputs: SaeDenseStepInputs = {
      kind,
      x,
      xin: x,
      wEnc,
      wDec,
      bDec,
      bias: new Float32Array(N),
      penalty,
      ...(kind === 'gated' ? { bMag: new Float32Array(N), scale: new Float32Array(N).fill(1) } : {}),
    };
    const runs = engines.map(() => ({ times: [] as number[], cpuTimes: [] as number[], faults: 0, checksum: 0 }));
    for (let s = 0; s < WARMUP + STEPS; s++) {
      engines.forEach(({ engine: e }, i) => {
        const f0 = process.resourceUsage().minorPageFault;
        const t0 = performance.now();
        const c0 = process.cpuUsage();
        const r = e.saeDenseStep!(inputs);
        const c = process.cpuUsage(c0);
        const run = runs[i];
        if (s >= WARMUP) run.times.push(performance.now() - t0);
        if (s >= WARMUP) run.cpuTimes.push((c.user + c.system) / 1000);
        if (s >= WARMUP) run.faults += process.resourceUsage().minorPageFault - f0;
        run.checksum = r.sqErr;
      });
    }
    engines.forEach(({ label }, i) => {
      const { times, cpuTimes, faults, checksum } = runs[i];
      const m = median(times);
      const who = engines.length > 1 ? ` [${label}]` : '';
      process.stdout.write(`${kind}${who}: step median ${m.toFixed(0)} ms (${times.map((t) => t.toFixed(0)).join(' ')}) = ${(m / median(gemmMs)).toFixed(2)}× the GEMM; CPU median ${median(cpuTimes).toFixed(0)} ms (${cpuTimes.map((t) => t.toFixed(0)).join(' ')}); ${Math.round(faults / STEPS)} page faults/step (${((faults / STEPS) * 4096 / 2 ** 20).toFixed(0)} MiB); Σ‖x−x̂‖² ${checksum.toExponential(4)}; peak RSS so far ${peakRssMiB()} MiB\n`);
    });
  }
  for (const { engine: e } of engines.slice(1)) e.dispose();
  engine.dispose(); // ends the profiles
  if (opts.profile) {
    for (const f of readdirSync(tmpdir()).filter((name) => join(tmpdir(), name).startsWith(profilePrefix)).sort()) {
      const path = join(tmpdir(), f);
      if (f.includes('sae-dense')) {
        process.stdout.write(`profile of ${f.slice(f.indexOf('sae-dense'))} (per run, the ${STEPS} after ${WARMUP} warm-up runs):\n`);
        summarise(path, STEPS, Number(opts.top));
      }
      rmSync(path, { force: true });
    }
  }
}

void main();
