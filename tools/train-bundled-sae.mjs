#!/usr/bin/env node
// Trains the bundled SAEs for models/tiny-lm and writes their comparison table.
//
//   npm run build && node tools/train-bundled-sae.mjs
//
// Three SAEs on the same site and the same harvested activations (one harvest, reused through the
// activation store's cache): the default JumpReLU preset at a target L0, TopK at the same L0 (k), and
// Gated with λ chosen for a similar L0 (see PARALLEL below). Each runs in dist/trainWorker.js (the
// worker the extension uses), checkpointing as it goes: run the script again after an interruption and
// every unfinished SAE resumes from its checkpoint, finished ones are skipped. Then every SAE is
// evaluated with `feature-lens eval` on the same held-out text and context, the SAELens files are copied
// to models/sae/<site>-jumprelu/ (the bundled default) and models/sae/baselines/<site>-{topk,gated}/,
// and the table is printed (and saved as models/sae/comparison.json).
//
// Environment (defaults = the committed run): PARALLEL [1], SITE [blocks.1.hook_resid_post], D_SAE [2048], TARGET_L0 [32],
// TOKENS training tokens per SAE [1000000], TOKENS_GATED [1000000], GATED_L1 [0.15], EVAL_TOKENS [32768],
// TRAIN_CORPUS / HELDOUT_CORPUS files [tools/build-model/out/corpus/{train,heldout}.txt],
// WORK [tools/build-model/out/sae], BUNDLE_DIR [models/sae], ONLY comma list of arches to run [jumprelu,topk,gated]
// (also: matryoshka = Matryoshka BatchTopK at k). A finished run in WORK (metrics.json with a summary) is
// not retrained, only evaluated and bundled again: copy a committed SAE folder there to re-evaluate it.
import { execFile, execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';

const root = resolve(new URL('..', import.meta.url).pathname);
const env = (k, d) => process.env[k] ?? d;
const SITE = env('SITE', 'blocks.1.hook_resid_post');
const D_SAE = Number(env('D_SAE', '2048'));
const TARGET_L0 = Number(env('TARGET_L0', '32'));
const TOKENS = Number(env('TOKENS', '1000000'));
const GATED_L1 = Number(env('GATED_L1', '0.15'));
// Gated trains ~3× slower per token than JumpReLU/TopK on this CPU path; it may get a smaller budget.
const TOKENS_GATED = Number(env('TOKENS_GATED', '1000000'));
const EVAL_TOKENS = Number(env('EVAL_TOKENS', '32768'));
const WORK = resolve(root, env('WORK', 'tools/build-model/out/sae'));
const MODEL = join(root, 'models/tiny-lm');
const BUNDLE = resolve(root, env('BUNDLE_DIR', 'models/sae'));
const ONLY = env('ONLY', 'jumprelu,topk,gated').split(',');
// PARALLEL=1 (default): harvest once, then train all three at once, TopK with k = TARGET_L0.
// PARALLEL=0: one after the other, TopK with k = the L0 the JumpReLU reached.
const PARALLEL = env('PARALLEL', '1') === '1';
const INIT_ROWS = 8192;
// ACCEPT_CHECKPOINT=gated: evaluate that SAE's last checkpoint instead of finishing its run.
const ACCEPT_CHECKPOINT = env('ACCEPT_CHECKPOINT', '').split(',').filter(Boolean); // the trainer presets' initRows: drawn before step 1
const trainFile = resolve(root, env('TRAIN_CORPUS', 'tools/build-model/out/corpus/train.txt'));
const heldoutFile = resolve(root, env('HELDOUT_CORPUS', 'tools/build-model/out/corpus/heldout.txt'));

const log = (s) => process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${s}\n`);

/** A folder holding just one file, so a corpus listing picks exactly that file. */
function corpusDirFor(file, name) {
  if (!existsSync(file)) throw new Error(`${file} is missing: run tools/build-model/corpus.mjs first`);
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

function runWorker(message) {
  return new Promise((resolveRun, reject) => {
    const worker = new Worker(join(root, 'dist/trainWorker.js'));
    let settled = false;
    worker.on('message', (m) => {
      if (m.type === 'progress') {
        const p = m;
        log(
          p.phase === 'harvest'
            ? `harvest ${p.tokens}/${p.totalTokens} (${Math.round(p.tokensPerSecond)} tok/s)`
            : `step ${p.step} tokens ${p.tokens}/${p.totalTokens} loss ${p.loss.toFixed(4)} FVU ${p.fvu.toFixed(3)} L0 ${p.l0.toFixed(1)} dead ${(100 * p.deadFraction).toFixed(1)}% ${Math.round(p.tokensPerSecond)} tok/s`,
        );
      } else if (m.type === 'log') log(m.message);
      else if (m.type === 'checkpoint-saved') log(`checkpoint at step ${m.step}`);
      else if (m.type === 'done' || m.type === 'error') {
        settled = true;
        void worker.terminate();
        if (m.type === 'done') resolveRun(m.summary);
        else reject(new Error(m.message));
      }
    });
    worker.on('exit', (code) => {
      if (!settled) reject(new Error(`training worker exited with code ${code}`));
    });
    worker.postMessage(message);
  });
}

function finishedSummary(outDir) {
  const path = join(outDir, 'metrics.json');
  if (!existsSync(path)) return undefined;
  return JSON.parse(readFileSync(path, 'utf8')).summary;
}

async function train(arch, sparsity, trainCorpus, tokens = TOKENS) {
  const outDir = join(WORK, `${SITE}-${arch}`);
  const done = finishedSummary(outDir);
  if (done) {
    log(`${arch}: already trained (L0 ${done.final.l0.toFixed(1)}), skipping`);
    return { ...done.final, tokens: done.tokens };
  }
  if (ACCEPT_CHECKPOINT.includes(arch) && existsSync(join(outDir, 'trainer_state.json'))) {
    // Out of time: take the last checkpoint as it is (its step and tokens are in cfg.json metadata).
    const state = JSON.parse(readFileSync(join(outDir, 'trainer_state.json'), 'utf8'));
    const records = JSON.parse(readFileSync(join(outDir, 'metrics.json'), 'utf8')).records;
    log(`${arch}: using the unfinished checkpoint at step ${state.step} (${state.tokensSeen} tokens)`);
    return { ...records[records.length - 1], partialTokens: state.tokensSeen };
  }
  const message = existsSync(join(outDir, 'trainer_state.json'))
    ? { type: 'resume', protocol: 1, checkpointDir: outDir }
    : {
        type: 'start',
        protocol: 1,
        job: {
          site: SITE,
          // Matryoshka is BatchTopK with the matryoshka preset (nested prefixes).
          arch: arch === 'matryoshka' ? 'batchtopk' : arch,
          ...(arch === 'matryoshka' ? { preset: 'matryoshka' } : {}),
          dSae: D_SAE,
          ...sparsity,
          tokens,
          data: { kind: 'corpus', modelPath: MODEL, corpusDir: trainCorpus, cacheDir: join(WORK, 'activations'), maxFileBytes: 64 * 1024 * 1024 },
          outDir,
          checkpointEvery: 200,
          seed: 0,
        },
      };
  log(`${arch}: ${message.type === 'resume' ? 'resuming' : 'training'} ${JSON.stringify(sparsity)}`);
  const summary = await runWorker(message);
  log(`${arch}: done in ${summary.seconds.toFixed(0)} s, L0 ${summary.final.l0.toFixed(1)}, FVU ${summary.final.fvu.toFixed(3)}`);
  return { ...summary.final, tokens: summary.tokens };
}

function evaluate(arch, heldoutCorpus) {
  const saeDir = join(WORK, `${SITE}-${arch}`);
  const args = [join(root, 'dist/cli.js'), 'eval', '--sae', saeDir, '--model', MODEL, '--corpus', heldoutCorpus, '--tokens', String(EVAL_TOKENS), '--max-file-mb', '64', '--json'];
  return new Promise((resolveEval, reject) => {
    execFile(process.execPath, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }, (err, stdout) => (err ? reject(err) : resolveEval(JSON.parse(stdout))));
  });
}

function bundle(arch, evaluation) {
  const from = join(WORK, `${SITE}-${arch}`);
  // The analysis session loads the first SAELens folder under models/ (two levels): only the default
  // JumpReLU sits directly in models/sae/; the baselines one level further down.
  const to = arch === 'jumprelu' ? join(BUNDLE, `${SITE}-${arch}`) : join(BUNDLE, 'baselines', `${SITE}-${arch}`);
  rmSync(to, { recursive: true, force: true });
  mkdirSync(to, { recursive: true });
  for (const f of ['sae_weights.safetensors', 'sparsity.safetensors', 'metrics.json']) copyFileSync(join(from, f), join(to, f));
  // Paths in the shipped cfg.json are relative to the repository, not this machine.
  const cfg = JSON.parse(readFileSync(join(from, 'cfg.json'), 'utf8'));
  cfg.metadata.dataset_path = relative(root, trainFile);
  writeFileSync(join(to, 'cfg.json'), JSON.stringify(cfg, null, 2) + '\n');
  const { densityHistogram, sae: _s, ...rest } = evaluation;
  writeFileSync(join(to, 'eval.json'), JSON.stringify({ ...rest, densityHistogram }, null, 1) + '\n');
}

async function main() {
  mkdirSync(WORK, { recursive: true });
  const trainCorpus = corpusDirFor(trainFile, 'corpus-train');
  const heldoutCorpus = corpusDirFor(heldoutFile, 'corpus-heldout');
  const started = Date.now();
  const finals = {};
  let k = TARGET_L0;
  if (PARALLEL) {
    // Harvest once up front (same cache key as the jobs: model, site, corpus, context, seed 0), then
    // train the three at once: one JS thread each, so two cores are both busy.
    log('harvesting the training activations once');
    execFileSync(
      process.execPath,
      [join(root, 'dist/cli.js'), 'harvest', '--model', MODEL, '--site', SITE, '--corpus', trainCorpus, '--tokens', String(TOKENS + INIT_ROWS),
        '--cache', join(WORK, 'activations'), '--max-file-mb', '64', '--out', join(WORK, 'train-acts.npy')],
      { stdio: ['ignore', 'inherit', 'inherit'] },
    );
    const jobs = [];
    if (ONLY.includes('jumprelu')) jobs.push(train('jumprelu', { targetL0: TARGET_L0 }, trainCorpus).then((f) => (finals.jumprelu = f)));
    if (ONLY.includes('topk')) jobs.push(train('topk', { k }, trainCorpus).then((f) => (finals.topk = f)));
    if (ONLY.includes('gated')) jobs.push(train('gated', { l0Coeff: GATED_L1 }, trainCorpus, TOKENS_GATED).then((f) => (finals.gated = f)));
    if (ONLY.includes('matryoshka')) jobs.push(train('matryoshka', { k }, trainCorpus).then((f) => (finals.matryoshka = f)));
    await Promise.all(jobs);
  } else {
    if (ONLY.includes('jumprelu')) finals.jumprelu = await train('jumprelu', { targetL0: TARGET_L0 }, trainCorpus);
    k = Math.max(1, Math.round(finals.jumprelu?.l0 ?? TARGET_L0));
    if (ONLY.includes('topk')) finals.topk = await train('topk', { k }, trainCorpus);
    if (ONLY.includes('gated')) finals.gated = await train('gated', { l0Coeff: GATED_L1 }, trainCorpus, TOKENS_GATED);
    if (ONLY.includes('matryoshka')) finals.matryoshka = await train('matryoshka', { k }, trainCorpus);
  }
  log(`training wall-clock ${(Date.now() - started) / 1000} s`);
  const ordered = {};
  for (const a of ['jumprelu', 'topk', 'gated', 'matryoshka']) if (finals[a]) ordered[a] = finals[a];

  // Same held-out windows (same corpus, seed and context) for every SAE; evaluated side by side.
  log(`evaluating ${Object.keys(ordered).join(', ')} on ${EVAL_TOKENS} held-out tokens`);
  const evals = await Promise.all(Object.keys(ordered).map((arch) => evaluate(arch, heldoutCorpus)));
  const rows = [];
  Object.keys(ordered).forEach((arch, i) => {
    const e = evals[i];
    bundle(arch, e);
    rows.push({ arch, l0: e.l0, fvu: e.fvu, mse: e.mse, dead: e.deadFeatures, dense: e.denseFeatures, ...e.lm });
  });
  const table = [
    '| SAE | L0 | FVU | ΔLM loss (nats) | loss recovered | KL | dead | dense |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map(
      (r) =>
        `| ${r.arch} | ${r.l0.toFixed(1)} | ${r.fvu.toFixed(3)} | ${r.deltaLoss.toFixed(3)} | ${(100 * r.lossRecovered).toFixed(1)}% | ${r.klCleanSpliced.toFixed(3)} | ${r.dead} | ${r.dense} |`,
    ),
  ].join('\n');
  const clean = rows[0];
  const context = clean ? `clean CE ${clean.ceClean.toFixed(3)}, zero-ablated CE ${clean.ceZeroAblated.toFixed(3)}, ${clean.predictedTokens} predicted tokens` : '';
  // Rows of SAEs not retrained in this run stay in the table (each row names its own training tokens).
  const comparisonPath = join(BUNDLE, 'comparison.json');
  const previous = existsSync(comparisonPath) ? JSON.parse(readFileSync(comparisonPath, 'utf8')) : undefined;
  const kept = (previous?.rows ?? []).filter((r) => !rows.some((n) => n.arch === r.arch)).map((r) => ({ ...r, tokens: r.tokens ?? previous.tokens, evalTokens: r.evalTokens ?? previous.evalTokens }));
  for (const r of rows) {
    r.tokens = finals[r.arch]?.tokens ?? TOKENS;
    r.evalTokens = EVAL_TOKENS;
  }
  writeFileSync(comparisonPath, JSON.stringify({ site: SITE, dSae: D_SAE, targetL0: TARGET_L0, tokens: TOKENS, tokensGated: TOKENS_GATED, k, gatedL1: GATED_L1, evalTokens: EVAL_TOKENS, rows: [...rows, ...kept] }, null, 1) + '\n');
  process.stdout.write(`${table}\n\n${context}\n`);
}

main().catch((err) => {
  log(`failed: ${err.stack ?? err}`);
  process.exit(1);
});
