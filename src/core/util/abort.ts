// Cooperative cancellation for long core jobs driven by an AbortSignal.

export class CancellationError extends Error {
  constructor(message = 'cancelled') {
    super(message);
    this.name = 'CancellationError';
  }
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new CancellationError();
}

export function isCancellation(err: unknown): boolean {
  return err instanceof CancellationError || (err instanceof Error && err.name === 'AbortError');
}

/** Let queued events (e.g. a worker's cancel message) run inside a long synchronous loop. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
