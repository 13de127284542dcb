// Where one SAE training step's time goes on the fast backend: a V8 CPU profile of N steps only (model
// creation and the threshold initialisation are left out), summed per function, inclusive and self.
//   npx tsx bench/step-profile.ts [--scale 512x8192] [--arch jumprelu] [--batch 4096] [--steps 4]
//                                 [--recipe bench|default] [--threads 2] [--sparse-threads auto|1|2] [--sparse-kernels wasm|js]
//                                 [--top 25]
// --recipe bench times the steps bench/train.ts times (JumpReLU without its TopK warm start, at the STE
// window of 80 % into the default run); --recipe default runs the default recipe from step 0 (for
// JumpReLU: the TopK warm start, which is 80 % of a default run's steps).
import { Session } from 'node:inspector';
import { parseArgs } from 'node:util';
import { createOrtDenseEngine } from '../src/core/runtime/ortDenseEngine';
import { createFastBackend } from '../src/core/tensor';
import { presetConfig } from '../src/core/train/presets';
import { parseSparseThreads, sparseThreadsFor } from '../src/core/train/sparseThreads';
import { SaeTrainer } from '../src/core/train/trainer';
import { PoolSource } from './poolSource';
import type { SaeArchitecture } from '../src/core/sae/weights';
import { Rng } from '../src/core/util/rng';

const { values: opts } = parseArgs({
  options: {
    scale: { type: 'string', default: '512x8192' },
    arch: { type: 'string', default: 'jumprelu' },
    batch: { type: 'string', default: '4096' },
    steps: { type: 'string', default: '4' },
    recipe: { type: 'string', default: 'bench' },
    threads: { type: 'string', default: '2' },
    'sparse-threads': { type: 'string', default: 'auto' },
    'sparse-kernels': { type: 'string', default: 'wasm' },
    top: { type: 'string', default: '25' },
  },
});

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

function post<T>(session: Session, method: string): Promise<T> {
  return new Promise((resolve, reject) => session.post(method, (err, res) => (err ? reject(err) : resolve(res as T))));
}

function summarise(p: Profile, top: number): void {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const label = (n: ProfileNode): string => `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.split('/').pop() ?? ''}`;
  const self = new Map<string, number>();
  const incl = new Map<string, number>();
  let total = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const dt = p.timeDeltas[i] ?? 0;
    total += dt;
    const leaf = byId.get(p.samples[i]);
    if (!leaf) continue;
    self.set(label(leaf), (self.get(label(leaf)) ?? 0) + dt);
    const seen = new Set<string>();
    for (let id: number | undefined = leaf.id; id !== undefined; id = parent.get(id)) {
      const node = byId.get(id);
      if (!node) break;
      const k = label(node);
      if (seen.has(k)) continue;
      seen.add(k);
      incl.set(k, (incl.get(k) ?? 0) + dt);
    }
  }
  const show = (title: string, m: Map<string, number>): void => {
    console.log(`\n${title} (ms over the profiled steps, % of ${(total / 1000).toFixed(0)} ms)`);
    for (const [k, t] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) {
      console.log(`${(t / 1000).toFixed(0).padStart(8)} ${((100 * t) / total).toFixed(1).padStart(5)}%  ${k}`);
    }
  };
  show('inclusive', incl);
  show('self', self);
}


async function main(): Promise<void> {
  const [dIn, dSae] = opts.scale.split('x').map(Number);
  const batch = Number(opts.batch);
  const steps = Number(opts.steps);
  const arch = opts.arch as SaeArchitecture;
  const rng = new Rng(123);
  const pool = Array.from({ length: 4 }, () => ({ data: Float32Array.from({ length: batch * dIn }, () => rng.normal()), rows: batch, cols: dIn }));
  const engine = createOrtDenseEngine({ intraOpThreads: Number(opts.threads) });
  const sparseThreads = sparseThreadsFor(parseSparseThreads(opts['sparse-threads']), arch);
  const backend = createFastBackend(engine, { sparseThreads, sparseKernels: opts['sparse-kernels'] === 'js' ? 'js' : 'wasm' });
  const preset = presetConfig({ architecture: arch, dSae, totalTokens: 1e9, batchSize: batch, k: 32, targetL0: 32 });
  const jr = preset.jumpRelu;
  const eps = jr && jr.bandwidthStart !== undefined ? jr.bandwidthStart * Math.pow(jr.bandwidth / jr.bandwidthStart, 0.8) : jr?.bandwidth;
  const config =
    opts.recipe === 'bench'
      ? { ...preset, initRows: 4096, ...(jr ? { jumpRelu: { ...jr, topKWarmupSteps: 0, bandwidth: eps ?? jr.bandwidth, bandwidthStart: undefined, bandwidthDecaySteps: undefined } } : {}) }
      : { ...preset, initRows: 4096 };
  const source = new PoolSource(dIn, pool);
  const trainer = await SaeTrainer.create(config, source, backend);
  trainer.trainStep(source.nextBatch()); // warm-up: sessions built, code compiled
  const session = new Session();
  session.connect();
  await post(session, 'Profiler.enable');
  await post(session, 'Profiler.start');
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  let l0 = 0;
  for (let i = 0; i < steps; i++) l0 = trainer.trainStep(source.nextBatch())?.l0 ?? Number.NaN;
  const ms = (performance.now() - t0) / steps;
  // Process CPU time (all threads): on a machine other jobs load, wall time mostly measures the waiting.
  const cpu = process.cpuUsage(c0);
  const cpuMs = (cpu.user + cpu.system) / 1000 / steps;
  const { profile } = await post<{ profile: Profile }>(session, 'Profiler.stop');
  session.disconnect();
  backend.dispose();
  engine.dispose();
  console.log(`${arch} ${dIn}/${dSae} batch ${batch} (${opts.recipe} recipe, ${backend.name}): ${ms.toFixed(0)} ms/step (${cpuMs.toFixed(0)} ms CPU) over ${steps} profiled steps, L0 ${l0.toFixed(1)}`);
  summarise(profile, Number(opts.top));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
