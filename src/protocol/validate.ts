// Tiny structural checks for messages that cross a trust boundary (webview, worker).
// The protocol runs in Node and in the browser, so it carries no dependencies.

/** What every parser of untrusted input returns: the typed value, or why it was refused. */
export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string };

export function refuse<T>(reason: string): Parsed<T> {
  return { ok: false, reason };
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function hasString(value: Record<string, unknown>, key: string): boolean {
  return typeof value[key] === 'string';
}

export function hasFiniteNumber(value: Record<string, unknown>, key: string): boolean {
  return typeof value[key] === 'number' && Number.isFinite(value[key] as number);
}

/** Describes why a message was refused, for the log. */
export function describeUnknown(value: unknown): string {
  if (!isRecord(value)) return `a ${value === null ? 'null' : typeof value} instead of an object`;
  const type = value.type;
  return typeof type === 'string' ? `unknown or malformed message type "${type}"` : 'a message without a "type"';
}
