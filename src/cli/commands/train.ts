// feature-lens train: trains an SAE on activations (a float32 .npy, or a corpus harvested through a model)
// into a SAELens checkpoint folder that also holds the trainer's exact state, so an interrupted run
// continues bit-exactly with --resume.
import { SAE_ARCHITECTURES, type SaeArchitecture } from '../../protocol/architectures';
import { chooseBackend, parseBackendChoice } from '../../core/train/backendChoice';
import { parseSparseThreads, sparseThreadsFor, type SparseThreadsChoice } from '../../core/train/sparseThreads';
import { startTrainer } from '../../core/train/driver';
import { PRESET_NAMES, presetConfig, presetWarnings, type PresetName } from '../../core/train/presets';
import { readTrainerCheckpoint } from '../../core/train/trainerCheckpoint';
import { trainToFolder } from '../../core/train/trainToFolder';
import type { TrainerState } from '../../core/train/trainer';
import { numberFlag, parseArgs, requireFlag, stringFlag, UsageError, type ParsedArgs } from '../args';
import type { CliCommand } from '../command';
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parseRunConfig } from '../../protocol/runConfig';
import type { TrainJob } from '../../protocol/training';
import { optionsOf, parseSavedRun, TRAIN_RUN_OPTIONS, type CliTrainJob } from './savedTrainJob';
import { defaultCacheDir, openTrainingData } from './storeOptions';

const DEFAULT_CHECKPOINT_EVERY = 500;

interface Plan {
  readonly args: ParsedArgs;
  readonly arch: SaeArchitecture;
  readonly preset: PresetName;
  readonly dSae: number;
  readonly tokens: number;
  readonly out: string;
  readonly seed: number;
  readonly checkpointEvery: number;
}

/** The run described by the options, checked the same way whether they come from argv or a checkpoint. */
function planFrom(args: ParsedArgs): Plan {
  const arch = requireFlag(args, 'arch') as SaeArchitecture;
  if (!SAE_ARCHITECTURES.includes(arch)) throw new UsageError(`--arch must be one of ${SAE_ARCHITECTURES.join(', ')}`);
  const dSae = numberFlag(args, 'd-sae');
  if (dSae === undefined || !Number.isInteger(dSae) || dSae < 1) throw new UsageError('--d-sae must be a positive integer');
  const tokens = numberFlag(args, 'tokens');
  if (tokens === undefined || tokens < 1) throw new UsageError('--tokens must be a positive number');
  const preset = (stringFlag(args, 'preset') ?? 'default') as PresetName;
  if (!PRESET_NAMES.includes(preset)) throw new UsageError(`--preset must be one of ${PRESET_NAMES.join(', ')}`);
  const targetL0 = numberFlag(args, 'target-l0');
  const k = numberFlag(args, 'k');
  if ((arch === 'topk' || arch === 'batchtopk') && k === undefined) throw new UsageError(`--arch ${arch} needs --k`);
  if (k !== undefined && arch !== 'topk' && arch !== 'batchtopk') throw new UsageError('--k is for topk and batchtopk');
  if (targetL0 !== undefined && (arch !== 'jumprelu' || preset !== 'default')) {
    throw new UsageError('--target-l0 is for the default jumprelu recipe (the paper and anthropic presets take --l0-coeff)');
  }
  const checkpointEvery = numberFlag(args, 'checkpoint-every', DEFAULT_CHECKPOINT_EVERY) ?? DEFAULT_CHECKPOINT_EVERY;
  if (!Number.isInteger(checkpointEvery) || checkpointEvery < 0) throw new UsageError('--checkpoint-every must be an integer ≥ 0');
  return { args, arch, preset, dSae, tokens, out: requireFlag(args, 'out'), seed: numberFlag(args, 'seed', 0) ?? 0, checkpointEvery };
}

function presetRequest(plan: Plan) {
  const { args } = plan;
  return {
    architecture: plan.arch,
    dSae: plan.dSae,
    totalTokens: plan.tokens,
    preset: plan.preset,
    targetL0: numberFlag(args, 'target-l0'),
    l0Coeff: numberFlag(args, 'l0-coeff'),
    k: numberFlag(args, 'k'),
    batchSize: numberFlag(args, 'batch'),
    seed: plan.seed,
  };
}

/** Refuses requests no recipe can train and warns about budgets a recipe cannot use, before any data is read. */
function checkPlan(plan: Plan): void {
  let warnings: string[];
  try {
    warnings = presetWarnings(presetRequest(plan));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  for (const w of warnings) process.stderr.write(`train: warning: ${w}\n`);
}

function freshConfig(plan: Plan) {
  const { args } = plan;
  const base = presetConfig(presetRequest(plan));
  const lr = numberFlag(args, 'lr');
  return lr !== undefined ? { ...base, lr } : base;
}

export const trainCommand: CliCommand = {
  name: 'train',
  summary: `Train an SAE (${SAE_ARCHITECTURES.join(', ')}) on activations; --resume continues a run`,
  usage: [
    'Usage: feature-lens train (--acts acts.npy [--site <s>] | --model <m> --site <s> --corpus <dir> [--cache <dir>] [--max-file-mb M])',
    `                          --arch ${SAE_ARCHITECTURES.join('|')} --d-sae N`,
    '                          [--target-l0 N | --l0-coeff λ | --k K] [--preset paper|paper-scaled|anthropic|matryoshka] --tokens N',
    '                          [--batch B] [--seed S] [--lr LR] [--checkpoint-every STEPS] [--max-steps N]',
    '                          [--backend auto|fast|reference] [--sparse-threads auto|1|2] --out <dir>',
    '       feature-lens train --config run.featurelens-run.json [--max-steps N] [--backend …] [--sparse-threads …]',
    '       feature-lens train --resume <dir> [--max-steps N] [--backend …] [--sparse-threads …]',
    '',
    'acts.npy is float32 [N, d]; rows are reshuffled every epoch. The default JumpReLU recipe reaches',
    '--target-l0 (default 32) after a TopK warm start; --preset paper is the JumpReLU paper recipe with',
    'λ = --l0-coeff (paper-scaled: its λ warm-up scaled to the budget); --preset anthropic is Anthropic\'s',
    '2025 JumpReLU (tanh sparsity, λ = --l0-coeff); --preset matryoshka is Matryoshka BatchTopK (--k).',
    'TopK/BatchTopK take --k; Gated/ReLU take --l0-coeff as their λ. Writes a SAELens folder',
    '(cfg.json, sae_weights.safetensors, sparsity.safetensors, metrics.json) with the trainer state',
    `(trainer_state.json, training_state.safetensors), rewritten every --checkpoint-every steps (default`,
    `${DEFAULT_CHECKPOINT_EVERY}; 0: only at the end). Ctrl-C or --max-steps stop early and save; --resume <dir>`,
    'continues from the folder with the options it was started with, bit for bit as if never stopped',
    '(also a folder written by the extension\'s Train SAE…).',
    '--config runs a run file (the JSON schema in schemas/featurelens-run.schema.json; paths relative to',
    'the file), the same file the extension\'s Run This Config starts.',
    '--backend: auto (default) trains on the fast backend (ONNX Runtime GEMM + sparse kernels) and falls',
    'back to the reference backend with a notice if it cannot load; reference forces the plain one.',
    '--sparse-threads: threads of its sparse kernels; auto (default) uses 2 for jumprelu on a machine with',
    '2 or more cores and 1 otherwise (docs/performance.md has the measurements).',
    'Progress on stderr, a JSON summary on stdout.',
  ].join('\n'),
  async run(argv) {
    const given = parseArgs(argv, [...TRAIN_RUN_OPTIONS, 'resume', 'config', 'max-steps', 'backend', 'sparse-threads']);
    let backendChoice;
    try {
      backendChoice = parseBackendChoice(stringFlag(given, 'backend'));
    } catch (err) {
      throw new UsageError(`--backend: ${(err as Error).message}`);
    }
    let sparseThreads: SparseThreadsChoice;
    try {
      sparseThreads = parseSparseThreads(stringFlag(given, 'sparse-threads'));
    } catch (err) {
      throw new UsageError(`--sparse-threads: ${(err as Error).message}`);
    }
    // Options of this process, not of the run: allowed with --resume and --config too.
    const runtimeFlags = ['max-steps', 'backend', 'sparse-threads'];
    const maxSteps = numberFlag(given, 'max-steps');
    if (maxSteps !== undefined && !(Number.isInteger(maxSteps) && maxSteps >= 1)) throw new UsageError('--max-steps must be a positive integer');
    const resumeDir = stringFlag(given, 'resume');
    const configFile = stringFlag(given, 'config');
    let plan: Plan;
    let resume: TrainerState | undefined;
    let savedJob: unknown;
    if (resumeDir !== undefined) {
      const extra = [...given.flags.keys()].filter((name) => name !== 'resume' && !runtimeFlags.includes(name));
      if (extra.length > 0) throw new UsageError(`--resume continues with the options saved in the folder; drop --${extra.join(', --')}`);
      const point = await readTrainerCheckpoint(resumeDir, parseSavedRun);
      // The run continues in the folder it was resumed from, wherever it was first written.
      plan = planFrom({ positionals: [], flags: new Map(Object.entries({ ...point.job.options, out: resumeDir })) });
      resume = point.state;
      savedJob = point.job.job;
    } else if (configFile !== undefined) {
      const extra = [...given.flags.keys()].filter((name) => name !== 'config' && !runtimeFlags.includes(name));
      if (extra.length > 0) throw new UsageError(`--config runs the file as written; drop --${extra.join(', --')}`);
      const job = await readRunConfig(configFile);
      plan = planFrom({ positionals: [], flags: new Map(Object.entries(optionsOf(job))) });
      // Stored as the TrainJob it is, so the extension's Resume Training… continues it too.
      savedJob = job;
    } else {
      plan = planFrom(given);
    }
    if (!resume) checkPlan(plan);
    const config = resume?.config ?? freshConfig(plan);
    const options = Object.fromEntries([...plan.args.flags].filter((e): e is [string, string] => TRAIN_RUN_OPTIONS.includes(e[0]) && typeof e[1] === 'string'));

    // With --model/--site/--corpus the corpus is harvested first (budget + the trainer's init sample).
    const data = await openTrainingData(plan.args, config.totalTokens + config.initRows, plan.seed);
    const { source } = data;
    const controller = new AbortController();
    const onInterrupt = () => controller.abort();
    process.once('SIGINT', onInterrupt);
    const chosen = chooseBackend(backendChoice, {
      sparseThreads: sparseThreadsFor(sparseThreads, config.architecture),
      onNotice: (message) => process.stderr.write(`train: ${message}\n`),
    });
    try {
      if (chosen.notice) process.stderr.write(`train: ${chosen.notice}\n`);
      const trainer = await startTrainer(config, source, { backend: chosen.backend, ...(resume ? { resume } : {}) });
      trainer.onNotice = (message) => process.stderr.write(`train: ${message}\n`);
      process.stderr.write(
        resume
          ? `train: resuming ${plan.out} at step ${trainer.step} of ${trainer.totalSteps} (${trainer.backendName} backend)\n`
          : `train: ${config.recipe ?? `${plan.arch} (${plan.preset})`}; d_in ${source.dIn} → d_sae ${plan.dSae}, ${plan.tokens} tokens in batches of ${config.batchSize} (${trainer.backendName} backend)\n`,
      );
      const run = await trainToFolder(trainer, source, {
        dir: plan.out,
        everySteps: plan.checkpointEvery,
        context: {
          job: savedJob ?? ({ command: 'train', options } satisfies CliTrainJob),
          hookName: data.site,
          preset: plan.preset,
          modelName: data.modelName,
          contextLength: data.contextLength,
          datasetPath: data.datasetPath,
        },
        signal: controller.signal,
        progressIntervalMs: 2000,
        ...(maxSteps !== undefined ? { maxSteps } : {}),
        summary: { out: plan.out, architecture: plan.arch, preset: plan.preset, dIn: source.dIn, dSae: plan.dSae, inputScale: trainer.inputScale },
        onProgress: (p) =>
          process.stderr.write(
            `step ${p.step}/${p.totalSteps} tokens ${p.tokens} loss ${p.loss.toPrecision(4)} mse ${p.mse.toPrecision(4)} ` +
              `FVU ${p.fvu.toFixed(4)} L0 ${p.l0.toFixed(2)} dead ${(100 * p.deadFraction).toFixed(1)}% ${Math.round(p.tokensPerSecond)} tok/s\n`,
          ),
      });
      const summary = {
        out: plan.out,
        architecture: plan.arch,
        preset: plan.preset,
        dIn: source.dIn,
        dSae: plan.dSae,
        steps: run.steps,
        tokens: run.tokens,
        skippedRows: run.skippedRows,
        inputScale: trainer.inputScale,
        seconds: run.seconds,
        final: run.final,
        ...(run.stopped ? { stopped: true } : {}),
      };
      if (run.stopped) process.stderr.write(`train: stopped at step ${run.steps} of ${trainer.totalSteps}; continue with: feature-lens train --resume ${plan.out}\n`);
      process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
      return controller.signal.aborted ? 130 : 0;
    } finally {
      process.removeListener('SIGINT', onInterrupt);
      source.close();
      chosen.dispose();
    }
  },
};

/** A run file through the same parser the extension uses; its refusal is a usage error naming the file. */
async function readRunConfig(file: string): Promise<TrainJob> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw new UsageError(`${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const parsed = parseRunConfig(raw, { resolvePath: (p) => resolve(dirname(resolve(file)), p), defaultCacheDir: defaultCacheDir() });
  if (!parsed.ok) throw new UsageError(`${file}: ${parsed.reason}`);
  return parsed.value;
}
