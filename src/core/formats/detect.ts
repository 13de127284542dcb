// Format detection and reading: recognise the format from the path, list the hooks of a multi-SAE
// folder, and read into internal weights. Entry points go through open-sae.ts, which builds on this.

import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { DEFAULT_LIMITS, formatError, type LoadLimits } from '../checkpoints/limits';
import type { LoadedSae, SaeFormat } from '../checkpoints/loaded';
import { isSaeLensFolder, readSaeLensFolder } from '../checkpoints/saelens';
import { dictionaryLearningFile, readDictionaryLearning } from './dictionary-learning';
import { gemmaScopeFile, readGemmaScope } from './gemma-scope';
import { isSparsifyFolder, readSparsify } from './sparsify';

export type Detected =
  | { readonly kind: 'single'; readonly format: SaeFormat; readonly path: string }
  /** A folder of several SAEs (sparsify's one sub-folder per hook point, or SAELens folders side by side). */
  | { readonly kind: 'multiple'; readonly hooks: readonly { readonly name: string; readonly format: SaeFormat; readonly path: string }[] };

function detectSingle(path: string): { format: SaeFormat; path: string } | undefined {
  if (!existsSync(path)) return undefined;
  if (statSync(path).isFile()) {
    const name = basename(path);
    if (name.endsWith('.npz')) return { format: 'gemma-scope', path };
    if (/\.(pt|pth)$/.test(name)) return { format: 'dictionary-learning', path };
    if (name === 'sae_weights.safetensors' || name === 'cfg.json') return detectSingle(dirname(path));
    if (name === 'sae.safetensors') return detectSingle(dirname(path));
    if (name === 'params.safetensors') return { format: 'gemma-scope', path };
    return undefined;
  }
  if (isSaeLensFolder(path)) return { format: 'saelens', path };
  if (isSparsifyFolder(path)) return { format: 'sparsify', path };
  if (gemmaScopeFile(path)) return { format: 'gemma-scope', path };
  if (dictionaryLearningFile(path)) return { format: 'dictionary-learning', path };
  return undefined;
}

export function detectSaeFormat(path: string): Detected {
  if (!existsSync(path)) throw formatError(path, 'does not exist');
  const single = detectSingle(path);
  if (single) return { kind: 'single', ...single };
  if (statSync(path).isDirectory()) {
    const hooks = readdirSync(path)
      .filter((n) => !n.startsWith('.'))
      .sort((a, b) => a.localeCompare(b, undefined, { numeric: true }))
      .flatMap((name) => {
        const sub = join(path, name);
        const found = statSync(sub).isDirectory() ? detectSingle(sub) : undefined;
        return found ? [{ name, ...found }] : [];
      });
    if (hooks.length > 0) return { kind: 'multiple', hooks };
  }
  throw formatError(
    path,
    'is not an SAE checkpoint Feature Lens knows (SAELens cfg.json + sae_weights.safetensors, sparsify cfg.json + sae.safetensors, ' +
      'Gemma Scope params.npz or params.safetensors, dictionary_learning ae.pt)',
  );
}

/** Thrown when a path holds several SAEs and no hook was chosen; `hooks` lists the choices. */
export class MultipleSaesError extends Error {
  override readonly name = 'MultipleSaesError';
  constructor(
    readonly path: string,
    readonly hooks: readonly string[],
  ) {
    super(`${path} holds ${hooks.length} SAEs (${hooks.join(', ')}); choose one`);
  }
}

export function readSaeAt(format: SaeFormat, path: string, limits: LoadLimits = DEFAULT_LIMITS): LoadedSae {
  switch (format) {
    case 'saelens':
      return readSaeLensFolder(path, limits);
    case 'sparsify':
      return readSparsify(path, limits);
    case 'gemma-scope':
      return readGemmaScope(path, limits);
    case 'dictionary-learning':
      return readDictionaryLearning(path, limits);
  }
}

/** Reads the SAE at `path` in whichever supported format it is; `hook` picks one from a multi-SAE folder. */
export function loadSae(path: string, options: { hook?: string; limits?: LoadLimits } = {}): LoadedSae {
  const detected = detectSaeFormat(path);
  if (detected.kind === 'single') return readSaeAt(detected.format, detected.path, options.limits);
  const names = detected.hooks.map((h) => h.name);
  // A parent folder with a single hook folder needs no choice.
  if (options.hook === undefined && detected.hooks.length === 1) return readSaeAt(detected.hooks[0].format, detected.hooks[0].path, options.limits);
  if (options.hook === undefined) throw new MultipleSaesError(path, names);
  const chosen = detected.hooks.find((h) => h.name === options.hook);
  if (!chosen) throw formatError(path, `has no SAE "${options.hook}" (it has: ${names.join(', ')})`);
  return readSaeAt(chosen.format, chosen.path, options.limits);
}
