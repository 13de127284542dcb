#!/usr/bin/env node
// Trains, evaluates and bundles the SAEs shipped for models/tiny-lm, and writes their comparison table.
//
//   npm run build && node tools/train-bundled-sae.mjs            # every run below, one after the other
//   ONLY=topk,gated node tools/train-bundled-sae.mjs             # some of them
//
// Runs (name: what it trains):
//   jumprelu-0 … jumprelu-3   the default JumpReLU preset (target L0) at blocks.<i>.hook_resid_post; the
//                             one at SITE (blocks.1) is the bundled default, the others are per-layer SAEs
//   topk, gated, matryoshka   baselines at SITE: TopK (k), Gated (λ = GATED_L1), Matryoshka BatchTopK (k)
// Each run: activations of the LM's training split at its site are harvested once into
// WORK/<site>.train.npy (`feature-lens harvest`, context 256, position 0 of each window excluded, windows
// shuffled across documents); the SAE is trained on them with the fast backend (`feature-lens train
// --acts … --backend fast`, rows reshuffled every epoch, so TOKENS above the corpus's 5.4 M tokens is
// several passes); it is evaluated with `feature-lens eval` on EVAL_TOKENS of the held-out split through
// the model (same windows for every SAE of a site); its SAELens files are copied to BUNDLE_DIR:
//   <SITE>-jumprelu/                 the default (the extension loads it when no SAE is chosen)
//   layers/<site>-jumprelu/          the default preset at the other layers (loaded for that site)
//   baselines/<SITE>-<arch>/         TopK, Gated, Matryoshka
// An interrupted run resumes from its checkpoint; a finished run (metrics.json with a summary) is only
// evaluated and bundled again.
//
// Environment (defaults = the committed run): TOKENS [10000000] per SAE, LAYER_TOKENS [= TOKENS] for jumprelu-i at
// the other layers, D_SAE [2048], TARGET_L0 [32] (= k),
// GATED_L1 [0.085: L0 32.4 at 10 M tokens; 0.095 gave 28.9], EVAL_TOKENS [100300] (394 windows of 256: 100,470 positions), SITE [blocks.1.hook_resid_post], HARVEST_TOKENS [5400000],
// TRAIN_CORPUS / HELDOUT_CORPUS [tools/build-model/out/corpus/{train,heldout}.txt] (build them with
// `node tools/build-model/corpus.mjs`), WORK [tools/build-model/out/sae], BUNDLE_DIR [models/sae],
// ACTS_DIR [WORK]: a folder already holding <site>.train.npy files, NO_BUNDLE=1: train and evaluate only,
// ACCEPT_UNFINISHED: runs whose last checkpoint is taken as it is (a stopped run; its row says so).
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, linkSync, mkdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';

const root = resolve(new URL('..', import.meta.url).pathname);
const env = (k, d) => process.env[k] ?? d;
const SITE = env('SITE', 'blocks.1.hook_resid_post');
const D_SAE = Number(env('D_SAE', '2048'));
const TARGET_L0 = Number(env('TARGET_L0', '32'));
const TOKENS = Number(env('TOKENS', '10000000'));
// The default preset at the layers other than SITE (as many tokens as the rest unless told otherwise).
const LAYER_TOKENS = Number(env('LAYER_TOKENS', String(TOKENS)));
const GATED_L1 = Number(env('GATED_L1', '0.085'));
const EVAL_TOKENS = Number(env('EVAL_TOKENS', '100300'));
const HARVEST_TOKENS = Number(env('HARVEST_TOKENS', '5400000'));
const WORK = resolve(root, env('WORK', 'tools/build-model/out/sae'));
const ACTS_DIR = resolve(root, env('ACTS_DIR', WORK));
const BUNDLE = resolve(root, env('BUNDLE_DIR', 'models/sae'));
const MODEL = join(root, 'models/tiny-lm');
const CLI = join(root, 'dist/cli.js');
const trainFile = resolve(root, env('TRAIN_CORPUS', 'tools/build-model/out/corpus/train.txt'));
const heldoutFile = resolve(root, env('HELDOUT_CORPUS', 'tools/build-model/out/corpus/heldout.txt'));

const layerSite = (i) => `blocks.${i}.hook_resid_post`;
/** name → site, the CLI's training options, and where it is bundled. */
const RUNS = {
  ...Object.fromEntries(
    [0, 1, 2, 3].map((i) => [
      `jumprelu-${i}`,
      {
        site: layerSite(i), arch: 'jumprelu', options: ['--arch', 'jumprelu', '--target-l0', String(TARGET_L0)],
        ...(layerSite(i) === SITE ? { bundleAs: '.' } : { bundleAs: 'layers', tokens: LAYER_TOKENS }),
      },
    ]),
  ),
  topk: { site: SITE, arch: 'topk', options: ['--arch', 'topk', '--k', String(TARGET_L0)], bundleAs: 'baselines' },
  gated: { site: SITE, arch: 'gated', options: ['--arch', 'gated', '--l0-coeff', String(GATED_L1)], bundleAs: 'baselines' },
  matryoshka: { site: SITE, arch: 'matryoshka', options: ['--arch', 'batchtopk', '--preset', 'matryoshka', '--k', String(TARGET_L0)], bundleAs: 'baselines' },
};
// Runs whose last checkpoint is evaluated and bundled as it is, unfinished (when time runs out).
const ACCEPT_UNFINISHED = env('ACCEPT_UNFINISHED', '').split(',').filter(Boolean);
const ONLY = env('ONLY', Object.keys(RUNS).join(',')).split(',').filter(Boolean);
for (const name of ONLY) if (!RUNS[name]) throw new Error(`unknown run ${name} (one of ${Object.keys(RUNS).join(', ')})`);

const log = (s) => process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${s}\n`);
const readJson = (p) => JSON.parse(readFileSync(p, 'utf8'));

/** A folder holding just one file, so a corpus listing picks exactly that file. */
function corpusDirFor(file, name) {
  if (!existsSync(file)) throw new Error(`${file} is missing: run tools/build-model/corpus.mjs first`);
  file = realpathSync(file); // a link to a symlink would be skipped by the corpus listing
  const dir = join(WORK, name);
  const target = join(dir, basename(file));
  mkdirSync(dir, { recursive: true });
  if (!existsSync(target)) {
    try {
      linkSync(file, target);
    } catch {
      copyFileSync(file, target);
    }
  }
  return dir;
}

function cli(args, stdoutFile) {
  const out = execFileSync(process.execPath, [CLI, ...args], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, stdio: ['ignore', 'pipe', 'inherit'] });
  if (stdoutFile) writeFileSync(stdoutFile, out);
  return out;
}

function activations(site, trainCorpus) {
  const npy = join(ACTS_DIR, `${site}.train.npy`);
  if (existsSync(npy)) return npy;
  log(`harvesting ${HARVEST_TOKENS} training activations at ${site}`);
  const cache = join(WORK, 'activations');
  cli(['harvest', '--model', MODEL, '--site', site, '--corpus', trainCorpus, '--tokens', String(HARVEST_TOKENS), '--max-file-mb', '64', '--cache', cache, '--out', npy]);
  rmSync(cache, { recursive: true, force: true }); // the .npy is what training reads
  return npy;
}

function train(name, run, trainCorpus) {
  const out = join(WORK, `${run.site}-${run.arch}`);
  const metrics = join(out, 'metrics.json');
  if (existsSync(metrics) && readJson(metrics).summary) {
    log(`${name}: already trained, skipping`);
    return out;
  }
  if (ACCEPT_UNFINISHED.includes(name) && existsSync(join(out, 'trainer_state.json'))) {
    // Out of time: the last checkpoint as it is, before its lr decay (its tokens are in the row).
    log(`${name}: taking the unfinished checkpoint at step ${readJson(join(out, 'trainer_state.json')).step}`);
    return out;
  }
  if (existsSync(join(out, 'trainer_state.json'))) {
    log(`${name}: resuming ${out}`);
    cli(['train', '--resume', out, '--backend', 'fast']);
  } else {
    const tokens = run.tokens ?? TOKENS;
    log(`${name}: training ${run.options.join(' ')} on ${tokens} tokens`);
    cli(['train', '--acts', activations(run.site, trainCorpus), '--site', run.site, ...run.options, '--d-sae', String(D_SAE),
      '--tokens', String(tokens), '--backend', 'fast', '--checkpoint-every', '1000', '--out', out]);
  }
  return out;
}

function evaluate(name, dir, heldoutCorpus) {
  const file = `${dir}.eval.json`;
  if (existsSync(file) && readJson(file).evalTokensRequested === EVAL_TOKENS) return readJson(file);
  log(`${name}: evaluating on ${EVAL_TOKENS} held-out tokens`);
  const e = JSON.parse(cli(['eval', '--sae', dir, '--model', MODEL, '--corpus', heldoutCorpus, '--tokens', String(EVAL_TOKENS), '--max-file-mb', '64', '--json']));
  const result = { ...e, evalTokensRequested: EVAL_TOKENS };
  writeFileSync(file, JSON.stringify(result, null, 1) + '\n');
  return result;
}

function bundle(run, from, evaluation) {
  const to = run.bundleAs === '.' ? join(BUNDLE, `${run.site}-${run.arch}`) : join(BUNDLE, run.bundleAs, `${run.site}-${run.arch}`);
  // The feature index and labels of the default stay (tools/build-feature-index.mjs rebuilds them).
  for (const f of ['cfg.json', 'sae_weights.safetensors', 'sparsity.safetensors', 'metrics.json', 'eval.json']) rmSync(join(to, f), { force: true });
  mkdirSync(to, { recursive: true });
  for (const f of ['sae_weights.safetensors', 'sparsity.safetensors']) copyFileSync(join(from, f), join(to, f));
  // Paths in the shipped files are relative to the repository, not this machine.
  const cfg = readJson(join(from, 'cfg.json'));
  cfg.metadata.dataset_path = relative(root, trainFile);
  // Trained from a .npy, the run does not know where the rows came from: the harvest's model and context.
  cfg.metadata.model_name ??= 'tiny-lm';
  cfg.metadata.context_size ??= 256;
  writeFileSync(join(to, 'cfg.json'), JSON.stringify(cfg, null, 2) + '\n');
  const metrics = readJson(join(from, 'metrics.json'));
  if (metrics.summary) metrics.summary.out = relative(root, to);
  writeFileSync(join(to, 'metrics.json'), JSON.stringify(metrics) + '\n');
  const { sae: _s, evalTokensRequested: _r, ...rest } = evaluation;
  writeFileSync(join(to, 'eval.json'), JSON.stringify(rest, null, 1) + '\n');
  return relative(BUNDLE, to);
}

function main() {
  mkdirSync(WORK, { recursive: true });
  const trainCorpus = corpusDirFor(trainFile, 'corpus-train');
  const heldoutCorpus = corpusDirFor(heldoutFile, 'corpus-heldout');
  const rows = [];
  for (const name of ONLY) {
    const run = RUNS[name];
    const dir = train(name, run, trainCorpus);
    const e = evaluate(name, dir, heldoutCorpus);
    const summary = readJson(join(dir, 'metrics.json')).summary;
    const state = summary ? undefined : readJson(join(dir, 'trainer_state.json'));
    const folder = process.env.NO_BUNDLE === '1' ? undefined : bundle(run, dir, e);
    rows.push({
      run: name, site: run.site, arch: run.arch, recipe: readJson(join(dir, 'cfg.json')).feature_lens?.extra?.training_recipe, ...(folder ? { folder } : {}),
      ...(summary
        ? { tokens: summary.tokens, trainSeconds: summary.seconds }
        : { tokens: state.tokensSeen, unfinished: `step ${state.step} of ${Math.ceil(state.config.totalTokens / state.config.batchSize)}, before the lr decay` }),
      l0: e.l0, fvu: e.fvu, mse: e.mse, dead: e.deadFeatures, dense: e.denseFeatures,
      evalPositions: e.tokens, ...e.lm,
    });
    log(`${name}: L0 ${e.l0.toFixed(1)} FVU ${e.fvu.toFixed(4)} ΔLM ${e.lm.deltaLoss.toFixed(4)} dead ${e.deadFeatures} dense ${e.denseFeatures}`);
  }
  const table = [
    '| run | site | tokens | L0 | FVU | ΔLM loss (nats) | loss recovered | KL | dead | dense |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.run} | ${r.site} | ${(r.tokens / 1e6).toFixed(1)} M | ${r.l0.toFixed(1)} | ${r.fvu.toFixed(4)} | ${r.deltaLoss.toFixed(4)} | ${(100 * r.lossRecovered).toFixed(2)} % | ${r.klCleanSpliced.toFixed(4)} | ${r.dead} | ${r.dense} |`),
  ].join('\n');
  if (process.env.NO_BUNDLE !== '1') {
    // Rows of runs not redone this time stay (each row names its own tokens and evaluation).
    const path = join(BUNDLE, 'comparison.json');
    const previous = existsSync(path) ? readJson(path) : undefined;
    const kept = (previous?.rows ?? []).filter((r) => r.run && !rows.some((n) => n.run === r.run));
    const byName = Object.keys(RUNS);
    const rank = (r) => (byName.includes(r.run) ? byName.indexOf(r.run) : byName.length); // extra rows last
    const all = [...rows, ...kept].sort((a, b) => rank(a) - rank(b));
    writeFileSync(path, JSON.stringify({
      model: 'tiny-lm', dSae: D_SAE, targetL0: TARGET_L0, gatedL1: GATED_L1, evalTokens: EVAL_TOKENS,
      trainCorpus: relative(root, trainFile), heldoutCorpus: relative(root, heldoutFile),
      date: new Date().toISOString().slice(0, 10), rows: all,
    }, null, 1) + '\n');
  }
  process.stdout.write(`${table}\n`);
}

main();
