// One thread against two for the WebAssembly sparse kernels, in one process: two trainers (the same
// config, seed and batches; one fast backend with sparseThreads 1, one with 2, on one GEMM engine) step
// alternately A, B, B, A, …, so both see the same minutes of a shared machine's load. Reports per
// architecture the median wall and process CPU time per step (CPU: all threads, ONNX Runtime's and the
// helper's included), how many A/B pairs two threads won, and whether both gave the same losses and L0s
// at every step (they must: the split does not change any sum).
//   npx tsx bench/sparse-threads.ts [--scale 512x8192] [--archs jumprelu,topk] [--steps 8] [--batch 4096]
//                                   [--threads 2] [--recipe bench|default]
// --recipe bench times the steps bench/train.ts times (JumpReLU without its TopK warm start, at the STE
// window of 80 % into the default run); --recipe default runs the default recipe from step 0 (for
// JumpReLU: its TopK warm start, 80 % of a default run's steps).
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { createOrtDenseEngine } from '../src/core/runtime/ortDenseEngine';
import { createFastBackend } from '../src/core/tensor';
import { presetConfig } from '../src/core/train/presets';
import { SaeTrainer } from '../src/core/train/trainer';
import type { SaeArchitecture } from '../src/core/sae/weights';
import { SAE_ARCHITECTURES } from '../src/protocol/architectures';
import { Rng } from '../src/core/util/rng';
import { PoolSource } from './poolSource';

const { values: opts } = parseArgs({
  options: {
    scale: { type: 'string', default: '512x8192' },
    archs: { type: 'string', default: 'jumprelu,topk' },
    steps: { type: 'string', default: '8' },
    batch: { type: 'string', default: '4096' },
    threads: { type: 'string', default: '2' },
    recipe: { type: 'string', default: 'bench' },
  },
});

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function configFor(arch: SaeArchitecture, dSae: number, batch: number) {
  const preset = presetConfig({ architecture: arch, dSae, totalTokens: 1e9, batchSize: batch, k: 32, targetL0: 32 });
  const jr = preset.jumpRelu;
  if (opts.recipe !== 'bench' || !jr) return { ...preset, initRows: 4096 };
  const eps = jr.bandwidthStart !== undefined ? jr.bandwidthStart * Math.pow(jr.bandwidth / jr.bandwidthStart, 0.8) : jr.bandwidth;
  return { ...preset, initRows: 4096, jumpRelu: { ...jr, topKWarmupSteps: 0, bandwidth: eps, bandwidthStart: undefined, bandwidthDecaySteps: undefined } };
}

async function main(): Promise<void> {
  const [dIn, dSae] = opts.scale.split('x').map(Number);
  const batch = Number(opts.batch);
  const steps = Number(opts.steps);
  const rng = new Rng(123);
  const pool = Array.from({ length: 4 }, () => ({ data: Float32Array.from({ length: batch * dIn }, () => rng.normal()), rows: batch, cols: dIn }));
  const engine = createOrtDenseEngine({ intraOpThreads: Number(opts.threads) });
  const backends = [createFastBackend(engine, { sparseThreads: 1 }), createFastBackend(engine, { sparseThreads: 2 })];
  const load0 = loadavg()[0];
  console.log(`${opts.scale}, batch ${batch}, ${opts.recipe} recipe, ${steps} steps each, A = 1 sparse-kernel thread, B = 2; ${engine.name}`);
  console.log('arch        A wall ms   B wall ms   change   A CPU ms   B CPU ms   change   B faster   same losses');
  try {
    const archs = opts.archs.split(',');
    const unknown = archs.filter((a) => !(SAE_ARCHITECTURES as readonly string[]).includes(a));
    // Matryoshka is a BatchTopK preset, not an architecture: its steps are BatchTopK's.
    if (unknown.length) throw new Error(`--archs takes architectures (${SAE_ARCHITECTURES.join(', ')}), not ${unknown.join(', ')}`);
    for (const arch of archs as SaeArchitecture[]) {
      const config = configFor(arch, dSae, batch);
      const sources = backends.map(() => new PoolSource(dIn, pool));
      const trainers = await Promise.all(backends.map((b, i) => SaeTrainer.create(config, sources[i], b)));
      trainers.forEach((t, i) => t.trainStep(sources[i].nextBatch())); // warm-up: sessions built, code compiled
      const wall: number[][] = [[], []];
      const cpu: number[][] = [[], []];
      const results: string[][] = [[], []];
      for (let s = 0; s < steps; s++) {
        for (const i of s % 2 === 0 ? [0, 1] : [1, 0]) {
          const c0 = process.cpuUsage();
          const t0 = performance.now();
          const m = trainers[i].trainStep(sources[i].nextBatch());
          wall[i].push(performance.now() - t0);
          const c = process.cpuUsage(c0);
          cpu[i].push((c.user + c.system) / 1000);
          results[i].push(`${m?.loss} ${m?.l0}`);
        }
      }
      const wins = wall[1].filter((b, s) => b < wall[0][s]).length;
      const same = results[0].every((r, s) => r === results[1][s]);
      const pct = (a: number, b: number): string => `${b >= a ? '+' : ''}${((100 * (b - a)) / a).toFixed(1)} %`;
      const [wa, wb, ca, cb] = [median(wall[0]), median(wall[1]), median(cpu[0]), median(cpu[1])];
      console.log(
        `${arch.padEnd(10)} ${wa.toFixed(0).padStart(10)} ${wb.toFixed(0).padStart(11)} ${pct(wa, wb).padStart(8)} ${ca.toFixed(0).padStart(10)} ${cb.toFixed(0).padStart(10)} ${pct(ca, cb).padStart(8)} ${`${wins}/${steps}`.padStart(10)}   ${same ? 'yes' : 'NO'}`,
      );
      if (!same) process.exitCode = 1;
    }
  } finally {
    for (const b of backends) b.dispose();
    engine.dispose();
  }
  console.log(`load average ${load0.toFixed(1)} → ${loadavg()[0].toFixed(1)} (1 min)`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
