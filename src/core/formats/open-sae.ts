// The one SAE loader every entry point uses (CLI analyze/encode/eval/convert, training resume, the analysis
// worker and so the extension): detect the format, read it, and prepare the inference SAE with everything
// the format's library does at run time (input scale, per-token normalisation, skip connection, transcoder
// output width) plus the sites it reads and writes. Nothing else builds an SAE from raw weights for inference.
import { statSync } from 'node:fs';
import { dirname } from 'node:path';
import { DEFAULT_LIMITS, type LoadLimits } from '../checkpoints/limits';
import type { LoadedSae } from '../checkpoints/loaded';
import { InferenceSae } from '../inference/inferenceSae';
import { loadSae } from './detect';

export interface OpenedSae {
  /** The weights as the format reader returned them (what `convert` writes out). */
  readonly loaded: LoadedSae;
  /** Ready to encode and decode raw site activations, with the source library's semantics. */
  readonly sae: InferenceSae;
  /** The folder the SAE was read from: labels are saved there. */
  readonly folder: string;
  /** The site the SAE (or transcoder) reads, when the file says. */
  readonly hookName?: string;
  /** A transcoder's output site, when the file says. */
  readonly hookNameOut?: string;
  readonly warnings: readonly string[];
}

export interface OpenSaeOptions {
  /** Which SAE of a folder holding several (sparsify's one sub-folder per hook point). */
  readonly hook?: string;
  readonly limits?: LoadLimits;
}

/** Reads the SAE at `path` in any supported format, ready for inference. Throws MultipleSaesError when a hook must be chosen. */
export function openSae(path: string, options: OpenSaeOptions = {}): OpenedSae {
  const loaded = loadSae(path, { ...(options.hook !== undefined ? { hook: options.hook } : {}), limits: options.limits ?? DEFAULT_LIMITS });
  const sae = new InferenceSae(loaded.weights);
  const folder = statSync(loaded.source).isDirectory() ? loaded.source : dirname(loaded.source);
  const { hookName, hookNameOut } = loaded.weights.config;
  return {
    loaded,
    sae,
    folder,
    ...(hookName !== undefined ? { hookName } : {}),
    ...(hookNameOut !== undefined ? { hookNameOut } : {}),
    warnings: loaded.warnings,
  };
}
