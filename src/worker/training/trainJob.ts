// One training job as the worker runs it: get rows (harvest a corpus or open a .npy), build or restore
// the trainer, and hand it to the core's folder run (throttled progress, periodic checkpoints, a
// resumable save on cancel). Independent of worker_threads so it can be tested in-process as well.
import { constants } from 'node:fs';
import { access, mkdir, readdir, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { presetConfig, type PresetName } from '../../core/train/presets';
import { chooseBackend, parseBackendChoice } from '../../core/train/backendChoice';
import { startTrainer } from '../../core/train/driver';
import { parseSparseThreads, sparseThreadsFor } from '../../core/train/sparseThreads';
import { readTrainerCheckpoint } from '../../core/train/trainerCheckpoint';
import type { PauseGate } from '../../core/util/pauseGate';
import { parseSavedTrainJob } from '../../protocol/savedTrainJob';
import { trainToFolder } from '../../core/train/trainToFolder';
import { harvestCorpus } from '../../core/store/harvestCorpus';
import { openNpySource, openStoreSource } from '../../core/store/sources';
import type { ActivationSource } from '../../core/store/types';
import { type TrainingStart, type TrainJob, type TrainProgressEvent, type TrainSummary } from '../../protocol/training';

export interface JobEvents {
  progress(event: TrainProgressEvent): void;
  checkpoint(dir: string, step: number, tokens: number): void;
  log(message: string): void;
  /** Stepping stopped for a pause / started again. */
  paused?(step: number): void;
  continued?(step: number): void;
}

export interface JobOptions {
  readonly progressIntervalMs?: number;
  /** 'auto' (default), 'fast' or 'reference' (the featureLens.trainingBackend setting). */
  readonly backend?: string;
  readonly intraOpThreads?: number;
  /** 'auto' (default), '1' or '2': threads of the sparse kernels (the featureLens.sparseThreads setting). */
  readonly sparseThreads?: string;
  /** Closed: the run stops stepping (after saving a checkpoint) until it is opened again. */
  readonly pause?: PauseGate;
}

/**
 * Fails early, before any harvesting, when the output folder cannot be written: the first checkpoint
 * would otherwise fail only after the activations were collected.
 */
async function checkWritable(outDir: string): Promise<void> {
  const parent = dirname(outDir);
  try {
    await mkdir(parent, { recursive: true });
    await access(parent, constants.W_OK);
    await access(outDir, constants.W_OK).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(`cannot write the output folder ${outDir}${code ? ` (${code})` : ''}: choose a folder you can write to`);
  }
}

/**
 * A run stopped while it wrote a checkpoint (window closed, worker killed) leaves the half-written copy
 * beside the folder (the folder itself is the previous, whole checkpoint). Only one run writes a folder
 * at a time, so a new start or resume removes such leftovers before writing its own.
 */
async function removeUnfinishedWrites(outDir: string, events: JobEvents): Promise<void> {
  const parent = dirname(outDir);
  const prefix = `.${basename(outDir)}.tmp-`;
  const names = await readdir(parent).catch(() => [] as string[]);
  for (const name of names.filter((n) => n.startsWith(prefix))) {
    await rm(join(parent, name), { recursive: true, force: true });
    events.log(`removed ${name}, an unfinished checkpoint write of a run that was stopped`);
  }
}

interface OpenedData {
  readonly source: ActivationSource;
  readonly modelName?: string;
  readonly contextLength?: number;
  readonly datasetPath: string;
}

async function openData(job: TrainJob, rowsWanted: number, signal: AbortSignal, events: JobEvents): Promise<OpenedData> {
  const data = job.data;
  if (data.kind === 'acts') {
    return { source: openNpySource(data.path, { seed: job.seed }), datasetPath: data.path };
  }
  let lastReport = 0;
  const cache = await harvestCorpus({
    modelPath: data.modelPath,
    site: job.site,
    corpusDir: data.corpusDir,
    tokens: rowsWanted,
    cacheDir: data.cacheDir,
    seed: job.seed,
    ...(data.maxFileBytes ? { maxFileBytes: data.maxFileBytes } : {}),
    signal,
    onListing: (files, skipped) => events.log(`corpus ${data.corpusDir}: ${files} text files (skipped ${skipped.tooLarge} too large, ${skipped.binary} binary)`),
    onProgress: (p) => {
      const now = Date.now();
      if (now - lastReport < 1000 && p.done < p.target) return;
      lastReport = now;
      events.progress({
        type: 'progress', phase: 'harvest', step: 0, tokens: p.done, totalTokens: p.target,
        loss: Number.NaN, mse: Number.NaN, fvu: Number.NaN, l0: Number.NaN, deadFraction: Number.NaN,
        tokensPerSecond: p.elapsedMs > 0 ? (p.done / p.elapsedMs) * 1000 : 0, skippedRows: 0,
      });
    },
  });
  const m = cache.manifest;
  events.log(`${cache.reused ? 'reusing' : 'harvested'} ${m.rows.toLocaleString('en-US')} activation rows at ${m.site} (d ${m.dim}) in ${cache.dir}`);
  if (m.rows < rowsWanted) events.log(`the corpus holds only ${m.rows} rows: training loops over them ${(rowsWanted / m.rows).toFixed(1)} times`);
  return { source: openStoreSource(cache.dir, m, { seed: job.seed }), modelName: basename(data.modelPath), contextLength: m.contextLength, datasetPath: data.corpusDir };
}

export async function runTrainJob(start: TrainingStart, signal: AbortSignal, events: JobEvents, options: JobOptions = {}): Promise<TrainSummary> {
  // A folder written by `feature-lens train` stores its command-line options; they map onto a TrainJob.
  const fallbackCache = start.kind === 'resume' ? start.cacheDir ?? dirname(start.checkpointDir) : '';
  const resume = start.kind === 'resume' ? await readTrainerCheckpoint(start.checkpointDir, (raw) => parseSavedTrainJob(raw, fallbackCache)) : undefined;
  // The run continues in the folder it was resumed from, wherever it was first written.
  const job: TrainJob = resume && start.kind === 'resume' ? { ...resume.job.job, outDir: start.checkpointDir } : (start as { job: TrainJob }).job;
  await checkWritable(job.outDir);
  await removeUnfinishedWrites(job.outDir, events);
  const config =
    resume?.state.config ??
    presetConfig({
      architecture: job.arch,
      dSae: job.dSae,
      totalTokens: job.tokens,
      ...(job.preset ? { preset: job.preset as PresetName } : {}),
      ...(job.targetL0 !== undefined ? { targetL0: job.targetL0 } : {}),
      ...(job.l0Coeff !== undefined ? { l0Coeff: job.l0Coeff } : {}),
      ...(job.k !== undefined ? { k: job.k } : {}),
      ...(job.batchSize !== undefined ? { batchSize: job.batchSize } : {}),
      seed: job.seed,
    });

  const data = await openData(job, config.totalTokens + config.initRows, signal, events);
  const { source } = data;
  const chosen = chooseBackend(orAuto(parseBackendChoice, options.backend, events), {
    intraOpThreads: options.intraOpThreads ?? 2,
    sparseThreads: sparseThreadsFor(orAuto(parseSparseThreads, options.sparseThreads, events), config.architecture),
    onNotice: (message) => events.log(message),
  });
  if (chosen.notice) events.log(chosen.notice);
  try {
    const trainer = await startTrainer(config, source, { backend: chosen.backend, ...(resume ? { resume: resume.state } : {}) });
    trainer.onNotice = (message) => events.log(message);
    events.log(`numeric backend: ${trainer.backendName}`);
    if (resume) events.log(`resuming at step ${trainer.step} (${trainer.tokens.toLocaleString('en-US')} tokens) of ${trainer.totalSteps}`);
    else {
      events.log(
        `training ${config.recipe ?? job.arch}, d_sae ${job.dSae} on ${job.site}: ${trainer.totalSteps} steps of ${config.batchSize}, input scale C = ${trainer.inputScale.toPrecision(4)}`,
      );
    }
    const run = await trainToFolder(trainer, source, {
      dir: job.outDir,
      everySteps: job.checkpointEvery,
      // The stored job stays as it was written (a CLI run stays resumable by the CLI).
      context: { job: resume ? resume.job.raw : job, ...(job.site !== 'unknown' ? { hookName: job.site } : {}), ...(job.preset ? { preset: job.preset } : {}), modelName: data.modelName, contextLength: data.contextLength, datasetPath: data.datasetPath },
      signal,
      ...(options.progressIntervalMs !== undefined ? { progressIntervalMs: options.progressIntervalMs } : {}),
      ...(options.pause
        ? { pause: { gate: options.pause, onPaused: (step: number) => events.paused?.(step), onResumed: (step: number) => events.continued?.(step) } }
        : {}),
      onProgress: (p) =>
        events.progress({
          type: 'progress', phase: 'train', step: p.step, tokens: p.tokens, totalTokens: config.totalTokens,
          loss: p.loss, mse: p.mse, fvu: p.fvu, l0: p.l0, deadFraction: p.deadFraction, denseFraction: p.denseFraction,
          tokensPerSecond: p.tokensPerSecond, skippedRows: p.skippedRowsTotal,
        }),
      onCheckpoint: (dir, step, tokens) => events.checkpoint(dir, step, tokens),
    });
    const { mse, fvu, l0, deadFraction } = run.final;
    return { outDir: job.outDir, steps: run.steps, tokens: run.tokens, seconds: run.seconds, final: { mse, fvu, l0, deadFraction }, cancelled: run.stopped };
  } finally {
    source.close();
    chosen.dispose();
  }
}

/** An unknown setting value is reported and treated as auto: a typo must not stop a run. */
function orAuto<T>(parse: (value: string | undefined) => T, value: string | undefined, events: JobEvents): T | 'auto' {
  try {
    return parse(value);
  } catch (err) {
    events.log(`${(err as Error).message}; using auto`);
    return 'auto';
  }
}
