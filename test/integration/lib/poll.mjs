// Waiting on conditions instead of sleeping: the workbench's timing varies a lot between machines.

/**
 * Calls `condition` until it returns a truthy value (which is returned) or `timeout` ms pass.
 * Exceptions count as "not yet"; the last one is quoted in the timeout error.
 */
export async function waitFor(condition, { timeout = 30_000, interval = 250, what = 'a condition' } = {}) {
  const deadline = Date.now() + timeout;
  let lastError;
  for (;;) {
    try {
      const value = await condition();
      if (value) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const why = lastError ? ` (last error: ${firstLine(lastError)})` : '';
      throw new Error(`timed out after ${timeout} ms waiting for ${what}${why}`);
    }
    await new Promise((resolve) => setTimeout(resolve, interval));
  }
}

export function firstLine(error) {
  return String(error?.message ?? error).split('\n')[0];
}
