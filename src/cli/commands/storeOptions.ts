// Bits shared by the commands that harvest: the default cache folder and a throttled progress line.
import { join } from 'node:path';
import type { HarvestProgress } from '../../core/store/harvest';

export function defaultCacheDir(): string {
  return join(process.cwd(), '.feature-lens-cache', 'activations');
}

/** Progress on stderr at most twice a second, overwriting one line when stderr is a terminal. */
export function progressLine(): (p: HarvestProgress) => void {
  let last = 0;
  return (p) => {
    const now = Date.now();
    if (now - last < 500 && p.done < p.target) return;
    last = now;
    const rate = p.elapsedMs > 0 ? Math.round((p.done / p.elapsedMs) * 1000) : 0;
    const text = `${p.phase}: ${p.done.toLocaleString('en-US')} / ${p.target.toLocaleString('en-US')} tokens (${rate.toLocaleString('en-US')}/s)`;
    process.stderr.write(process.stderr.isTTY ? `\r${text}   ` : `${text}\n`);
  };
}
