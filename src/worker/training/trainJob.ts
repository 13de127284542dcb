// One training job as the worker runs it: get rows (harvest a corpus or open a .npy), build or restore
// the trainer, step it with throttled progress and periodic checkpoints, and save on cancel so the
// run can be resumed. Independent of worker_threads so it can be tested in-process as well.
import { basename } from 'node:path';
import { presetConfig } from '../../core/train/presets';
import { SaeTrainer, type StepMetrics } from '../../core/train/trainer';
import { harvestCorpus } from '../../core/store/harvestCorpus';
import { openNpySource, openStoreSource } from '../../core/store/sources';
import type { ActivationSource } from '../../core/store/types';
import { yieldToEventLoop } from '../../core/util/abort';
import type { TrainingStart, TrainJob, TrainProgressEvent, TrainSummary } from '../../protocol/training';
import { readTrainerCheckpoint, saveTrainerCheckpoint, type CheckpointContext } from './trainerCheckpoint';


export interface JobEvents {
  progress(event: TrainProgressEvent): void;
  checkpoint(dir: string, step: number, tokens: number): void;
  log(message: string): void;
}

export interface JobOptions {
  readonly progressIntervalMs?: number;
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
  const resume = start.kind === 'resume' ? await readTrainerCheckpoint(start.checkpointDir) : undefined;
  const job = resume ? { ...resume.job, outDir: start.kind === 'resume' ? start.checkpointDir : resume.job.outDir } : (start as { job: TrainJob }).job;
  const config =
    resume?.state.config ??
    presetConfig({
      architecture: job.arch,
      dSae: job.dSae,
      totalTokens: job.tokens,
      ...(job.preset ? { preset: job.preset as 'default' | 'paper' } : {}),
      ...(job.targetL0 !== undefined ? { targetL0: job.targetL0 } : {}),
      ...(job.l0Coeff !== undefined ? { l0Coeff: job.l0Coeff } : {}),
      ...(job.k !== undefined ? { k: job.k } : {}),
      ...(job.batchSize !== undefined ? { batchSize: job.batchSize } : {}),
      seed: job.seed,
    });

  const data = await openData(job, config.totalTokens + config.initRows, signal, events);
  const { source } = data;
  try {
    let trainer: SaeTrainer;
    if (resume) {
      const wEnc = resume.state.params.W_enc ?? resume.state.params.W_gate;
      if (wEnc && wEnc.length !== source.dIn * config.dSae) {
        throw new Error(`the checkpoint's SAE reads d_in ${wEnc.length / config.dSae} but the data has d ${source.dIn}`);
      }
      trainer = SaeTrainer.fromState(resume.state, source.dIn);
      if (resume.state.source !== undefined) source.setState(resume.state.source);
      events.log(`resuming at step ${trainer.step} (${trainer.tokens.toLocaleString('en-US')} tokens) of ${trainer.totalSteps}`);
    } else {
      trainer = await SaeTrainer.create(config, source);
      events.log(`training ${job.arch} d_sae ${job.dSae} on ${job.site}: ${trainer.totalSteps} steps of ${config.batchSize}, input scale C = ${trainer.inputScale.toPrecision(4)}`);
    }
    const ctx: CheckpointContext = { job, modelName: data.modelName, contextLength: data.contextLength, datasetPath: data.datasetPath };
    const save = async (summary?: Record<string, unknown>) => {
      await saveTrainerCheckpoint(job.outDir, trainer, source, summary ? { ...ctx, summary } : ctx);
      events.checkpoint(job.outDir, trainer.step, trainer.tokens);
    };

    const interval = options.progressIntervalMs ?? 1000;
    const started = performance.now();
    const startTokens = trainer.tokens;
    let lastReport = -Infinity;
    let lastBreath = started;
    let last: StepMetrics | undefined;
    const report = (m: StepMetrics) => {
      const seconds = (performance.now() - started) / 1000;
      events.progress({
        type: 'progress', phase: 'train', step: m.step, tokens: m.tokens, totalTokens: config.totalTokens,
        loss: m.loss, mse: m.mse, fvu: m.fvu, l0: m.l0, deadFraction: m.deadFraction,
        tokensPerSecond: seconds > 0 ? (m.tokens - startTokens) / seconds : 0, skippedRows: trainer.skippedRowsTotal,
      });
    };
    while (!trainer.done && !signal.aborted) {
      const m = trainer.trainStep(source.nextBatch(config.batchSize));
      if (m) last = m;
      const now = performance.now();
      if (m && (now - lastReport >= interval || trainer.done)) {
        lastReport = now;
        report(m);
      }
      if (job.checkpointEvery > 0 && m && trainer.step % job.checkpointEvery === 0 && !trainer.done) await save();
      if (now - lastBreath > 50) {
        await yieldToEventLoop(); // lets a cancel message in
        lastBreath = performance.now();
      }
    }
    const cancelled = !trainer.done;
    const final = { mse: last?.mse ?? Number.NaN, fvu: last?.fvu ?? Number.NaN, l0: last?.l0 ?? Number.NaN, deadFraction: last?.deadFraction ?? Number.NaN };
    const seconds = (performance.now() - started) / 1000;
    await save(cancelled ? undefined : { final, steps: trainer.step, tokens: trainer.tokens, seconds, skippedRows: trainer.skippedRowsTotal });
    return { outDir: job.outDir, steps: trainer.step, tokens: trainer.tokens, seconds, final, cancelled };
  } finally {
    source.close();
  }
}
