// feature-lens export-run: a Feature Lens training run as a SAELens training script or a sparsify command
// line, so the same run can go to a GPU cluster and come back through Load SAE….
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadCheckpoint } from '../../core/checkpoints/checkpoint';
import { isRecord } from '../../core/checkpoints/json-file';
import { exportSaeLensScript, exportSparsifyCommand, type RunDescription } from '../../core/formats/export-run';
import type { SaeArchitecture } from '../../core/sae/weights';
import type { TrainConfig } from '../../core/train/config';
import { presetConfig, type PresetName } from '../../core/train/presets';
import { numberFlag, parseArgs, requireFlag, stringFlag, UsageError, type ParsedArgs } from '../args';
import type { CliCommand } from '../command';

export const exportRunCommand: CliCommand = {
  name: 'export-run',
  summary: 'Write a training run as a SAELens training script or (TopK) a sparsify command line, for GPU clusters',
  usage: [
    'Usage: feature-lens export-run --to saelens|sparsify <run> --out <file>',
    '                               [--model-name <hf id>] [--dataset <hf id>] [--context-size N] [--d-in N] [--site <hook>]',
    '',
    '  <run>              a training checkpoint folder (its saved run), a train job .json (as the Train SAE',
    '                     dialogue saves it) or a TrainConfig .json',
    '  --to <target>      saelens: a Python script for SAELens ≥ 6 (LanguageModelSAERunnerConfig);',
    '                     sparsify: a torchrun command line (TopK runs only)',
    '  --out <file>       where the script goes',
    '  --model-name       the model as the target loads it (default: from the run; a local path is flagged)',
    '  --dataset          a Hugging Face dataset id (default: the run\'s corpus folder, flagged)',
    '  --context-size N   tokens per window (default: from the run, else 1024)',
    '  --d-in N, --site   the site\'s width and name when the run does not say (job and config files)',
    '',
    'Every setting of the run is mapped or listed in the script as having no equivalent (see docs/formats.md).',
    'Prints a JSON summary on stdout.',
  ].join('\n'),
  async run(argv) {
    const args = parseArgs(argv, ['to', 'out', 'model-name', 'dataset', 'context-size', 'd-in', 'site']);
    if (args.positionals.length !== 1) throw new UsageError('give exactly one run (a checkpoint folder or a .json)');
    const to = requireFlag(args, 'to');
    if (to !== 'saelens' && to !== 'sparsify') throw new UsageError(`--to must be saelens or sparsify, got "${to}"`);
    const out = resolve(requireFlag(args, 'out'));
    const run = await readRun(resolve(args.positionals[0]), args);
    const exported = to === 'saelens' ? exportSaeLensScript(run) : exportSparsifyCommand(run);
    writeFileSync(out, exported.text, { mode: to === 'sparsify' ? 0o755 : 0o644 });
    process.stdout.write(JSON.stringify({ out, to, architecture: run.config.architecture, hookName: run.hookName, dIn: run.dIn, unmapped: exported.unmapped }, null, 2) + '\n');
    return 0;
  },
};

function positiveIntFlag(args: ParsedArgs, name: string): number | undefined {
  const v = numberFlag(args, name);
  if (v !== undefined && (!Number.isInteger(v) || v < 1)) throw new UsageError(`--${name} must be a positive integer`);
  return v;
}

/** The run behind `path`, completed by the flags. */
async function readRun(path: string, args: ParsedArgs): Promise<RunDescription> {
  if (!existsSync(path)) throw new UsageError(`${path} does not exist`);
  const flagged = {
    modelName: stringFlag(args, 'model-name'),
    datasetPath: stringFlag(args, 'dataset'),
    contextSize: positiveIntFlag(args, 'context-size'),
    dIn: positiveIntFlag(args, 'd-in'),
    hookName: stringFlag(args, 'site'),
  };
  let config: TrainConfig;
  let known: Partial<Omit<RunDescription, 'config' | 'source'>> = {};
  if (statSync(path).isDirectory()) {
    const loaded = await loadCheckpoint(path);
    if (!loaded.training) throw new Error(`${path} holds an SAE but no saved training run`);
    config = loaded.training.config as unknown as TrainConfig;
    const c = loaded.trainingWeights.config;
    const meta = (isRecord(loaded.weights.config.extra?.saelensMetadata) ? loaded.weights.config.extra.saelensMetadata : {}) as Record<string, unknown>;
    const job = loaded.training.scalars?.job;
    const jobData = isRecord(job) && isRecord(job.data) ? job.data : undefined;
    known = {
      dIn: c.dIn,
      ...(c.hookName ? { hookName: c.hookName } : {}),
      ...(c.modelName ? { modelName: c.modelName } : typeof jobData?.modelPath === 'string' ? { modelName: jobData.modelPath } : {}),
      ...(typeof meta.dataset_path === 'string' ? { datasetPath: meta.dataset_path } : typeof jobData?.corpusDir === 'string' ? { datasetPath: jobData.corpusDir } : {}),
      ...(typeof meta.context_size === 'number' ? { contextSize: meta.context_size } : {}),
    };
  } else {
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(path, 'utf8'));
    } catch (err) {
      throw new Error(`${path}: not JSON (${(err as Error).message})`);
    }
    if (!isRecord(json)) throw new Error(`${path}: expected a JSON object`);
    if (typeof json.arch === 'string' && typeof json.site === 'string') {
      // A train job: its preset gives the full configuration, as the trainer builds it.
      config = presetConfig({
        architecture: json.arch as SaeArchitecture,
        dSae: json.dSae as number,
        totalTokens: json.tokens as number,
        preset: (json.preset ?? 'default') as PresetName,
        ...(typeof json.targetL0 === 'number' ? { targetL0: json.targetL0 } : {}),
        ...(typeof json.l0Coeff === 'number' ? { l0Coeff: json.l0Coeff } : {}),
        ...(typeof json.k === 'number' ? { k: json.k } : {}),
        ...(typeof json.batchSize === 'number' ? { batchSize: json.batchSize } : {}),
        ...(typeof json.seed === 'number' ? { seed: json.seed } : {}),
      });
      const data = isRecord(json.data) ? json.data : {};
      known = {
        hookName: json.site,
        ...(typeof data.modelPath === 'string' ? { modelName: data.modelPath } : {}),
        ...(typeof data.corpusDir === 'string' ? { datasetPath: data.corpusDir } : typeof data.path === 'string' ? { datasetPath: data.path } : {}),
      };
    } else if (typeof json.architecture === 'string' && typeof json.batchSize === 'number') {
      config = json as unknown as TrainConfig;
    } else {
      throw new Error(`${path}: neither a train job (arch, site, dSae, tokens, …) nor a TrainConfig (architecture, batchSize, …)`);
    }
  }
  const hookName = flagged.hookName ?? known.hookName;
  const dIn = flagged.dIn ?? known.dIn;
  if (!hookName) throw new UsageError('the run names no site: pass --site <hook>');
  if (!dIn) throw new UsageError(`the run does not say the width of ${hookName}: pass --d-in N (feature-lens sites lists them)`);
  return {
    config,
    hookName,
    dIn,
    modelName: flagged.modelName ?? known.modelName ?? 'REPLACE_WITH_MODEL_NAME',
    datasetPath: flagged.datasetPath ?? known.datasetPath ?? 'REPLACE_WITH_DATASET',
    contextSize: flagged.contextSize ?? known.contextSize ?? 1024,
    source: path,
  };
}
