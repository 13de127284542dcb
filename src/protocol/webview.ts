// Messages between the extension host and the webview. Both sides import this file.
import { describeUnknown, hasFiniteNumber, hasString, isRecord } from './validate';

export const PROTOCOL_VERSION = 1;

export interface ModelInfo {
  readonly name: string;
  readonly path: string;
  readonly layers: number;
  readonly dModel: number;
}

export interface SaeInfo {
  readonly name: string;
  readonly path: string;
  readonly architecture: string;
  readonly hookName: string;
  readonly dIn: number;
  readonly dSae: number;
}

export type HostToWebview =
  | { type: 'init'; protocol: number; view: 'welcome'; model?: ModelInfo; sae?: SaeInfo; version: string }
  | { type: 'error'; message: string };

export type WebviewToHost =
  | { type: 'ready' }
  | { type: 'runCommand'; command: string }
  | { type: 'log'; level: 'info' | 'error'; message: string };

/** Commands the webview may ask the host to run; anything else is refused. */
export const WEBVIEW_RUNNABLE_COMMANDS: readonly string[] = ['featureLens.showWelcome'];

export type ParseResult<T> = { ok: true; message: T } | { ok: false; error: string };

/** Validates a message from the webview: it is untrusted input. */
export function parseWebviewMessage(value: unknown): ParseResult<WebviewToHost> {
  if (!isRecord(value)) return { ok: false, error: describeUnknown(value) };
  switch (value.type) {
    case 'ready':
      return { ok: true, message: { type: 'ready' } };
    case 'runCommand':
      if (hasString(value, 'command') && WEBVIEW_RUNNABLE_COMMANDS.includes(value.command as string)) {
        return { ok: true, message: { type: 'runCommand', command: value.command as string } };
      }
      return { ok: false, error: `runCommand with a command the webview may not run: ${String(value.command)}` };
    case 'log':
      if (hasString(value, 'message') && (value.level === 'info' || value.level === 'error')) {
        return { ok: true, message: { type: 'log', level: value.level, message: value.message as string } };
      }
      return { ok: false, error: 'log message without level or text' };
    default:
      return { ok: false, error: describeUnknown(value) };
  }
}

/** Validates a message from the host (the webview trusts the host, but a version skew shows here). */
export function parseHostMessage(value: unknown): ParseResult<HostToWebview> {
  if (!isRecord(value)) return { ok: false, error: describeUnknown(value) };
  switch (value.type) {
    case 'init':
      if (hasFiniteNumber(value, 'protocol') && value.protocol === PROTOCOL_VERSION && hasString(value, 'view')) {
        return { ok: true, message: value as unknown as HostToWebview };
      }
      return { ok: false, error: `init with protocol ${String(value.protocol)}, expected ${PROTOCOL_VERSION}` };
    case 'error':
      return hasString(value, 'message')
        ? { ok: true, message: { type: 'error', message: value.message as string } }
        : { ok: false, error: 'error message without text' };
    default:
      return { ok: false, error: describeUnknown(value) };
  }
}
