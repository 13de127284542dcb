// Training throughput of every architecture on the fast backend, against PyTorch's reference trainer
// (../shared/anchors/torch_sae.py, via bench/torch_anchor.py) on the same activations, batch and thread
// count in the same run, and against the floor: one dense encoder GEMM [batch × d_in]·[d_in × d_sae] in
// the same engine, measured before and after the SAE steps.
//   npx tsx bench/train.ts [--scales 512x8192,256x4096,128x2048] [--archs jumprelu,topk,...] [--iters N]
//                          [--batch 4096] [--reference] [--no-torch] [--json out.json] [--op-l0 48]
//                          [--sparse-threads auto|1|2]
// --sparse-threads auto (default) is what users get: per architecture, as core/train/sparseThreads.ts.
// Gated and ReLU are timed twice: from initialisation (half the latents fire, L0 ≈ d_sae/2: the first few
// steps of a run) and at an operating point (the same weights with the gate / encoder bias lowered so
// that L0 ≈ --op-l0: where the L1 penalty holds a run after its first few percent of steps). PyTorch starts
// from the very same weights and input scale in both.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { encodeNpy, writeNpyMatrix } from '../src/core/npy';
import { createOrtDenseEngine } from '../src/core/runtime/ortDenseEngine';
import { createFastBackend, referenceBackend, type FastBackend, type Matrix, type NumericBackend } from '../src/core/tensor';
import { presetConfig } from '../src/core/train/presets';
import { parseSparseThreads, sparseThreadsFor } from '../src/core/train/sparseThreads';
import { SaeTrainer } from '../src/core/train/trainer';
import type { DataSource } from '../src/core/train/dataSource';
import type { SaeArchitecture } from '../src/core/sae/weights';
import { Rng } from '../src/core/util/rng';
import { archLabel, type ArchResult, type Regime, type ScaleResult } from './trainResult';

const { values: opts } = parseArgs({
  options: {
    scales: { type: 'string', default: '512x8192,256x4096,128x2048' },
    archs: { type: 'string', default: 'jumprelu,topk,batchtopk,gated,relu' },
    iters: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '1' },
    batch: { type: 'string', default: '4096' },
    threads: { type: 'string', default: '2' },
    reference: { type: 'boolean', default: false },
    'no-torch': { type: 'boolean', default: false },
    json: { type: 'string' },
    'op-l0': { type: 'string', default: '48' },
    'sparse-threads': { type: 'string', default: 'auto' },
  },
});
const SPARSE_THREADS = parseSparseThreads(opts['sparse-threads']);
const BATCH = Number(opts.batch);
const ITERS = Number(opts.iters);
const WARMUP = Number(opts.warmup);
const THREADS = Number(opts.threads);
const K = 32;
const POOL = 4; // distinct batches, cycled
const OP_L0 = Number(opts['op-l0']);
/** Architectures whose L0 is set by a penalty (dense at initialisation): timed at both regimes. */
const PENALTY_ARCHS = new Set(['gated', 'relu']);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

class PoolSource implements DataSource {
  private i = 0;
  constructor(
    readonly dIn: number,
    private readonly pool: Matrix[],
    private readonly rng: Rng,
  ) {}
  nextBatch(rows: number): Matrix {
    if (rows === BATCH) return this.pool[this.i++ % this.pool.length];
    return { data: Float32Array.from({ length: rows * this.dIn }, () => this.rng.normal()), rows, cols: this.dIn };
  }
}

/**
 * Gated/ReLU at the operating point: lowers the bias that decides firing (b_gate, b_enc) by one constant,
 * the quantile of this batch's pre-activations that leaves ≈ l0 entries per row above zero. Gated's
 * π_mag = e^{r_mag}·P + b_mag is P at initialisation (r_mag = b_mag = 0), positive wherever the gate opens.
 */
function shiftToOperatingPoint(trainer: SaeTrainer, arch: SaeArchitecture, raw: Matrix, backend: NumericBackend, l0: number): void {
  const { params, config } = trainer.model;
  const { dIn, dSae } = config;
  const x = Float32Array.from(raw.data, (v) => v / trainer.inputScale);
  const bDec = params.get('b_dec')!;
  if (config.applyBDecToInput) for (let i = 0; i < x.length; i++) x[i] -= bDec[i % dIn];
  const biasName = arch === 'gated' ? 'b_gate' : 'b_enc';
  const bias = params.get(biasName)!;
  const pre = backend.matmul({ data: x, rows: raw.rows, cols: dIn }, { data: params.get('W_enc')!, rows: dIn, cols: dSae }, bias).data;
  const stride = Math.max(1, Math.floor(pre.length / 2_000_000));
  const sample = new Float32Array(Math.floor(pre.length / stride));
  for (let i = 0; i < sample.length; i++) sample[i] = pre[i * stride];
  sample.sort();
  const cut = sample[Math.floor(sample.length * (1 - l0 / dSae))];
  for (let j = 0; j < dSae; j++) bias[j] -= cut;
}

/** The trainer's parameters as .npy files (PyTorch loads them) and its input scale. */
function saveInit(trainer: SaeTrainer, dir: string): void {
  mkdirSync(dir, { recursive: true });
  const { dIn, dSae } = trainer.model.config;
  for (const [name, data] of trainer.model.params) {
    const shape = name === 'W_enc' ? [dIn, dSae] : name === 'W_dec' ? [dSae, dIn] : [data.length];
    writeFileSync(join(dir, `${name}.npy`), encodeNpy(data, shape));
  }
  writeFileSync(join(dir, 'input_scale.json'), JSON.stringify(trainer.inputScale));
}

async function stepTime(
  arch: SaeArchitecture,
  dIn: number,
  dSae: number,
  pool: Matrix[],
  backend: NumericBackend,
  iters: number,
  regime: Regime | undefined,
  initDir?: string,
): Promise<{ seconds: number; l0: number }> {
  const source = new PoolSource(dIn, pool, new Rng(7));
  const preset = presetConfig({ architecture: arch, dSae, totalTokens: 1e9, batchSize: BATCH, k: K, targetL0: K });
  // Time JumpReLU's own steps, not its TopK warm start, with the STE window those steps have in the
  // default recipe: ε decays geometrically over the run and JumpReLU starts at 80 %, so its first step
  // sees ε_start·(ε_end/ε_start)^0.8 (the window, and the entries that get a gradient, shrink after that).
  const jr = preset.jumpRelu;
  const eps = jr && jr.bandwidthStart !== undefined ? jr.bandwidthStart * Math.pow(jr.bandwidth / jr.bandwidthStart, 0.8) : jr?.bandwidth;
  const config = {
    ...preset,
    initRows: 4096,
    ...(jr ? { jumpRelu: { ...jr, topKWarmupSteps: 0, bandwidth: eps ?? jr.bandwidth, bandwidthStart: undefined, bandwidthDecaySteps: undefined } } : {}),
  };
  const trainer = await SaeTrainer.create(config, source, backend);
  if (regime === 'op') shiftToOperatingPoint(trainer, arch, pool[0], backend, OP_L0);
  if (initDir) saveInit(trainer, initDir);
  const times: number[] = [];
  let l0 = 0;
  for (let i = 0; i < WARMUP + iters; i++) {
    const batch = source.nextBatch(BATCH);
    const t = performance.now();
    const m = trainer.trainStep(batch);
    if (i >= WARMUP) times.push((performance.now() - t) / 1000);
    l0 = m?.l0 ?? Number.NaN;
  }
  return { seconds: median(times), l0 };
}

function torchAnchor(npy: string, dSae: number, archs: string[], initDir?: string): Map<string, { actsPerSecond: number; l0?: number }> | undefined {
  // ../shared next to the checkout (or next to the worktrees folder for a git worktree).
  const anchors = [process.env.FL_ANCHORS ?? '', resolve(__dirname, '../../shared/anchors'), resolve(__dirname, '../../../shared/anchors')].find((d) =>
    existsSync(join(d, 'torch_sae.py')),
  );
  if (opts['no-torch'] || !anchors || !existsSync('/usr/bin/python3')) {
    if (!opts['no-torch']) process.stderr.write('PyTorch anchor not found (../shared/anchors/torch_sae.py): no ratios\n');
    return undefined;
  }
  const r = spawnSync(
    '/usr/bin/python3',
    [join(__dirname, 'torch_anchor.py'), '--anchors', anchors, '--acts', npy, '--d-sae', String(dSae), '--batch', String(BATCH), '--k', String(K),
      '--archs', ...archs, '--iters', String(ITERS), '--warmup', String(WARMUP), '--threads', String(THREADS), ...(initDir ? ['--init', initDir] : [])],
    { encoding: 'utf8', timeout: 3_600_000 },
  );
  if (r.status !== 0) {
    process.stderr.write(`torch anchor unavailable (${r.stderr?.trim().split('\n').slice(-2).join(' ') ?? String(r.error)})\n`);
    return undefined;
  }
  const rows = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { arch: string; acts_per_s: number; l0?: number });
  return new Map(rows.map((s) => [s.arch, { actsPerSecond: s.acts_per_s, ...(s.l0 !== undefined ? { l0: s.l0 } : {}) }]));
}

async function main(): Promise<void> {
  const engine = createOrtDenseEngine({ intraOpThreads: THREADS });
  // One fast backend per sparse-kernel thread count in use (the default differs per architecture).
  const backends = new Map<number, FastBackend>();
  const fastFor = (arch: SaeArchitecture): FastBackend => {
    const threads = sparseThreadsFor(SPARSE_THREADS, arch);
    let b = backends.get(threads);
    if (!b) backends.set(threads, (b = createFastBackend(engine, { sparseThreads: threads })));
    return b;
  };
  const archs = opts.archs.split(',') as SaeArchitecture[];
  const results: ScaleResult[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'fl-bench-train-'));
  try {
    for (const scale of opts.scales.split(',')) {
      const [dIn, dSae] = scale.split('x').map(Number);
      const rng = new Rng(123);
      const all: Matrix = { data: Float32Array.from({ length: POOL * BATCH * dIn }, () => rng.normal()), rows: POOL * BATCH, cols: dIn };
      const pool = Array.from({ length: POOL }, (_, i) => ({ data: all.data.subarray(i * BATCH * dIn, (i + 1) * BATCH * dIn), rows: BATCH, cols: dIn }));
      const npy = join(dir, `acts-${dIn}.npy`);
      writeNpyMatrix(npy, all);
      const w: Matrix = { data: Float32Array.from({ length: dIn * dSae }, () => rng.normal()), rows: dIn, cols: dSae };
      const gemm = (): number => {
        const ts: number[] = [];
        for (let i = 0; i < WARMUP + ITERS; i++) {
          const t = performance.now();
          engine.gemmSum(pool[i % POOL], w);
          if (i >= WARMUP) ts.push((performance.now() - t) / 1000);
        }
        return median(ts);
      };
      const gemmBefore = gemm();
      const rows: ArchResult[] = [];
      for (const arch of archs) {
        for (const regime of PENALTY_ARCHS.has(arch) ? (['init', 'op'] as const) : [undefined]) {
          // PyTorch right after the project's steps for the same architecture: the shared machine's load
          // drifts over minutes, so each ratio compares neighbours in time. Gated/ReLU: PyTorch starts from
          // the project's initial weights (and input scale), so both sides run the same L0.
          const initDir = regime ? join(dir, `init-${arch}-${regime}`) : undefined;
          const fast = fastFor(arch);
          const r = await stepTime(arch, dIn, dSae, pool, fast, ITERS, regime, initDir);
          const row: ArchResult = { arch, ...(regime ? { regime } : {}), stepSeconds: r.seconds, actsPerSecond: BATCH / r.seconds, l0: r.l0, sparseThreads: fast.sparseThreads };
          const t = torchAnchor(npy, dSae, [arch], initDir)?.get(arch);
          if (t !== undefined) {
            row.torchActsPerSecond = t.actsPerSecond;
            if (t.l0 !== undefined) row.torchL0 = t.l0;
          }
          if (opts.reference) row.referenceActsPerSecond = BATCH / (await stepTime(arch, dIn, dSae, pool, referenceBackend, 2, regime)).seconds;
          rows.push(row);
          process.stderr.write(
            `${dIn}/${dSae} ${archLabel(row)}: ${(r.seconds * 1000).toFixed(0)} ms/step (L0 ${r.l0.toFixed(1)}, sparse kernels on ${fast.sparseThreads})` +
              (t ? `, PyTorch ${((BATCH / t.actsPerSecond) * 1000).toFixed(0)} ms/step (L0 ${t.l0?.toFixed(1) ?? '?'})\n` : '\n'),
          );
        }
      }
      const gemmSeconds = (gemmBefore + gemm()) / 2; // bracket the SAE runs: the machine's speed drifts
      results.push({ dIn, dSae, batch: BATCH, gemmSeconds, archs: rows });
      printScale(results[results.length - 1]);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
    for (const b of backends.values()) b.dispose();
    engine.dispose();
  }
  if (opts.json) writeFileSync(opts.json, JSON.stringify({ threads: THREADS, sparseThreads: opts['sparse-threads'], engine: engine.name, results }, null, 1));
}

function printScale(s: ScaleResult): void {
  console.log(`\nd_in ${s.dIn}, d_sae ${s.dSae}, batch ${s.batch}, ${THREADS} threads; dense encoder GEMM ${(s.gemmSeconds * 1000).toFixed(0)} ms`);
  console.log('arch              acts/s   PyTorch acts/s   ratio   step/GEMM      L0   PyTorch L0' + (opts.reference ? '   reference acts/s' : ''));
  for (const r of s.archs) {
    const t = r.torchActsPerSecond;
    console.log(
      `${archLabel(r).padEnd(16)} ${r.actsPerSecond.toFixed(0).padStart(7)}   ${(t ? t.toFixed(0) : 'n/a').padStart(14)}   ${(t ? (r.actsPerSecond / t).toFixed(2) + '×' : 'n/a').padStart(6)}   ${(r.stepSeconds / s.gemmSeconds).toFixed(2).padStart(8)}×   ${r.l0.toFixed(1).padStart(7)}   ${(r.torchL0 !== undefined ? r.torchL0.toFixed(1) : '').padStart(10)}` +
        (r.referenceActsPerSecond ? `   ${r.referenceActsPerSecond.toFixed(0).padStart(10)}` : ''),
    );
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
