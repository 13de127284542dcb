// Reading the small JSON side files of an SAE or run folder (metrics.json, trainer_state.json, cfg.json) for
// summaries: anything missing, too large or unreadable is "not there" rather than an error.
import { existsSync, readFileSync, statSync } from 'node:fs';

/** The JSON object in `path`, or undefined when it is missing, larger than `maxBytes`, or not an object. */
export function readSmallJsonObject(path: string, maxBytes: number): Record<string, unknown> | undefined {
  try {
    if (!existsSync(path) || statSync(path).size > maxBytes) return undefined;
    const v = JSON.parse(readFileSync(path, 'utf8')) as unknown;
    return asObject(v);
  } catch {
    return undefined;
  }
}

/** `v` as a plain JSON object, or undefined for arrays, null and scalars. */
export function asObject(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}
