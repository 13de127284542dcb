// feature-lens eval: an SAE's reconstruction and sparsity metrics, and with a model its spliced LM loss.
import { degenerateRowsWarning } from '../../core/inference/inferenceSae';
import { loadModel } from '../../core/runtime/model';
import type { Matrix } from '../../core/tensor';
import { evaluateOnActivations, evaluateOnModel, type EvaluatedSae, type SaeEvaluation } from '../../core/store/evaluateSae';
import { corpusEvalWindows } from '../../core/store/evalWindows';
import { openNpySource } from '../../core/store/sources';
import { numberFlag, parseArgs, requireFlag, stringFlag, UsageError } from '../args';
import type { CliCommand } from '../command';
import { openSaeOption, SAE_FLAGS, SAE_USAGE } from './saeOption';

export const evalCommand: CliCommand = {
  name: 'eval',
  summary: 'Evaluate an SAE (any format): MSE, FVU, L0, dead/dense features, and spliced ΔLM loss with a model',
  usage: [
    'Usage: feature-lens eval --sae <path> [--hook <name>] (--model <dir> --corpus <dir> | --acts acts.npy)',
    '                         [--site <hook>] [--tokens N] [--batch W] [--seed N] [--max-file-mb M] [--json]',
    '                         [--site-out <hook> | --acts-out out.npy]   (transcoders)',
    '',
    SAE_USAGE,
    '',
    'With --model and --corpus, context windows of the corpus run through the model; the SAE',
    "reconstruction replaces the site's activation (position 0 of each window excepted) to measure",
    'ΔLM loss, loss recovered (against zero-ablation) and KL. With --acts, only reconstruction and',
    'sparsity metrics. --tokens (default 32768) caps the evaluated tokens. A transcoder reads --site',
    '(default: its input hook) and is compared with, and spliced into, --site-out (default: its output',
    'hook); with --acts it needs the output site\'s activations as --acts-out. Progress on stderr;',
    'the result on stdout (JSON with --json).',
  ].join('\n'),
  async run(argv) {
    const args = parseArgs(argv, [...SAE_FLAGS, 'model', 'corpus', 'acts', 'acts-out', 'site', 'site-out', 'tokens', 'batch', 'seed', 'max-file-mb', 'threads'], ['json']);
    const saeDir = requireFlag(args, 'sae');
    const opened = openSaeOption(args);
    const { sae, loaded } = opened;
    // Evaluated through a wrapper that counts the tokens the per-token normalisation could not scale.
    let degenerate = 0;
    const counted: EvaluatedSae = {
      config: sae.config,
      forward: (x: Matrix) => {
        const r = sae.forward(x);
        degenerate += r.degenerateRows?.length ?? 0;
        return r;
      },
    };
    const tokens = numberFlag(args, 'tokens', 32768) ?? 32768;
    const modelPath = stringFlag(args, 'model');
    const corpusDir = stringFlag(args, 'corpus');
    const acts = stringFlag(args, 'acts');
    const started = Date.now();
    let result: SaeEvaluation;
    let site = stringFlag(args, 'site') ?? loaded.weights.config.hookName;
    // A transcoder reads `site` and predicts `siteOut`: errors and the splice are at siteOut.
    const siteOut = sae.isTranscoder ? (stringFlag(args, 'site-out') ?? loaded.weights.config.hookNameOut) : undefined;
    if (!sae.isTranscoder && (stringFlag(args, 'site-out') || stringFlag(args, 'acts-out'))) throw new UsageError('--site-out and --acts-out are for transcoders');
    if (modelPath || corpusDir) {
      if (!modelPath || !corpusDir) throw new UsageError('--model and --corpus go together');
      if (!site) throw new UsageError("the SAE's cfg.json names no hook site: pass --site");
      if (sae.isTranscoder && !siteOut) throw new UsageError('the transcoder names no output site: pass --site-out');
      const lm = await loadModel(modelPath, { intraOpThreads: numberFlag(args, 'threads', 2) });
      try {
        const T = lm.info.contextLength;
        const windows = await corpusEvalWindows(lm, modelPath, corpusDir, {
          tokens,
          seed: numberFlag(args, 'seed', 0) ?? 0,
          maxFileBytes: (numberFlag(args, 'max-file-mb', 4) ?? 4) * 1024 * 1024,
        });
        result = await evaluateOnModel(counted, lm, siteOut ?? site, windows, {
          ...(siteOut ? { inputSite: site } : {}),
          batchWindows: numberFlag(args, 'batch'),
          onProgress: (done, of) => process.stderr.write(`eval: ${done}/${of} windows of ${T}\n`),
        });
      } finally {
        await lm.dispose();
      }
    } else if (acts) {
      const actsOut = stringFlag(args, 'acts-out');
      if (sae.isTranscoder && !actsOut) throw new UsageError("a transcoder is compared with its output site: pass that site's activations with --acts-out");
      const source = openNpySource(acts, { shuffle: false });
      const target = actsOut ? openNpySource(actsOut, { shuffle: false }) : undefined;
      try {
        if (target && target.rows !== source.rows) throw new Error(`${acts} has ${source.rows} rows but ${actsOut} has ${target.rows}`);
        result = evaluateOnActivations(counted, source, Math.min(tokens, source.rows), undefined, undefined, target);
      } finally {
        source.close();
        target?.close();
      }
    } else {
      throw new UsageError('give --model and --corpus, or --acts');
    }
    const zeroNorm = degenerateRowsWarning(opened.sae, degenerate);
    if (zeroNorm) process.stderr.write(`warning: ${zeroNorm}\n`);
    site ??= '(unknown)';
    const summary = {
      sae: saeDir,
      architecture: loaded.weights.config.architecture,
      site,
      dIn: loaded.weights.config.dIn,
      ...(sae.isTranscoder ? { transcoder: true, siteOut: siteOut ?? null, dOut: sae.dOut } : {}),
      ...result,
      seconds: (Date.now() - started) / 1000,
    };
    if (args.flags.has('json')) {
      process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
    } else {
      const f = (v: number, d = 4) => (Number.isFinite(v) ? v.toPrecision(d) : 'n/a');
      const lines = [
        `${summary.architecture} ${sae.isTranscoder ? `transcoder ${site} → ${siteOut ?? '?'}` : `SAE at ${site}`}: d_in ${summary.dIn}, d_sae ${result.dSae}, ${result.tokens} tokens`,
        `MSE ${f(result.mse)}  FVU ${f(result.fvu, 3)}  explained variance ${f(result.explainedVariance, 3)}  L0 ${f(result.l0, 3)}`,
        `dead ${result.deadFeatures}  dense (>10%) ${result.denseFeatures}`,
      ];
      if (result.lm) {
        const m = result.lm;
        lines.push(`CE clean ${f(m.ceClean)}  spliced ${f(m.ceSpliced)}  zero-ablated ${f(m.ceZeroAblated)}  ΔLM loss ${f(m.deltaLoss, 3)}  loss recovered ${f(m.lossRecovered, 3)}  KL ${f(m.klCleanSpliced, 3)}`);
      }
      process.stdout.write(lines.join('\n') + '\n');
    }
    return 0;
  },
};
