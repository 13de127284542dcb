// Screens a recipe variant (of the default JumpReLU unless --arch/--preset say otherwise) on real
// activations: trains presetConfig's recipe on a training .npy with a JSON override deep-merged into its config (none = the default as it
// is), then evaluates it on a held-out .npy (L0, FVU, dead = never firing on those rows, dense = firing on
// > 10 % of them). The CLI's `train --acts` / `eval --acts` do the same for the default itself; this adds
// the override, so a candidate is compared with the default at the same budget and seed before it becomes
// the default (docs/training.md §4e).
//
//   npx tsx bench/acts-screen.ts --train train.npy --heldout heldout.npy [--d-sae 2048] [--target-l0 32]
//       [--tokens 2000000] [--seed 0] [--name label] [--json '{"jumpRelu":{...}}']
//       [--arch batchtopk --preset matryoshka --k 32]   (Matryoshka rows add per-group slots/token and dead)
import { presetConfig } from '../src/core/train/presets';
import { drive, startTrainer, trainToEnd } from '../src/core/train/driver';
import type { TrainConfig } from '../src/core/train/config';
import { openNpySource } from '../src/core/store/sources';
import { evaluateOnActivations } from '../src/core/store/evaluateSae';
import { saeFromWeights } from '../src/core/sae/create';
import { chooseBackend, parseBackendChoice } from '../src/core/train/backendChoice';
import { deepMerge } from './deepMerge';
import type { SaeArchitecture } from '../src/core/sae/weights';
import type { PresetName } from '../src/core/train/presets';
import type { Matrix } from '../src/core/tensor';

function flag(name: string, fallback?: string): string {
  const i = process.argv.indexOf(`--${name}`);
  const v = i > 0 ? process.argv[i + 1] : undefined;
  if (v !== undefined) return v;
  if (fallback === undefined) throw new Error(`--${name} is required`);
  return fallback;
}


async function main(): Promise<void> {
  const dSae = Number(flag('d-sae', '2048'));
  const targetL0 = Number(flag('target-l0', '32'));
  const tokens = Number(flag('tokens', '2000000'));
  const seed = Number(flag('seed', '0'));
  const name = flag('name', 'default');
  const architecture = flag('arch', 'jumprelu') as SaeArchitecture;
  const preset = flag('preset', 'default') as PresetName;
  const k = Number(flag('k', String(targetL0)));
  const base = presetConfig({ architecture, preset, dSae, targetL0, k, totalTokens: tokens, seed });
  const config = deepMerge<TrainConfig>(base, JSON.parse(flag('json', '{}')) as unknown);
  const chosen = chooseBackend(parseBackendChoice(flag('backend', 'fast')));
  const source = openNpySource(flag('train'), { seed });
  const t0 = performance.now();
  const trainer = await startTrainer(config, source, { backend: chosen.backend });
  const warm = config.jumpRelu?.topKWarmupSteps ?? -1;
  const trace: string[] = [];
  let maxFvu = { fvu: 0, step: 0 };
  let sumFvu = 0;
  let nFvu = 0;
  await trainToEnd(drive(trainer, source, undefined, { progressIntervalMs: 0 }), (p) => {
    const since = p.step - warm;
    if ([0, 1, 2, 5, 10, 20, 50, 100, 200, 400].includes(since)) trace.push(`${since}: ${p.l0.toFixed(1)}/${p.fvu.toFixed(3)}/${(100 * p.deadFraction).toFixed(0)}%`);
    if (p.step % 200 === 0) process.stderr.write(`  ${name} step ${p.step}/${p.totalSteps} L0 ${p.l0.toFixed(2)} FVU ${p.fvu.toFixed(4)} dead ${p.deadFraction.toFixed(3)} aux ${p.auxLoss.toFixed(4)}\n`);
    if (p.step > p.totalSteps / 10 && p.fvu > maxFvu.fvu) maxFvu = { fvu: p.fvu, step: p.step };
    sumFvu += p.fvu;
    nFvu++;
  });
  source.close();
  const seconds = (performance.now() - t0) / 1000;
  const sae = saeFromWeights(trainer.exportWeights(), chosen.backend);
  const held = openNpySource(flag('heldout'), { shuffle: false });
  // Per-latent firing counts on the held-out rows (for the Matryoshka groups).
  const counts = new Float64Array(dSae);
  const counted = {
    config: sae.config,
    forward: (x: Matrix) => {
      const out = sae.forward(x);
      for (let e = 0; e < out.features.colIdx.length; e++) if (out.features.values[e] > 0) counts[out.features.colIdx[e]]++;
      return out;
    },
  };
  const e = evaluateOnActivations(counted, held, held.rows);
  held.close();
  const widths = config.topK?.matryoshkaWidths;
  const groups = widths
    ? widths.map((w, g) => {
        let slots = 0;
        let dead = 0;
        for (let j = g === 0 ? 0 : widths[g - 1]; j < w; j++) {
          slots += counts[j];
          if (counts[j] === 0) dead++;
        }
        return { width: w, slotsPerToken: +(slots / e.tokens).toFixed(2), dead };
      })
    : undefined;
  const row = {
    name,
    recipe: config.recipe,
    tokens,
    seed,
    evalTokens: e.tokens,
    l0: +e.l0.toFixed(2),
    fvu: +e.fvu.toFixed(4),
    dead: e.deadFeatures,
    dense: e.denseFeatures,
    ...(config.jumpRelu?.topKWarmupSteps ? { afterSwitch: trace.join(', ') } : {}),
    meanBatchFvu: +(sumFvu / Math.max(1, nFvu)).toFixed(4),
    maxBatchFvu: { fvu: +maxFvu.fvu.toFixed(4), step: maxFvu.step },
    ...(groups ? { groups } : {}),
    trainSeconds: Math.round(seconds),
  };
  console.log(JSON.stringify(row));
  chosen.dispose();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
