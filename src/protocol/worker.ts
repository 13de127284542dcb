// Messages between the extension host and the analysis/training worker (worker_threads).
// Requests carry an id; the worker answers each with exactly one result or error, and may send
// progress events for the same id in between.

export type HostToWorker = { type: 'request'; id: number; request: WorkerRequest } | { type: 'cancel'; id: number };

export type WorkerRequest = { kind: 'ping' };

export type WorkerToHost =
  | { type: 'result'; id: number; result: unknown }
  | { type: 'error'; id: number; message: string }
  | { type: 'progress'; id: number; progress: unknown };
