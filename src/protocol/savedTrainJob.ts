// The job stored in a training checkpoint folder, as the extension reads it to resume: a TrainJob (the
// extension's Train SAE… or a run file) or the options of a `feature-lens train` command line
// ({ command: 'train', options }), mapped onto the same TrainJob. The stored value is kept as it was, so
// whoever started the run can still resume it after the extension continued it.
import { SAE_ARCHITECTURES, type SaeArchitecture } from './architectures';
import { parseTrainJob, type TrainJob } from './training';
import { isRecord, refuse, type Parsed } from './validate';

export interface SavedTrainJob {
  readonly job: TrainJob;
  /** The job exactly as stored in the folder. */
  readonly raw: unknown;
}

/** `feature-lens train`'s defaults for options a command line may leave out. */
const CLI_DEFAULT_SEED = 0;
const CLI_DEFAULT_CHECKPOINT_EVERY = 500;
const CLI_DEFAULT_MAX_FILE_MB = 4;

function int(options: Record<string, string>, name: string): number | undefined {
  const text = options[name];
  if (text === undefined) return undefined;
  const v = Number(text);
  return Number.isFinite(v) ? v : Number.NaN;
}

/** A CLI run's options as the TrainJob the worker runs; `cacheDir` stands in for the CLI's cwd-relative default. */
export function trainJobFromCliOptions(options: Record<string, string>, cacheDir: string): Parsed<TrainJob> {
  const arch = options.arch as SaeArchitecture;
  if (!SAE_ARCHITECTURES.includes(arch)) return refuse(`the saved --arch ${String(options.arch)} is not one of ${SAE_ARCHITECTURES.join(', ')}`);
  const data: TrainJob['data'] | undefined = options.acts
    ? { kind: 'acts', path: options.acts }
    : options.model && options.corpus && options.site
      ? {
          kind: 'corpus',
          modelPath: options.model,
          corpusDir: options.corpus,
          cacheDir: options.cache ?? cacheDir,
          maxFileBytes: Math.round((int(options, 'max-file-mb') ?? CLI_DEFAULT_MAX_FILE_MB) * 1024 * 1024),
        }
      : undefined;
  if (!data) return refuse('the saved options name neither --acts nor --model/--site/--corpus');
  const optional = (key: keyof TrainJob, name: string) => (options[name] !== undefined ? { [key]: int(options, name) } : {});
  const job = {
    // A run on a bare .npy may not know its site; the checkpoint's cfg.json keeps whatever it had.
    site: options.site ?? 'unknown',
    arch,
    dSae: int(options, 'd-sae'),
    tokens: int(options, 'tokens'),
    data,
    outDir: options.out,
    checkpointEvery: int(options, 'checkpoint-every') ?? CLI_DEFAULT_CHECKPOINT_EVERY,
    seed: int(options, 'seed') ?? CLI_DEFAULT_SEED,
    ...optional('targetL0', 'target-l0'),
    ...optional('l0Coeff', 'l0-coeff'),
    ...optional('k', 'k'),
    ...optional('batchSize', 'batch'),
    ...(options.preset !== undefined ? { preset: options.preset } : {}),
  };
  // The same checks as any job, so a hand-edited folder is refused with a reason.
  return parseTrainJob(job);
}

export function parseSavedTrainJob(raw: unknown, cacheDir: string): Parsed<SavedTrainJob> {
  if (isRecord(raw) && raw.command === 'train') {
    const options = raw.options;
    if (!isRecord(options) || !Object.values(options).every((v) => typeof v === 'string')) return refuse('the saved feature-lens train options are not a map of strings');
    const job = trainJobFromCliOptions(options as Record<string, string>, cacheDir);
    return job.ok ? { ok: true, value: { job: job.value, raw } } : refuse(`feature-lens train run: ${job.reason}`);
  }
  const job = parseTrainJob(raw);
  return job.ok ? { ok: true, value: { job: job.value, raw } } : refuse(`neither a Train SAE… job nor a feature-lens train run: ${job.reason}`);
}
