// What `feature-lens train` stores in a checkpoint folder to resume it — the options the run was started
// with — and how --resume reads a folder back: its own runs, and runs the extension's Train SAE… started
// (a TrainJob), whose fields map one to one onto the same options.
import { parseTrainJob, type TrainJob } from '../../protocol/training';

export const TRAIN_RUN_OPTIONS = ['acts', 'model', 'site', 'corpus', 'cache', 'max-file-mb', 'arch', 'd-sae', 'target-l0', 'l0-coeff', 'k', 'preset', 'tokens', 'batch', 'seed', 'lr', 'out', 'checkpoint-every'];

/** The job a CLI run writes into its checkpoint. */
export interface CliTrainJob {
  readonly command: 'train';
  readonly options: Record<string, string>;
}

export interface SavedRun {
  /** The run's options, as if given on the command line. */
  readonly options: Record<string, string>;
  /** The job exactly as stored: written back unchanged, so whoever started the run can still resume it. */
  readonly job: unknown;
}

export function parseSavedRun(raw: unknown): { ok: true; value: SavedRun } | { ok: false; reason: string } {
  const r = raw as { command?: unknown; options?: unknown } | undefined;
  if (r?.command === 'train') {
    const options = r.options;
    if (typeof options !== 'object' || options === null) return { ok: false, reason: 'its options are missing' };
    for (const [name, v] of Object.entries(options)) {
      if (!TRAIN_RUN_OPTIONS.includes(name) || typeof v !== 'string') return { ok: false, reason: `unexpected option ${name}` };
    }
    return { ok: true, value: { options: options as Record<string, string>, job: raw } };
  }
  const job = parseTrainJob(raw);
  if (!job.ok) return { ok: false, reason: `neither a feature-lens train run nor a Train SAE… job: ${job.reason}` };
  return { ok: true, value: { options: optionsOf(job.value), job: raw } };
}

/** A TrainJob as the `feature-lens train` options that run it. */
export function optionsOf(job: TrainJob): Record<string, string> {
  const { data } = job;
  const optional = (name: string, v: string | number | undefined): Record<string, string> => (v === undefined ? {} : { [name]: String(v) });
  return {
    ...(data.kind === 'acts'
      ? { acts: data.path }
      : { model: data.modelPath, corpus: data.corpusDir, cache: data.cacheDir, ...optional('max-file-mb', data.maxFileBytes && data.maxFileBytes / (1024 * 1024)) }),
    site: job.site,
    arch: job.arch,
    'd-sae': String(job.dSae),
    tokens: String(job.tokens),
    seed: String(job.seed),
    out: job.outDir,
    'checkpoint-every': String(job.checkpointEvery),
    ...optional('target-l0', job.targetL0),
    ...optional('l0-coeff', job.l0Coeff),
    ...optional('k', job.k),
    ...optional('preset', job.preset),
    ...optional('batch', job.batchSize),
  };
}
