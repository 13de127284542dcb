// A training run's life in this window: waiting in the queue, stepping, held by a pause, then one of
// three ends. 'interrupted' is a run folder found on disk that stopped before its budget (it can resume).
export type TrainingStatus = 'queued' | 'running' | 'paused' | 'finished' | 'failed' | 'cancelled' | 'interrupted';

/** Statuses whose run has a worker (or waits for one) in this window. */
export function isLiveStatus(status: TrainingStatus): boolean {
  return status === 'queued' || status === 'running' || status === 'paused';
}
