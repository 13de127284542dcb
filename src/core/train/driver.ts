// The one training loop. Every run — the extension's training worker, `feature-lens train`, tests and
// benchmarks — steps its SaeTrainer here: throttled progress, a breath for the event loop so a cancel
// can arrive, AbortSignal cancellation and periodic checkpoints.
import { denseFraction } from '../metrics/sparsity';
import type { SaeWeights } from '../sae/weights';
import type { NumericBackend } from '../tensor';
import { CancellationError, throwIfAborted, yieldToEventLoop } from '../util/abort';
import type { PauseGate } from '../util/pauseGate';
import type { TrainConfig } from './config';
import type { DataSource } from './dataSource';
import { SaeTrainer, type StepMetrics, type TrainerState } from './trainer';

export interface TrainProgress extends StepMetrics {
  readonly totalSteps: number;
  readonly tokensPerSecond: number;
  readonly skippedRowsTotal: number;
  /** Fraction of latents firing on more than 10% of the tokens seen so far. */
  readonly denseFraction: number;
  readonly done: boolean;
}

export interface DriveOptions {
  /** Minimum time between progress events (the last step always reports). */
  readonly progressIntervalMs?: number;
  /** Stop after this many steps in this call (for tests and chunked runs); the state stays resumable. */
  readonly maxSteps?: number;
  /** Called every `everySteps` steps before the end (the caller saves the final state itself). */
  readonly checkpoint?: { readonly everySteps: number; save(trainer: SaeTrainer): Promise<void> };
  /**
   * Between two steps the loop waits while this gate is closed (pause). Before waiting it saves a
   * checkpoint (when `checkpoint` is given and the step is not saved yet), so a paused run loses nothing
   * if the process goes away; `onPaused`/`onResumed` report when stepping really stopped and restarted.
   */
  readonly pause?: { readonly gate: PauseGate; onPaused?(step: number): void; onResumed?(step: number): void };
}

export interface TrainOptions extends DriveOptions {
  readonly backend?: NumericBackend;
  /** Continue from this state (the source is restored from state.source when it supports it). */
  readonly resume?: TrainerState;
}

export interface DriveOutcome {
  /** The metrics of the last step taken in this call (undefined if none was usable). */
  readonly last?: StepMetrics;
  /** The signal aborted the run between two steps. */
  readonly cancelled: boolean;
}

export interface TrainResult {
  readonly weights: SaeWeights;
  readonly state: TrainerState;
  readonly trainer: SaeTrainer;
}

/**
 * A trainer ready to step: fresh from `config`, or `resume`d (then the source continues where the state
 * says, and the config stored in the state wins).
 */
export async function startTrainer(
  config: TrainConfig,
  source: DataSource,
  options: { readonly backend?: NumericBackend; readonly resume?: TrainerState } = {},
): Promise<SaeTrainer> {
  const { resume } = options;
  if (!resume) return SaeTrainer.create(config, source, options.backend);
  const wEnc = resume.params.W_enc ?? resume.params.W_gate;
  if (wEnc && wEnc.length !== source.dIn * resume.config.dSae) {
    throw new Error(`the checkpoint's SAE reads d_in ${wEnc.length / resume.config.dSae} but the data has d ${source.dIn}`);
  }
  const trainer = SaeTrainer.fromState(resume, source.dIn, options.backend);
  if (resume.source !== undefined && source.setState) source.setState(resume.source);
  return trainer;
}

/**
 * Steps `trainer` on batches from `source` until its budget (or maxSteps) is reached or `signal` aborts,
 * yielding throttled progress. The trainer always holds whole steps, so it can be saved and resumed.
 */
export async function* drive(
  trainer: SaeTrainer,
  source: DataSource,
  signal?: AbortSignal,
  options: DriveOptions = {},
): AsyncGenerator<TrainProgress, DriveOutcome> {
  const interval = options.progressIntervalMs ?? 1000;
  const start = performance.now();
  const startTokens = trainer.tokens;
  let lastReport = -Infinity;
  let lastBreath = start;
  let stepsThisCall = 0;
  let last: StepMetrics | undefined;
  let pausedMs = 0;
  let savedStep = -1;
  while (!trainer.done && (options.maxSteps === undefined || stepsThisCall < options.maxSteps)) {
    if (signal?.aborted) return { last, cancelled: true };
    const { pause, checkpoint } = options;
    if (pause?.gate.paused) {
      const since = performance.now();
      if (checkpoint && savedStep !== trainer.step && trainer.step > 0) {
        await checkpoint.save(trainer);
        savedStep = trainer.step;
      }
      pause.onPaused?.(trainer.step);
      await pause.gate.wait(signal);
      pausedMs += performance.now() - since;
      if (signal?.aborted) return { last, cancelled: true };
      pause.onResumed?.(trainer.step);
      lastBreath = performance.now();
    }
    const batch = await source.nextBatch(trainer.config.batchSize);
    const m = trainer.trainStep(batch);
    stepsThisCall++;
    if (m) last = m;
    const now = performance.now();
    if (now - lastBreath > 50) {
      await yieldToEventLoop(); // lets a cancel message arrive during long runs
      lastBreath = performance.now();
    }
    const finished = trainer.done || (options.maxSteps !== undefined && stepsThisCall >= options.maxSteps);
    if (m && (now - lastReport >= interval || finished)) {
      lastReport = now;
      const seconds = (now - start - pausedMs) / 1000;
      yield {
        ...m,
        totalSteps: trainer.totalSteps,
        tokensPerSecond: seconds > 0 ? (trainer.tokens - startTokens) / seconds : 0,
        skippedRowsTotal: trainer.skippedRowsTotal,
        denseFraction: denseFraction(trainer.firingFrequencies()),
        done: trainer.done,
      };
    }
    if (checkpoint && checkpoint.everySteps > 0 && m && trainer.step % checkpoint.everySteps === 0 && !trainer.done) {
      await checkpoint.save(trainer);
      savedStep = trainer.step;
    }
  }
  return { last, cancelled: false };
}

/**
 * Starts (or resumes) a run and drives it, yielding progress; returns the folded weights and the final
 * state. An abort throws a CancellationError.
 */
export async function* train(
  config: TrainConfig,
  source: DataSource,
  signal?: AbortSignal,
  options: TrainOptions = {},
): AsyncGenerator<TrainProgress, TrainResult> {
  throwIfAborted(signal);
  const trainer = await startTrainer(config, source, options);
  const outcome = yield* drive(trainer, source, signal, options);
  if (outcome.cancelled) throw new CancellationError();
  return { weights: trainer.exportWeights(), state: trainer.getState(source), trainer };
}

/** Runs a generator to its end, handing each progress event to onProgress. */
export async function trainToEnd<T>(run: AsyncGenerator<TrainProgress, T>, onProgress?: (progress: TrainProgress) => void): Promise<T> {
  for (;;) {
    const it = await run.next();
    if (it.done) return it.value;
    onProgress?.(it.value);
  }
}
