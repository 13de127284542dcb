// A training run that lives in a checkpoint folder, as the training worker and `feature-lens train` run
// it: the driver steps the trainer, the folder is rewritten every `everySteps` steps, and once more at the
// end — with the run's summary when the budget was reached, without it when the run was cancelled or
// stopped early, so the folder can be resumed.
import { keepCheckpoint } from '../compare/runHistory';
import { drive, trainToEnd, type DriveOptions, type TrainProgress } from './driver';
import type { DataSource } from './dataSource';
import type { SaeTrainer } from './trainer';
import { saveTrainerCheckpoint, type CheckpointContext } from './trainerCheckpoint';

export interface FolderRunOptions {
  readonly dir: string;
  /** Steps between checkpoints (0: only at the end). */
  readonly everySteps: number;
  readonly context: Omit<CheckpointContext, 'summary'>;
  readonly signal?: AbortSignal;
  readonly progressIntervalMs?: number;
  /** Stop after this many steps in this call; the folder stays resumable. */
  readonly maxSteps?: number;
  /** Pause/continue between steps (a checkpoint is saved before the loop waits). */
  readonly pause?: DriveOptions['pause'];
  /** Extra fields for the summary in metrics.json. */
  readonly summary?: Record<string, unknown>;
  onProgress?(progress: TrainProgress): void;
  onCheckpoint?(dir: string, step: number, tokens: number): void;
}

export interface FolderRunSummary {
  readonly steps: number;
  readonly tokens: number;
  readonly seconds: number;
  readonly skippedRows: number;
  /** Metrics of the last step taken (NaN if none was). */
  readonly final: { readonly loss: number; readonly mse: number; readonly fvu: number; readonly l0: number; readonly deadFraction: number };
  /** Stopped before the budget (cancelled or maxSteps): the folder holds a resumable run. */
  readonly stopped: boolean;
}

export async function trainToFolder(trainer: SaeTrainer, source: DataSource, options: FolderRunOptions): Promise<FolderRunSummary> {
  const { dir, context } = options;
  if (trainer.done) {
    // A finished run resumed again: the folder already holds it and its summary; leave both as they are.
    const h = trainer.history[trainer.history.length - 1];
    const final = { loss: h?.loss ?? Number.NaN, mse: h?.mse ?? Number.NaN, fvu: h?.fvu ?? Number.NaN, l0: h?.l0 ?? Number.NaN, deadFraction: h?.deadFraction ?? Number.NaN };
    return { steps: trainer.step, tokens: trainer.tokens, seconds: 0, skippedRows: trainer.skippedRowsTotal, final, stopped: false };
  }
  const save = async (summary?: Record<string, unknown>) => {
    await saveTrainerCheckpoint(dir, trainer, source, summary ? { ...context, summary } : context);
    // The run's history (compare's Pareto view, feature genealogy): a copy that cannot be written only
    // means a shorter history, never a failed run.
    await keepCheckpoint(dir, trainer.step).catch(() => undefined);
    options.onCheckpoint?.(dir, trainer.step, trainer.tokens);
  };
  const started = performance.now();
  const { last } = await trainToEnd(
    drive(trainer, source, options.signal, {
      ...(options.progressIntervalMs !== undefined ? { progressIntervalMs: options.progressIntervalMs } : {}),
      ...(options.maxSteps !== undefined ? { maxSteps: options.maxSteps } : {}),
      ...(options.pause ? { pause: options.pause } : {}),
      checkpoint: { everySteps: options.everySteps, save: () => save() },
    }),
    options.onProgress,
  );
  const seconds = (performance.now() - started) / 1000;
  const final = {
    loss: last?.loss ?? Number.NaN,
    mse: last?.mse ?? Number.NaN,
    fvu: last?.fvu ?? Number.NaN,
    l0: last?.l0 ?? Number.NaN,
    deadFraction: last?.deadFraction ?? Number.NaN,
  };
  const result = { steps: trainer.step, tokens: trainer.tokens, seconds, skippedRows: trainer.skippedRowsTotal, final, stopped: !trainer.done };
  await save(result.stopped ? undefined : { ...options.summary, final, steps: result.steps, tokens: result.tokens, seconds, skippedRows: result.skippedRows });
  return result;
}
