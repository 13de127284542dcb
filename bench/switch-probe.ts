// The TopK → JumpReLU switch of the default JumpReLU on the project's toy (docs/training.md §4e): trains the
// TopK warm start once (cached in --cache), then, from that same state, (1) measures each switch rule on a
// fresh batch (L0, FVU, how many of TopK's selections the thresholds keep and how many firings they add, the
// per-latent firing rates, co-firing of latents whose decoder rows are near-duplicates) and (2) trains each
// variant to the end and scores it as bench/synthetic-recovery.ts does.
//
//   npx tsx bench/switch-probe.ts [--d-sae 512] [--seed 7] [--tokens 2000000] [--cache DIR]
//       [--variants 'name={"jumpRelu":{...}};name2={...}']   (deep-merged into the default JumpReLU config)
//       [--base '{"jumpRelu":{"topKWarmupSteps":1172}}']       (merged before the warm start)
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deserialize, serialize } from 'node:v8';
import { presetConfig } from '../src/core/train/presets';
import { SyntheticSource, dictionaryRecovery } from '../src/core/train/syntheticData';
import { drive, startTrainer, trainToEnd } from '../src/core/train/driver';
import type { TrainerState } from '../src/core/train/trainer';
import type { TrainConfig } from '../src/core/train/config';
import { TOY_SPEC, heldOutScore } from './syntheticToy';
import { saeFromWeights } from '../src/core/sae/create';
import { ReconstructionAccumulator } from '../src/core/metrics/reconstruction';
import { chooseBackend, parseBackendChoice } from '../src/core/train/backendChoice';
import { JumpReluSae, type SwitchThresholdRule } from '../src/core/sae/jumprelu';
import type { Matrix, SparseRows } from '../src/core/tensor';
import { deepMerge } from './deepMerge';

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : fallback;
}

const dSae = Number(flag('d-sae', '512'));
const seed = Number(flag('seed', '7'));
const tokens = Number(flag('tokens', '2000000'));
const cacheDir = flag('cache', '/tmp/switch-probe');
const variants: [string, unknown][] = flag('variants', 'quantile={}')
  .split(';')
  .filter((v) => v.trim())
  .map((v) => {
    const at = v.indexOf('=');
    return [v.slice(0, at), JSON.parse(v.slice(at + 1)) as unknown];
  });
const chosen = chooseBackend(parseBackendChoice(flag('backend', 'fast')));
const spec = TOY_SPEC;
const truth = new SyntheticSource(spec);
const trueL0 = truth.expectedL0;
// --base: merged into the default before the warm start (e.g. another switch point); part of the cache key.
const baseJson = flag('base', '{}');
const baseConfig = deepMerge(presetConfig({ architecture: 'jumprelu', targetL0: trueL0, dSae, totalTokens: tokens, seed }), JSON.parse(baseJson) as unknown);
const warm = baseConfig.jumpRelu?.topKWarmupSteps ?? 0;
const k = Math.max(1, Math.round(trueL0));


async function warmState(): Promise<TrainerState> {
  mkdirSync(cacheDir, { recursive: true });
  const key = baseJson === '{}' ? '' : `-${Buffer.from(baseJson).toString('base64url')}`;
  const file = join(cacheDir, `warm-${dSae}-${seed}-${tokens}${key}.v8`);
  if (existsSync(file)) return deserialize(readFileSync(file)) as TrainerState;
  const source = new SyntheticSource(spec);
  const trainer = await startTrainer(baseConfig, source, { backend: chosen.backend });
  await trainToEnd(drive(trainer, source, undefined, { maxSteps: warm, progressIntervalMs: 30_000 }), (p) =>
    process.stderr.write(`  warm start step ${p.step}/${p.totalSteps} L0 ${p.l0.toFixed(2)} FVU ${p.fvu.toFixed(4)}\n`),
  );
  const state = trainer.getState(source);
  writeFileSync(file, serialize(state));
  return state;
}

/** Row r's active latents as a set of `r·dSae + j`. */
function entries(f: SparseRows): Set<number> {
  const out = new Set<number>();
  for (let r = 0; r < f.rows; r++) for (let e = f.rowPtr[r]; e < f.rowPtr[r + 1]; e++) out.add(r * dSae + f.colIdx[e]);
  return out;
}

function fvuOf(x: Matrix, xHat: Matrix): number {
  const acc = new ReconstructionAccumulator(x.cols);
  acc.add(x, xHat);
  return acc.fvu();
}

/** Latent pairs whose unit decoder rows have cosine > `c`. */
function nearDuplicatePairs(wDec: Float32Array, dIn: number, c: number): [number, number][] {
  const out: [number, number][] = [];
  for (let a = 0; a < dSae; a++) {
    for (let b = a + 1; b < dSae; b++) {
      let s = 0;
      for (let i = 0; i < dIn; i++) s += wDec[a * dIn + i] * wDec[b * dIn + i];
      if (s > c) out.push([a, b]);
    }
  }
  return out;
}

function coFiring(set: Set<number>, rows: number, pairs: [number, number][]): number {
  let n = 0;
  for (let r = 0; r < rows; r++) for (const [a, b] of pairs) if (set.has(r * dSae + a) && set.has(r * dSae + b)) n++;
  return n;
}

async function main(): Promise<void> {
  process.stderr.write(`switch-probe: d_sae ${dSae}, seed ${seed}, ${tokens} tokens, warm start ${warm} steps, k ${k}\n`);
  const state = await warmState();
  const switchBatchSource = new SyntheticSource(spec);
  if (state.source !== undefined) switchBatchSource.setState?.(state.source);
  const scale = state.inputScale;
  const raw = await switchBatchSource.nextBatch(baseConfig.batchSize); // the batch the switch sets θ on
  const fresh = await switchBatchSource.nextBatch(4096); // measured on rows θ was not set on
  const scaled = (m: Matrix): Matrix => ({ ...m, data: m.data.map((v) => v / scale) });
  const x = scaled(raw);
  const y = scaled(fresh);

  // (1) The switch itself, per rule, on `fresh`.
  const probe = await startTrainer(baseConfig, new SyntheticSource(spec), { backend: chosen.backend, resume: state });
  const model = probe.model as JumpReluSae;
  const m = model as unknown as { encoderTopK(xin: Matrix, b: Float32Array, k: number): SparseRows; encoderInput(x: Matrix): Matrix };
  const bEnc = model.params.get('b_enc') as Float32Array;
  const topk = m.encoderTopK(m.encoderInput(y), bEnc, k);
  const topSet = entries(topk);
  const wDec = model.params.get('W_dec') as Float32Array;
  const dup = nearDuplicatePairs(wDec, spec.dIn, 0.8);
  const rateOf = (f: SparseRows): Float64Array => {
    const c = new Float64Array(dSae);
    for (let e = 0; e < f.colIdx.length; e++) c[f.colIdx[e]]++;
    return c.map((v) => v / f.rows);
  };
  const topRate = rateOf(topk);
  const warmRec = dictionaryRecovery(wDec, dSae, truth.dictionary, spec.nFeatures, spec.dIn, 0.9);
  process.stderr.write(`near-duplicate decoder pairs (cos > 0.8): ${dup.length}\n`);
  const switchRows = [
    `| TopK k ${k} (warm start's rule) | ${(topSet.size / y.rows).toFixed(2)} | ${fvuOf(y, model.decode(topk)).toFixed(4)} | 1 | 0 | – | ${coFiring(topSet, y.rows, dup)} |`,
  ];
  const theta0 = model.threshold().slice();
  for (const rule of ['quantile', 'topkAgreement'] as SwitchThresholdRule[]) {
    model.thresholdFromWarmup(x, k, false, rule);
    const f = model.encode(y);
    const set = entries(f);
    let kept = 0;
    for (const e of set) if (topSet.has(e)) kept++;
    const rate = rateOf(f);
    let absDiff = 0;
    for (let j = 0; j < dSae; j++) absDiff += Math.abs(rate[j] - topRate[j]);
    switchRows.push(
      `| JumpReLU, θ by ${rule} | ${(set.size / y.rows).toFixed(2)} | ${fvuOf(y, model.decode(f)).toFixed(4)} | ${(kept / topSet.size).toFixed(3)} | ${((set.size - kept) / y.rows).toFixed(2)} | ${(absDiff / dSae / (topSet.size / y.rows / dSae)).toFixed(3)} | ${coFiring(set, y.rows, dup)} |`,
    );
  }
  model.params.get('threshold')?.set(theta0);

  // (2) Each variant trained from the same warm-start state to the end.
  const results: string[] = [];
  for (const [name, over] of variants) {
    const config = deepMerge<TrainConfig>(baseConfig, over);
    const source = new SyntheticSource(spec);
    const trainer = await startTrainer(config, source, { backend: chosen.backend, resume: { ...state, config } });
    const t0 = performance.now();
    const trace: string[] = [];
    await trainToEnd(drive(trainer, source, undefined, { progressIntervalMs: 0 }), (p) => {
      const since = p.step - warm;
      if ([1, 2, 5, 10, 20, 50, 100, 200].includes(since)) trace.push(`${since}: ${p.l0.toFixed(2)}/${p.fvu.toFixed(3)}`);
    });
    const weights = trainer.exportWeights();
    const sae = saeFromWeights(weights, chosen.backend);
    const score = heldOutScore(sae, dSae, spec);
    const wd = weights.tensors.get('W_dec');
    if (!wd) throw new Error('no W_dec');
    const rec = dictionaryRecovery(wd.data, dSae, truth.dictionary, spec.nFeatures, spec.dIn, 0.9);
    const row =
      `| ${name} | ${score.l0.toFixed(2)} | ${score.fvu.toFixed(4)} | ${rec.meanMaxCos.toFixed(4)} | ${rec.fractionAbove.toFixed(4)} | ` +
      `${score.dead} | ${score.dense} | ${trace.join(', ')} | ${Math.round((performance.now() - t0) / 1000)} |`;
    process.stderr.write(`${row}\n`);
    results.push(row);
  }

  console.log(`d_sae ${dSae}, seed ${seed}, ${tokens} tokens, switch after ${warm} of ${Math.ceil(tokens / baseConfig.batchSize)} steps, k ${k}, true L0 ${trueL0.toFixed(2)}`);
  console.log(
    `At the switch, on ${y.rows} fresh rows (θ set on the switch batch of ${x.rows}); near-duplicate pairs (decoder cos > 0.8): ${dup.length}; ` +
      `the warm start's decoder: MMCS ${warmRec.meanMaxCos.toFixed(4)}, rec@0.9 ${warmRec.fractionAbove.toFixed(4)}`,
  );
  console.log('| rule | L0 | FVU | TopK selections kept | firings added /row | Σ|rate − TopK rate| / Σ rate | co-firing near-duplicate pairs |');
  console.log('|---|---:|---:|---:|---:|---:|---:|');
  for (const r of switchRows) console.log(r);
  console.log('\n| variant | L0 | FVU | MMCS | rec@0.9 | dead | dense | steps after switch: L0/FVU | s |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---|---:|');
  for (const r of results) console.log(r);
  chosen.dispose();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
