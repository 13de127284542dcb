// JSON overrides merged into a preset's training config by the benches that take `--…-json` flags: objects
// merge key by key, anything else replaces, and null deletes the key (to drop a preset's option).
export function deepMerge<T>(base: T, over: unknown): T {
  if (over === null) return undefined as T;
  if (typeof over !== 'object' || Array.isArray(over) || typeof base !== 'object' || base === null) return over as T;
  const merged: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [key, value] of Object.entries(over as Record<string, unknown>)) {
    const next = deepMerge(merged[key], value);
    if (next === undefined) delete merged[key];
    else merged[key] = next;
  }
  return merged as T;
}
