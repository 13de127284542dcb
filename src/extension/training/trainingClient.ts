// Host side of one training run: starts dist/trainWorker.js, forwards validated events, and turns an
// unexpected worker exit into a clear "stopped" outcome. Nothing is restarted automatically; the last
// checkpoint on disk is what the user resumes from.
import { Worker } from 'node:worker_threads';
import {
  type HostToTrainer,
  parseTrainerToHost,
  type TrainerToHost,
  type TrainingStart,
  TRAINING_PROTOCOL_VERSION,
  type TrainProgressEvent,
  type TrainSummary,
  type TrainWorkerSettings,
} from '../../protocol/training';
import { recoverFolder } from '../../core/util/atomic';

export type TrainingOutcome =
  | { readonly kind: 'done'; readonly summary: TrainSummary }
  | { readonly kind: 'error'; readonly message: string }
  /** The worker died without answering (killed, out of memory, native crash). */
  | { readonly kind: 'crashed'; readonly message: string };

export interface TrainingListener {
  progress(event: TrainProgressEvent): void;
  checkpoint(dir: string, step: number, tokens: number): void;
  log(message: string): void;
  /** The worker stopped stepping after a pause request / started again. */
  paused?(step: number): void;
  continued?(step: number): void;
}

/** How long a stop-now request may take before the worker is terminated anyway. */
const KILL_GRACE_MS = 10_000;

export class TrainingRun {
  readonly outcome: Promise<TrainingOutcome>;
  private readonly worker: Worker;
  private lastCheckpoint?: { dir: string; step: number };
  private settled = false;

  constructor(workerFile: string, start: TrainingStart, listener: TrainingListener, settings: TrainWorkerSettings = {}) {
    this.worker = new Worker(workerFile, { workerData: settings });
    this.outcome = new Promise<TrainingOutcome>((resolve) => {
      const finish = (o: TrainingOutcome) => {
        if (this.settled) return;
        this.settled = true;
        resolve(o);
        // The worker exits by itself after answering; terminate covers a stuck one.
        void this.worker.terminate();
      };
      this.worker.on('message', (raw: unknown) => {
        const parsed = parseTrainerToHost(raw);
        if (!parsed.ok) {
          listener.log(`ignored a malformed message from the training worker: ${parsed.reason}`);
          return;
        }
        const m: TrainerToHost = parsed.value;
        switch (m.type) {
          case 'progress':
            listener.progress(m);
            break;
          case 'log':
            listener.log(m.message);
            break;
          case 'paused':
            listener.paused?.(m.step);
            break;
          case 'continued':
            listener.continued?.(m.step);
            break;
          case 'checkpoint-saved':
            this.lastCheckpoint = { dir: m.dir, step: m.step };
            listener.checkpoint(m.dir, m.step, m.tokens);
            break;
          case 'done':
            finish({ kind: 'done', summary: m.summary });
            break;
          case 'error':
            finish({ kind: 'error', message: m.message });
            break;
        }
      });
      // A worker killed between the two renames of a checkpoint swap leaves the previous checkpoint moved
      // aside; put it back before reporting, so the folder the message names is whole.
      const crashed = (what: string) => {
        if (this.settled) return;
        const cp = this.lastCheckpoint;
        void (cp ? recoverFolder(cp.dir).catch(() => false) : Promise.resolve(false)).then(() =>
          finish({ kind: 'crashed', message: this.crashMessage(what) }),
        );
      };
      this.worker.on('error', (err) => crashed(`failed: ${err.message}`));
      this.worker.on('exit', (code) => crashed(`exited with code ${code}`));
    });
    const message: HostToTrainer =
      start.kind === 'start'
        ? { type: 'start', protocol: TRAINING_PROTOCOL_VERSION, job: start.job }
        : { type: 'resume', protocol: TRAINING_PROTOCOL_VERSION, checkpointDir: start.checkpointDir, ...(start.cacheDir !== undefined ? { cacheDir: start.cacheDir } : {}) };
    this.worker.postMessage(message);
  }

  cancel(): void {
    if (!this.settled) this.worker.postMessage({ type: 'cancel' } satisfies HostToTrainer);
  }

  /** Asks the worker to stop stepping after the current step (it saves a checkpoint, then waits). */
  pause(): void {
    if (!this.settled) this.worker.postMessage({ type: 'pause' } satisfies HostToTrainer);
  }

  /** Asks a paused worker to step again from the same state. */
  continue(): void {
    if (!this.settled) this.worker.postMessage({ type: 'continue' } satisfies HostToTrainer);
  }

  /**
   * Stops the worker without a final save (extension shutdown): the last checkpoint stays as it is. The
   * worker is asked to exit at its next step boundary; terminating it while onnxruntime runs a kernel
   * aborts the whole extension host (seen in the integration tests), so terminate is only the fallback.
   */
  async kill(): Promise<void> {
    if (this.settled) return;
    this.worker.postMessage({ type: 'stop-now' } satisfies HostToTrainer);
    let timer: NodeJS.Timeout | undefined;
    const gaveUp = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), KILL_GRACE_MS)));
    const result = await Promise.race([this.outcome, gaveUp]);
    clearTimeout(timer);
    if (result === 'timeout') await this.worker.terminate();
  }

  private crashMessage(what: string): string {
    const cp = this.lastCheckpoint;
    const tail = cp ? ` The last checkpoint (step ${cp.step}) is in ${cp.dir}; "Feature Lens: Resume Training…" continues from it.` : ' No checkpoint had been written yet.';
    return `The training worker stopped unexpectedly (${what}).${tail}`;
  }
}
