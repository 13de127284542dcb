// What the Training webview shows of one run: its status and the curve points, sent whole when the page
// (re)loads and as appended points while the run goes. Both sides import this file.
import type { TrainProgressEvent } from './training';
import type { TrainingStatus } from './trainingStatus';

/**
 * One point of the curves: a progress report of the training phase. Speed is unknown for points read back
 * from a checkpoint's metrics.json (and so is the dense fraction, optional already).
 */
export type TrainingPoint = Pick<TrainProgressEvent, 'step' | 'tokens' | 'loss' | 'mse' | 'fvu' | 'l0' | 'deadFraction' | 'denseFraction'> &
  Partial<Pick<TrainProgressEvent, 'tokensPerSecond'>>;

export interface TrainingRunInfo {
  readonly id: string;
  readonly title: string;
  readonly outDir: string;
  readonly status: TrainingStatus;
  /** Asked to pause, not stopped yet. */
  readonly pausing: boolean;
  readonly phase: 'waiting' | 'harvest' | 'train';
  /** 0..1 of the phase under way. */
  readonly fraction: number;
  readonly totalTokens?: number;
  /** The L0 a target-L0 recipe steers to (drawn as a line on the L0 chart). */
  readonly targetL0?: number;
  /** The last checkpoint written (its step), if any. */
  readonly checkpointStep?: number;
  /** Why it failed, or the last log line worth showing. */
  readonly message?: string;
}

export type TrainingAction = 'cancel' | 'pause' | 'resume' | 'openCheckpoint';
export const TRAINING_ACTIONS: readonly TrainingAction[] = ['cancel', 'pause', 'resume', 'openCheckpoint'];
