// feature-lens train: trains an SAE on a float32 .npy of activations and writes a SAELens checkpoint folder.
import { saveCheckpoint } from '../../core/checkpoints/checkpoint';
import type { MetricsRecord } from '../../core/checkpoints/metrics-history';
import { log10Frequencies } from '../../core/metrics/sparsity';
import type { SaeArchitecture } from '../../core/sae/weights';
import { presetConfig, type PresetName } from '../../core/train/presets';
import { train, trainToEnd } from '../../core/train/trainer';
import { numberFlag, parseArgs, requireFlag, stringFlag, UsageError } from '../args';
import type { CliCommand } from '../command';
import { openTrainingData } from './storeOptions';

const ARCHS: readonly SaeArchitecture[] = ['jumprelu', 'gated', 'topk', 'batchtopk', 'relu'];

export const trainCommand: CliCommand = {
  name: 'train',
  summary: 'Train an SAE (jumprelu, gated, topk, batchtopk, relu) on a float32 .npy of activations',
  usage: [
    'Usage: feature-lens train (--acts acts.npy | --model <m> --site <s> --corpus <dir> [--cache <dir>] [--max-file-mb M])',
    '                          --arch jumprelu|gated|topk|batchtopk|relu --d-sae N',
    '                          [--target-l0 N | --l0-coeff λ | --k K] [--preset paper] --tokens N',
    '                          [--batch B] [--seed S] [--lr LR] --out <dir>',
    '',
    'acts.npy is float32 [N, d]; rows are reshuffled every epoch. The default JumpReLU recipe reaches',
    '--target-l0 (default 32); --preset paper is the JumpReLU paper recipe with λ = --l0-coeff.',
    'TopK/BatchTopK take --k; Gated/ReLU take --l0-coeff as their λ. Writes a SAELens folder',
    '(cfg.json, sae_weights.safetensors, sparsity.safetensors, metrics.json). Progress on stderr, a JSON',
    'summary on stdout.',
  ].join('\n'),
  async run(argv) {
    const args = parseArgs(argv, ['acts', 'model', 'site', 'corpus', 'cache', 'max-file-mb', 'arch', 'd-sae', 'target-l0', 'l0-coeff', 'k', 'preset', 'tokens', 'batch', 'seed', 'lr', 'out']);
    const arch = requireFlag(args, 'arch') as SaeArchitecture;
    if (!ARCHS.includes(arch)) throw new UsageError(`--arch must be one of ${ARCHS.join(', ')}`);
    const dSae = numberFlag(args, 'd-sae');
    if (dSae === undefined || !Number.isInteger(dSae) || dSae < 1) throw new UsageError('--d-sae must be a positive integer');
    const tokens = numberFlag(args, 'tokens');
    if (tokens === undefined || tokens < 1) throw new UsageError('--tokens must be a positive number');
    const preset = (stringFlag(args, 'preset') ?? 'default') as PresetName;
    if (preset !== 'default' && preset !== 'paper') throw new UsageError('--preset must be default or paper');
    const targetL0 = numberFlag(args, 'target-l0');
    const l0Coeff = numberFlag(args, 'l0-coeff');
    const k = numberFlag(args, 'k');
    if ((arch === 'topk' || arch === 'batchtopk') && k === undefined) throw new UsageError(`--arch ${arch} needs --k`);
    if (k !== undefined && arch !== 'topk' && arch !== 'batchtopk') throw new UsageError('--k is for topk and batchtopk');
    if (targetL0 !== undefined && (arch !== 'jumprelu' || preset === 'paper')) {
      throw new UsageError('--target-l0 is for the default jumprelu recipe (the paper preset takes --l0-coeff)');
    }
    const out = requireFlag(args, 'out');
    const lr = numberFlag(args, 'lr');

    // With --model/--site/--corpus the corpus is harvested first (budget + the trainer's 8192-row init sample).
    const data = await openTrainingData(args, tokens + 8192, numberFlag(args, 'seed', 0) ?? 0);
    const source = data.source;
    try {
      const base = presetConfig({
        architecture: arch,
        dSae,
        totalTokens: tokens,
        preset,
        targetL0,
        l0Coeff,
        k,
        batchSize: numberFlag(args, 'batch'),
        seed: numberFlag(args, 'seed', 0),
      });
      const config = lr !== undefined ? { ...base, lr } : base;
      process.stderr.write(`train: ${arch} (${preset}) d_in ${source.dIn} → d_sae ${dSae}, ${tokens} tokens in batches of ${config.batchSize}\n`);
      const started = Date.now();
      const result = await trainToEnd(train(config, source, undefined, { progressIntervalMs: 2000 }), (p) =>
        process.stderr.write(
          `step ${p.step}/${p.totalSteps} tokens ${p.tokens} loss ${p.loss.toPrecision(4)} mse ${p.mse.toPrecision(4)} ` +
            `FVU ${p.fvu.toFixed(4)} L0 ${p.l0.toFixed(2)} dead ${(100 * p.deadFraction).toFixed(1)}% ${Math.round(p.tokensPerSecond)} tok/s\n`,
        ),
      );
      const { state, trainer } = result;
      const last = state.history[state.history.length - 1];
      const summary = {
        out,
        architecture: arch,
        preset,
        dIn: source.dIn,
        dSae,
        steps: state.step,
        tokens: state.tokens,
        skippedRows: state.skippedRows,
        inputScale: state.inputScale,
        seconds: (Date.now() - started) / 1000,
        final: last ? { loss: last.loss, mse: last.mse, fvu: last.fvu, l0: last.l0, deadFraction: last.deadFraction } : undefined,
      };
      await saveCheckpoint(out, {
        weights: result.weights,
        metrics: { records: state.history as unknown as MetricsRecord[], summary },
        sparsity: log10Frequencies(trainer.firingFrequencies()),
        metadata: { dataset_path: data.datasetPath, ...data.metadata },
      });
      process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
      return 0;
    } finally {
      source.close();
    }
  },
};
