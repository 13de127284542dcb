// Tiny structural checks for messages that cross a trust boundary (webview, worker).
// The protocol runs in Node and in the browser, so it carries no dependencies.

export type Check<T> = (value: unknown) => value is T;

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
