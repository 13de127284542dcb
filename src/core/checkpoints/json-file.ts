// Small JSON files (configs, states, labels) read with a size cap and a clear message on bad JSON.

import { readFileSync, statSync } from 'node:fs';
import { formatError } from './limits';

export const MAX_JSON_BYTES = 64 * 2 ** 20;

export function readJsonFile(path: string, maxBytes = MAX_JSON_BYTES): unknown {
  const size = statSync(path).size;
  if (size > maxBytes) throw formatError(path, `is ${size} bytes, over the ${maxBytes}-byte limit for a JSON file`);
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw formatError(path, `is not valid JSON (${(err as Error).message})`);
  }
}

export function readJsonObject(path: string, maxBytes = MAX_JSON_BYTES): Record<string, unknown> {
  const json = readJsonFile(path, maxBytes);
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw formatError(path, 'must hold a JSON object');
  return json as Record<string, unknown>;
}

export function encodeJson(value: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value, null, 2) + '\n');
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
