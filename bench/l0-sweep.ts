// L0 sweep on a real model: SAEs of several architectures and sparsities trained on the same harvested
// activations with the fast backend, each evaluated on the same held-out windows of a corpus spliced
// into the model (L0, FVU, ΔLM loss, KL, dead, dense). The paper's main figure (L0 vs FVU / vs ΔLM loss)
// at small scale; also the harness of the recipe A/B runs in docs/training.md.
//
//   npx tsx bench/l0-sweep.ts --acts train.npy --model models/tiny-lm --heldout <corpus dir>
//       [--site blocks.1.hook_resid_post] [--tokens 1000000] [--d-sae 2048] [--eval-tokens 32768]
//       [--runs topk@16,topk@32,jumprelu@32,gated~0.15,...] [--<run>-json '{"jumpRelu":{…}}']
//       [--out results.json] [--save-dir dir]
//
// A run is arch@L0 (topk, batchtopk, matryoshka: k = L0; jumprelu: the default preset's target L0) or
// arch~λ (gated, relu, anthropic, paper-scaled: λ), optionally with a ":label" suffix naming a variant whose
// config is deep-merged with --<run>-json (null deletes a key). The table goes to stdout, the rows (with
// everything measured) to --out as JSON, which is the data for the plot. --save-dir keeps each SAE as a
// SAELens folder. Activations: `feature-lens harvest --model … --site … --corpus … --out train.npy`.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { presetConfig, type PresetRequest } from '../src/core/train/presets';
import { train, trainToEnd } from '../src/core/train/driver';
import { chooseBackend } from '../src/core/train/backendChoice';
import { saeFromWeights } from '../src/core/sae/create';
import { openNpySource } from '../src/core/store/sources';
import { loadModel } from '../src/core/runtime/model';
import { corpusEvalWindows } from '../src/core/store/evalWindows';
import { evaluateOnModel } from '../src/core/store/evaluateSae';
import { writeSaeLensFolder } from '../src/core/checkpoints/saelens';
import type { TrainConfig } from '../src/core/train/config';
import type { SaeArchitecture } from '../src/core/sae/weights';
import { flag, required } from './cliFlags';
import { deepMerge } from './deepMerge';


const acts = required('acts');
const modelPath = required('model');
const heldout = required('heldout');
const site = flag('site', 'blocks.1.hook_resid_post') as string;
const tokens = Number(flag('tokens', '1000000'));
const dSae = Number(flag('d-sae', '2048'));
const evalTokens = Number(flag('eval-tokens', '32768'));
const runs = (flag('runs', 'topk@16,topk@32,topk@64,jumprelu@16,jumprelu@32,jumprelu@64') as string).split(',');
const out = flag('out');
const saveDir = flag('save-dir');
const seed = Number(flag('seed', '0'));


interface RunSpec {
  readonly name: string;
  readonly arch: string;
  readonly value: number;
}

function parseRun(run: string): RunSpec {
  const m = /^([a-z-]+)([@~])([0-9.e-]+)(:[\w.-]+)?$/.exec(run);
  if (!m) throw new Error(`bad run "${run}" (arch@L0 or arch~λ, optional :label)`);
  return { name: run, arch: m[1], value: Number(m[3]) };
}

function configFor(spec: RunSpec): TrainConfig {
  const common = { dSae, totalTokens: tokens, seed };
  const v = spec.value;
  const req: Record<string, PresetRequest> = {
    topk: { architecture: 'topk', k: Math.round(v), ...common },
    batchtopk: { architecture: 'batchtopk', k: Math.round(v), ...common },
    matryoshka: { architecture: 'batchtopk', preset: 'matryoshka', k: Math.round(v), ...common },
    jumprelu: { architecture: 'jumprelu', targetL0: v, ...common },
    anthropic: { architecture: 'jumprelu', preset: 'anthropic', l0Coeff: v, ...common },
    'paper-scaled': { architecture: 'jumprelu', preset: 'paper-scaled', l0Coeff: v, ...common },
    gated: { architecture: 'gated', l0Coeff: v, ...common },
    relu: { architecture: 'relu', l0Coeff: v, ...common },
  };
  const r = req[spec.arch];
  if (!r) throw new Error(`unknown architecture ${spec.arch}`);
  return deepMerge(presetConfig(r), JSON.parse(flag(`${spec.name}-json`, '{}') as string) as unknown);
}

async function main(): Promise<void> {
  const chosen = chooseBackend('fast');
  if (chosen.notice) process.stderr.write(`l0-sweep: ${chosen.notice}\n`);
  const lm = await loadModel(modelPath, { intraOpThreads: 2 });
  const windows = await corpusEvalWindows(lm, modelPath, heldout, { tokens: evalTokens, seed: 0, maxFileBytes: 64 * 1024 * 1024 });
  const rows: Record<string, unknown>[] = [];
  try {
    for (const run of runs) {
      const spec = parseRun(run);
      const config = configFor(spec);
      const source = openNpySource(acts, { seed });
      const t0 = performance.now();
      const switchStep = config.jumpRelu?.topKWarmupSteps ?? -1;
      const result = await trainToEnd(train(config, source, undefined, { backend: chosen.backend, progressIntervalMs: 30_000 }), (p) =>
        process.stderr.write(
          `  ${run} step ${p.step}/${p.totalSteps} L0 ${p.l0.toFixed(1)} FVU ${p.fvu.toFixed(4)} dead ${p.deadFraction.toFixed(3)} ${Math.round(p.tokensPerSecond)} tok/s\n`,
        ),
      );
      source.close();
      const trainSeconds = (performance.now() - t0) / 1000;
      let atSwitch: string | undefined;
      if (switchStep > 0) {
        const before = [...result.state.history].reverse().find((h) => h.step <= switchStep);
        const after = result.state.history.find((h) => h.step > switchStep);
        if (before && after) atSwitch = `L0 ${before.l0.toFixed(1)}→${after.l0.toFixed(1)}, FVU ${before.fvu.toFixed(3)}→${after.fvu.toFixed(3)}`;
      }
      if (saveDir) {
        const dir = join(saveDir, run.replace(/[^\w.@~-]/g, '_'));
        mkdirSync(dir, { recursive: true });
        await writeSaeLensFolder(dir, { ...result.weights, config: { ...result.weights.config, hookName: site } });
      }
      const sae = saeFromWeights(result.weights, chosen.backend);
      const e = await evaluateOnModel(sae, lm, site, windows);
      const row = {
        run,
        arch: spec.arch as SaeArchitecture | string,
        value: spec.value,
        l0: e.l0,
        fvu: e.fvu,
        deltaLoss: e.lm?.deltaLoss,
        kl: e.lm?.klCleanSpliced,
        lossRecovered: e.lm?.lossRecovered,
        dead: e.deadFeatures,
        dense: e.denseFeatures,
        evalTokens: e.tokens,
        trainDead: result.state.history.at(-1)?.deadFraction,
        trainTokens: tokens,
        trainSeconds: Math.round(trainSeconds),
        ...(atSwitch ? { atSwitch } : {}),
      };
      rows.push(row);
      process.stderr.write(`${JSON.stringify(row)}\n`);
      if (out) writeFileSync(out, JSON.stringify({ site, dSae, tokens, evalTokens, rows }, null, 1) + '\n');
    }
  } finally {
    await lm.dispose();
    chosen.dispose();
  }
  const f = (v: unknown, d: number) => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(d) : 'n/a');
  console.log(`${site}, d_sae ${dSae}, ${tokens} training tokens, ${evalTokens} held-out tokens`);
  console.log('| run | L0 | FVU | ΔLM loss | KL | dead | dense | train s |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    console.log(`| ${String(r.run)} | ${f(r.l0, 1)} | ${f(r.fvu, 4)} | ${f(r.deltaLoss, 4)} | ${f(r.kl, 4)} | ${String(r.dead)} | ${String(r.dense)} | ${String(r.trainSeconds)} |`);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
