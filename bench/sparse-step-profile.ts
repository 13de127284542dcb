// Where a sparse-path SAE step (JumpReLU, TopK) spends its time inside and outside ONNX Runtime: whole
// trainer steps on the fast backend (the steps bench/train.ts times), ONNX Runtime's own per-node profile
// (session option enableProfiling) summed per session and operator type, and the rest of the step (the
// JavaScript / WebAssembly half) as wall time minus the engine's model_run time. The dense-encoder GEMM
// (the floor bench/train.ts divides by) is timed in the same process for scale.
//   npx tsx bench/sparse-step-profile.ts [--scale 512x8192] [--batch 4096] [--arch jumprelu,topk]
//                                        [--steps 4] [--threads 2] [--split-from N]
// --split-from: product entries from which the selection graphs split their rows with the engine's helper
// thread (OrtEngineOptions.splitSelectionFrom; "off" = never). The helper's sessions ("helper_…" below) run
// at the same time as this thread's, so their model_run time is not counted in "in ONNX Runtime".
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import { createOrtDenseEngine } from '../src/core/runtime/ortDenseEngine';
import { createFastBackend, type Matrix } from '../src/core/tensor';
import { presetConfig } from '../src/core/train/presets';
import { SaeTrainer } from '../src/core/train/trainer';
import { PoolSource } from './poolSource';
import type { SaeArchitecture } from '../src/core/sae/weights';
import { Rng } from '../src/core/util/rng';

const { values: opts } = parseArgs({
  options: {
    scale: { type: 'string', default: '512x8192' },
    batch: { type: 'string', default: '4096' },
    arch: { type: 'string', default: 'jumprelu,topk' },
    steps: { type: 'string', default: '4' },
    threads: { type: 'string', default: '2' },
    'split-from': { type: 'string' },
  },
});
const [D, N] = opts.scale.split('x').map(Number);
const B = Number(opts.batch);
const STEPS = Number(opts.steps);
const WARMUP = 2;

interface TraceEvent {
  cat: string;
  name: string;
  ts: number;
  dur: number;
  args?: { op_name?: string };
}


const median = (a: number[]): number => [...a].sort((p, q) => p - q)[Math.floor(a.length / 2)];

/**
 * Per session file: model_run time and kernel time per operator type over the timed steps. Profile
 * timestamps count from each session's creation, so the timed runs are taken as the last
 * STEPS/(WARMUP + STEPS) of each session's runs (every session here runs the same number of times per step).
 */
function summarise(prefix: string): { runUs: number; lines: string[] } {
  let runUs = 0;
  const lines: string[] = [];
  for (const f of readdirSync(tmpdir()).filter((name) => join(tmpdir(), name).startsWith(prefix)).sort()) {
    const path = join(tmpdir(), f);
    const events = JSON.parse(readFileSync(path, 'utf8')) as TraceEvent[];
    rmSync(path, { force: true });
    const runs = events.filter((e) => e.cat === 'Session' && e.name === 'model_run').sort((a, b) => a.ts - b.ts);
    // Sessions that ran fewer times than there were steps (set-up, e.g. the threshold initialisation) are not the step's.
    if (runs.length < WARMUP + STEPS) continue;
    const timed = runs.slice(runs.length - Math.round((runs.length * STEPS) / (WARMUP + STEPS)));
    if (timed.length === 0) continue;
    const from = timed[0].ts;
    const sessionRun = timed.reduce((s, e) => s + e.dur, 0);
    const name = f.slice(basename(prefix).length).replace(/_\d{4}-.*$/, '');
    if (!name.startsWith('helper_')) runUs += sessionRun;
    const byOp = new Map<string, number>();
    for (const e of events) {
      if (e.cat !== 'Node' || e.ts < from || !e.name.endsWith('_kernel_time')) continue;
      const op = e.args?.op_name ?? '?';
      byOp.set(op, (byOp.get(op) ?? 0) + e.dur);
    }
    const ms = (us: number): string => (us / 1000 / STEPS).toFixed(1).padStart(7);
    lines.push(`  ${name}: ${timed.length / STEPS} run(s)/step, model_run ${ms(sessionRun)} ms/step; kernels: ${[...byOp].sort((a, b) => b[1] - a[1]).map(([op, us]) => `${op} ${ms(us).trim()}`).join(', ')}`);
  }
  return { runUs, lines };
}

async function main(): Promise<void> {
  const rng = new Rng(123);
  const pool = Array.from({ length: 4 }, () => ({ data: Float32Array.from({ length: B * D }, () => rng.normal()), rows: B, cols: D }));
  const floorEngine = createOrtDenseEngine({ intraOpThreads: Number(opts.threads) });
  const wEnc: Matrix = { data: Float32Array.from({ length: D * N }, () => rng.normal() / Math.sqrt(D)), rows: D, cols: N };
  const gemmMs: number[] = [];
  for (let s = 0; s <= STEPS; s++) {
    const t = performance.now();
    floorEngine.gemmSum(pool[0], wEnc);
    if (s > 0) gemmMs.push(performance.now() - t);
  }
  floorEngine.dispose();
  const floor = median(gemmMs);
  console.log(`d_in ${D}, d_sae ${N}, batch ${B}, ${opts.threads} threads; dense encoder GEMM median ${floor.toFixed(0)} ms`);
  for (const arch of opts.arch.split(',') as SaeArchitecture[]) {
    const prefix = join(tmpdir(), `fl-sparse-prof-${process.pid}-${arch}-`);
    const splitFrom = opts['split-from'] === undefined ? {} : { splitSelectionFrom: opts['split-from'] === 'off' ? Number.POSITIVE_INFINITY : Number(opts['split-from']) };
    const engine = createOrtDenseEngine({ intraOpThreads: Number(opts.threads), profileFilePrefix: prefix, ...splitFrom });
    const backend = createFastBackend(engine);
    const preset = presetConfig({ architecture: arch, dSae: N, totalTokens: 1e9, batchSize: B, k: 32, targetL0: 32 });
    // As bench/train.ts: JumpReLU's own steps at the STE window they have 80 % into the default recipe.
    const jr = preset.jumpRelu;
    const eps = jr && jr.bandwidthStart !== undefined ? jr.bandwidthStart * Math.pow(jr.bandwidth / jr.bandwidthStart, 0.8) : jr?.bandwidth;
    const config = { ...preset, initRows: 4096, ...(jr ? { jumpRelu: { ...jr, topKWarmupSteps: 0, bandwidth: eps ?? jr.bandwidth, bandwidthStart: undefined, bandwidthDecaySteps: undefined } } : {}) };
    const source = new PoolSource(D, pool);
    const trainer = await SaeTrainer.create(config, source, backend);
    for (let s = 0; s < WARMUP; s++) trainer.trainStep(source.nextBatch());
    const wall: number[] = [];
    const cpu: number[] = [];
    let faults = 0;
    let l0 = 0;
    for (let s = 0; s < STEPS; s++) {
      const f0 = process.resourceUsage().minorPageFault;
      const c0 = process.cpuUsage();
      const t = performance.now();
      l0 = trainer.trainStep(source.nextBatch())?.l0 ?? Number.NaN;
      wall.push(performance.now() - t);
      const c = process.cpuUsage(c0);
      cpu.push((c.user + c.system) / 1000);
      faults += process.resourceUsage().minorPageFault - f0;
    }
    engine.dispose(); // writes the profiles
    const { runUs, lines } = summarise(prefix);
    const sum = wall.reduce((s, v) => s + v, 0);
    console.log(
      `${arch}: step median ${median(wall).toFixed(0)} ms (${wall.map((v) => v.toFixed(0)).join(' ')}), CPU ${median(cpu).toFixed(0)} ms, = ${(median(wall) / floor).toFixed(2)}× the GEMM; L0 ${l0.toFixed(1)}; ${Math.round(faults / STEPS)} page faults/step; in ONNX Runtime ${(runUs / 1000 / STEPS).toFixed(0)} ms/step, outside ${((sum - runUs / 1000) / STEPS).toFixed(0)} ms/step`,
    );
    for (const line of lines) console.log(line);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
