// Pause and continue for a long core loop: the loop asks the gate between two units of work and waits
// while it is closed. Waiting is an ordinary promise, so the thread stays free to receive a continue or
// cancel message; an abort also ends the wait (the loop then sees its signal and stops).

export class PauseGate {
  private release: (() => void) | undefined;
  private closed: Promise<void> | undefined;

  get paused(): boolean {
    return this.closed !== undefined;
  }

  /** Closes the gate; returns false when it already was. */
  pause(): boolean {
    if (this.closed) return false;
    this.closed = new Promise<void>((resolve) => (this.release = resolve));
    return true;
  }

  /** Opens the gate and wakes the waiting loop; returns false when it was open. */
  resume(): boolean {
    if (!this.closed) return false;
    const release = this.release;
    this.closed = undefined;
    this.release = undefined;
    release?.();
    return true;
  }

  /** Resolves at once when open; otherwise when resumed or when `signal` aborts. */
  async wait(signal?: AbortSignal): Promise<void> {
    const closed = this.closed;
    if (!closed || signal?.aborted) return;
    await new Promise<void>((resolve) => {
      const onAbort = () => resolve();
      signal?.addEventListener('abort', onAbort, { once: true });
      void closed.then(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      });
    });
  }
}
