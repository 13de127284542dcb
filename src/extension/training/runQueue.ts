// The training runs of this window: started runs wait in a queue and train one after another, each
// with its status, progress and the whole history of its curves (kept here, so closing a Training view
// loses nothing and reopening it shows everything). No vscode import: the queue is plain logic over a
// `launch` function (the real one starts a training worker), so it is tested without VS Code.
import type { TrainingStart, TrainProgressEvent } from '../../protocol/training';
import type { TrainingPoint, TrainingRunInfo } from '../../protocol/trainingView';
import { isLiveStatus, type TrainingStatus } from '../../protocol/trainingStatus';
import type { TrainingListener, TrainingOutcome } from './trainingClient';

/** What the queue needs of a started run (TrainingRun has exactly this). */
export interface RunHandle {
  readonly outcome: Promise<TrainingOutcome>;
  cancel(): void;
  pause(): void;
  continue(): void;
  kill(): Promise<void>;
}

export type Launch = (start: TrainingStart, listener: TrainingListener) => RunHandle;

/** A run cancelled while it waited in the queue never started a worker. */
export const CANCELLED_IN_QUEUE: TrainingOutcome = { kind: 'error', message: 'cancelled' };

/** Past this many points the older half of a history is thinned to every other point. */
export const MAX_HISTORY_POINTS = 4000;

export interface QueuedRun {
  readonly id: string;
  readonly start: TrainingStart;
  readonly history: TrainingPoint[];
  info: TrainingRunInfo;
  /** Raised each time the history was thinned (the views then need it whole again). */
  historyRevision: number;
  readonly outcome: Promise<TrainingOutcome>;
}

interface Internal extends QueuedRun {
  handle?: RunHandle;
  settle(outcome: TrainingOutcome): void;
}

export interface QueueEvents {
  /** Status, progress or message changed. */
  changed?(run: QueuedRun): void;
  /** Points were appended to the run's history (from index `start`). */
  points?(run: QueuedRun, start: number): void;
  /** A worker's log line, a checkpoint written, an outcome: for the training log. */
  log?(run: QueuedRun, line: string): void;
}

export function pointOf(p: TrainProgressEvent): TrainingPoint {
  return {
    step: p.step,
    tokens: p.tokens,
    loss: p.loss,
    mse: p.mse,
    fvu: p.fvu,
    l0: p.l0,
    deadFraction: p.deadFraction,
    ...(p.denseFraction !== undefined ? { denseFraction: p.denseFraction } : {}),
    tokensPerSecond: p.tokensPerSecond,
  };
}

function outDirOf(start: TrainingStart): string {
  return start.kind === 'start' ? start.job.outDir : start.checkpointDir;
}

export class RunQueue {
  private readonly all: Internal[] = [];
  private nextId = 1;
  private disposed = false;

  constructor(
    private readonly launch: Launch,
    private readonly events: QueueEvents = {},
  ) {}

  get runs(): readonly QueuedRun[] {
    return this.all;
  }

  get current(): QueuedRun | undefined {
    return this.all.find((r) => r.info.status === 'running' || r.info.status === 'paused');
  }

  find(id: string): QueuedRun | undefined {
    return this.all.find((r) => r.id === id);
  }

  /** The newest run writing to `outDir`. */
  byOutDir(outDir: string): QueuedRun | undefined {
    for (let i = this.all.length - 1; i >= 0; i--) if (this.all[i].info.outDir === outDir) return this.all[i];
    return undefined;
  }

  /**
   * Queues a run; it starts when the runs before it have ended. `history` seeds the curves (a resumed
   * run's earlier points). Refused (undefined) while another live run writes to the same folder.
   */
  enqueue(start: TrainingStart, title: string, extra: { targetL0?: number; history?: readonly TrainingPoint[] } = {}): QueuedRun | undefined {
    const outDir = outDirOf(start);
    const clash = this.all.find((r) => r.info.outDir === outDir && isLiveStatus(r.info.status));
    if (clash) return undefined;
    let settle!: (o: TrainingOutcome) => void;
    const outcome = new Promise<TrainingOutcome>((resolve) => (settle = resolve));
    const run: Internal = {
      id: `run-${this.nextId++}`,
      start,
      history: [...(extra.history ?? [])],
      historyRevision: 0,
      info: {
        id: '',
        title,
        outDir,
        status: 'queued',
        pausing: false,
        phase: 'waiting',
        fraction: 0,
        ...(start.kind === 'start' ? { totalTokens: start.job.tokens } : {}),
        ...(extra.targetL0 !== undefined ? { targetL0: extra.targetL0 } : {}),
      },
      outcome,
      settle,
    };
    run.info = { ...run.info, id: run.id };
    this.all.push(run);
    this.events.changed?.(run);
    this.pump();
    return run;
  }

  cancel(id: string): boolean {
    const run = this.internal(id);
    if (!run || !isLiveStatus(run.info.status)) return false;
    if (run.info.status === 'queued') {
      this.finish(run, CANCELLED_IN_QUEUE);
      this.pump();
      return true;
    }
    this.update(run, { message: 'cancelling… (a checkpoint is saved first)' });
    // A paused worker is waiting on its gate; cancel wakes it (the abort ends the wait).
    run.handle?.cancel();
    return true;
  }

  pause(id: string): boolean {
    const run = this.internal(id);
    if (!run || run.info.status !== 'running' || run.info.pausing) return false;
    run.handle?.pause();
    this.update(run, { pausing: true });
    return true;
  }

  /** Continues a paused run from the very state it stopped in. */
  resume(id: string): boolean {
    const run = this.internal(id);
    if (!run || !(run.info.status === 'paused' || run.info.pausing)) return false;
    run.handle?.continue();
    return true;
  }

  /**
   * Stops a run's worker at once, without a final save: what closing the window does to a run. The last
   * checkpoint stays as it is (it was swapped in atomically) and the run ends as failed, naming it.
   */
  async stopNow(id: string): Promise<boolean> {
    const run = this.internal(id);
    if (!run?.handle || !isLiveStatus(run.info.status)) return false;
    await run.handle.kill();
    return true;
  }

  /** Window closing: stops every worker at once (their last checkpoints stay as they are). */
  async dispose(): Promise<void> {
    this.disposed = true;
    await Promise.all(this.all.map((r) => this.stopNow(r.id)));
  }

  private internal(id: string): Internal | undefined {
    return this.all.find((r) => r.id === id);
  }

  private update(run: Internal, patch: Partial<TrainingRunInfo>): void {
    run.info = { ...run.info, ...patch };
    this.events.changed?.(run);
  }

  private append(run: Internal, point: TrainingPoint): void {
    const last = run.history[run.history.length - 1];
    // A resumed run reports again from its checkpoint's step: later points of the earlier try go.
    if (last && point.step <= last.step) {
      while (run.history.length > 0 && run.history[run.history.length - 1].step >= point.step) run.history.pop();
      run.historyRevision++;
    }
    if (run.history.length >= MAX_HISTORY_POINTS) {
      const half = Math.floor(run.history.length / 2);
      const thinned = run.history.slice(0, half).filter((_, i) => i % 2 === 0);
      run.history.splice(0, half, ...thinned);
      run.historyRevision++;
    }
    const start = run.history.length;
    run.history.push(point);
    this.events.points?.(run, start);
  }

  private pump(): void {
    if (this.disposed || this.current || this.all.some((r) => r.handle && isLiveStatus(r.info.status))) return;
    const next = this.all.find((r) => r.info.status === 'queued');
    if (!next) return;
    this.update(next, { status: 'running', phase: 'waiting', message: 'starting…' });
    const log = (line: string) => this.events.log?.(next, line);
    try {
      next.handle = this.launch(next.start, {
        progress: (p) => {
          const fraction = p.totalTokens > 0 ? Math.min(1, p.tokens / p.totalTokens) : 0;
          if (p.phase === 'harvest') {
            this.update(next, { phase: 'harvest', fraction, message: `harvesting activations: ${p.tokens.toLocaleString('en-US')} / ${p.totalTokens.toLocaleString('en-US')} tokens` });
            return;
          }
          if (next.info.phase !== 'train' || next.info.totalTokens !== p.totalTokens || next.info.message !== undefined) {
            this.update(next, { phase: 'train', totalTokens: p.totalTokens, message: undefined });
          }
          next.info = { ...next.info, fraction };
          this.append(next, pointOf(p));
        },
        checkpoint: (dir, step) => {
          this.update(next, { checkpointStep: step });
          log(`checkpoint saved at step ${step}: ${dir}`);
        },
        log,
        paused: (step) => {
          this.update(next, { status: 'paused', pausing: false });
          log(`paused at step ${step} (checkpoint saved)`);
        },
        continued: (step) => {
          this.update(next, { status: 'running', pausing: false });
          log(`continued at step ${step}`);
        },
      });
    } catch (err) {
      this.finish(next, { kind: 'error', message: err instanceof Error ? err.message : String(err) });
      this.pump();
      return;
    }
    void next.handle.outcome.then((outcome) => {
      this.finish(next, outcome);
      this.pump();
    });
  }

  private finish(run: Internal, outcome: TrainingOutcome): void {
    let status: TrainingStatus;
    let message: string | undefined;
    if (outcome.kind === 'done') {
      status = outcome.summary.cancelled ? 'cancelled' : 'finished';
      message = outcome.summary.cancelled ? `cancelled at step ${outcome.summary.steps}; the checkpoint can resume` : undefined;
    } else if (outcome.message === 'cancelled') {
      status = 'cancelled';
      message = run.info.status === 'queued' ? 'cancelled before it started' : 'cancelled before training started';
    } else {
      status = 'failed';
      message = outcome.message;
    }
    this.update(run, { status, pausing: false, ...(status === 'finished' ? { fraction: 1 } : {}), message });
    run.settle(outcome);
  }
}
