// Training throughput of each architecture with the reference backend at d_in 128, d_sae 2048, batch 1024,
// as a ratio to references measured in the same run: one dense GEMM of the encoder's size in the same
// backend, and (when ../shared/anchors/torch_sae.py and Debian's python3-torch are present) PyTorch's
// step for the same shapes.   npx tsx bench/train.ts [--iters N] [--no-torch]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { referenceBackend, type Matrix } from '../src/core/tensor';
import { presetConfig } from '../src/core/train/presets';
import { SaeTrainer } from '../src/core/train/trainer';
import type { DataSource } from '../src/core/train/dataSource';
import type { SaeArchitecture } from '../src/core/sae/weights';
import { Rng } from '../src/core/util/rng';

const D_IN = 128;
const D_SAE = 2048;
const BATCH = 1024;
const K = 32;
const iters = Number(process.argv[process.argv.indexOf('--iters') + 1] ?? 0) || 5;
const warmup = 2;

function gaussian(rows: number, cols: number, rng: Rng): Matrix {
  return { data: Float32Array.from({ length: rows * cols }, () => rng.normal()), rows, cols };
}

class GaussianSource implements DataSource {
  readonly dIn = D_IN;
  private readonly rng = new Rng(123);
  private readonly pool = [0, 1, 2, 3].map(() => gaussian(BATCH, D_IN, this.rng));
  private i = 0;
  nextBatch(rows: number): Matrix {
    return rows === BATCH ? this.pool[this.i++ % 4] : gaussian(rows, D_IN, this.rng);
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function gemmSeconds(): number {
  const rng = new Rng(1);
  const a = gaussian(BATCH, D_IN, rng);
  const b = gaussian(D_IN, D_SAE, rng);
  const times: number[] = [];
  for (let i = 0; i < warmup + iters; i++) {
    const t = performance.now();
    referenceBackend.matmul(a, b);
    if (i >= warmup) times.push((performance.now() - t) / 1000);
  }
  return median(times);
}

async function stepSeconds(arch: SaeArchitecture): Promise<{ seconds: number; l0: number }> {
  const source = new GaussianSource();
  const preset = presetConfig({ architecture: arch, dSae: D_SAE, totalTokens: 1e9, batchSize: BATCH, k: K, targetL0: K });
  // Time JumpReLU's own steps, not its TopK warm start.
  const config = { ...preset, initRows: 4096, ...(preset.jumpRelu ? { jumpRelu: { ...preset.jumpRelu, topKWarmupSteps: 0 } } : {}) };
  const trainer = await SaeTrainer.create(config, source);
  const times: number[] = [];
  let l0 = 0;
  for (let i = 0; i < warmup + iters; i++) {
    const batch = source.nextBatch(BATCH);
    const t = performance.now();
    const m = trainer.trainStep(batch);
    if (i >= warmup) times.push((performance.now() - t) / 1000);
    l0 = m?.l0 ?? Number.NaN;
  }
  return { seconds: median(times), l0 };
}

function torchAnchor(archs: string[]): Map<string, number> | undefined {
  const script = resolve(__dirname, '../../shared/anchors/torch_sae.py');
  if (process.argv.includes('--no-torch') || !existsSync(script) || !existsSync('/usr/bin/python3')) return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'fl-bench-'));
  try {
    const out = join(dir, 'torch.json');
    const r = spawnSync(
      '/usr/bin/python3',
      [script, 'bench', '--dims', String(D_IN), '--expansion', String(D_SAE / D_IN), '--batch', String(BATCH), '--k', String(K),
        '--archs', ...archs, '--iters', String(iters), '--warmup', String(warmup), '--threads', '2', '--json', out],
      { encoding: 'utf8', timeout: 600_000 },
    );
    if (r.status !== 0 || !existsSync(out)) {
      process.stderr.write(`torch anchor unavailable (${r.stderr?.split('\n').slice(-2).join(' ') ?? r.error})\n`);
      return undefined;
    }
    const res = JSON.parse(readFileSync(out, 'utf8')) as { sae: Array<{ arch: string; acts_per_s: number }> };
    return new Map(res.sae.map((s) => [s.arch, s.acts_per_s]));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const archs: SaeArchitecture[] = ['jumprelu', 'topk', 'batchtopk', 'gated', 'relu'];
  const gemmBefore = gemmSeconds();
  const rows: Array<{ arch: string; seconds: number; l0: number }> = [];
  for (const arch of archs) {
    const r = await stepSeconds(arch);
    rows.push({ arch, ...r });
    process.stderr.write(`${arch}: ${(r.seconds * 1000).toFixed(0)} ms/step\n`);
  }
  const gemm = (gemmBefore + gemmSeconds()) / 2; // bracket the SAE runs: the machine's speed drifts
  const torch = torchAnchor(['jumprelu', 'topk', 'gated', 'relu']);
  console.log(`d_in ${D_IN}, d_sae ${D_SAE}, batch ${BATCH}, reference backend; GEMM [${BATCH}×${D_IN}]·[${D_IN}×${D_SAE}] ${(gemm * 1000).toFixed(1)} ms`);
  console.log('arch        acts/s    step/GEMM   L0(train)  vs PyTorch (acts/s ratio)');
  for (const r of rows) {
    const actsPerS = BATCH / r.seconds;
    const t = torch?.get(r.arch);
    console.log(
      `${r.arch.padEnd(10)} ${actsPerS.toFixed(0).padStart(7)}   ${(r.seconds / gemm).toFixed(2).padStart(8)}×   ${r.l0.toFixed(1).padStart(8)}   ${t ? (actsPerS / t).toFixed(2) + '× (torch ' + t.toFixed(0) + ' acts/s)' : 'n/a'}`,
    );
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
