// Gemma Scope params.npz: W_enc (d_in, d_sae), W_dec (d_sae, d_in), b_enc, b_dec, threshold.
// Encode: pre = x·W_enc + b_enc; f = pre·[pre > θ] (no b_dec subtraction, no input scaling).

import { existsSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { checkSaeDims, DEFAULT_LIMITS, formatError, type LoadLimits } from '../checkpoints/limits';
import type { LoadedSae } from '../checkpoints/loaded';
import { checkSaeTensors, nonFiniteTensors, type NamedTensor } from '../checkpoints/sae-tensors';
import type { SaeConfig } from '../sae/weights';
import { decodeNpy, NpyError, parseNpyHeader } from '../npy';
import { readFileBounded, readZip } from './zip';

const KEYS = ['W_enc', 'W_dec', 'b_enc', 'b_dec', 'threshold'];

export function gemmaScopeFile(path: string): string | undefined {
  if (path.endsWith('.npz') && existsSync(path)) return path;
  const inFolder = join(path, 'params.npz');
  return existsSync(path) && statSync(path).isDirectory() && existsSync(inFolder) ? inFolder : undefined;
}

/** Hook and sizes from the release's folder naming (…-res/layer_12/width_16k/average_l0_82/params.npz). */
export function gemmaScopeHints(path: string): { hookName?: string; averageL0?: number; layer?: number } {
  const layer = /layer_(\d+)/.exec(path);
  const l0 = /average_l0_(\d+)/.exec(path);
  const out: { hookName?: string; averageL0?: number; layer?: number } = {};
  if (l0) out.averageL0 = Number(l0[1]);
  if (layer) {
    const l = Number(layer[1]);
    out.layer = l;
    if (/-res\b|[-_]res[-_/]/.test(path)) out.hookName = `blocks.${l}.hook_resid_post`;
    else if (/-mlp\b|[-_]mlp[-_/]/.test(path)) out.hookName = `blocks.${l}.hook_mlp_out`;
    else if (/-att\b|[-_]att[-_/]/.test(path)) out.hookName = `blocks.${l}.attn.hook_z`;
  }
  return out;
}

export function readGemmaScope(path: string, limits: LoadLimits = DEFAULT_LIMITS): LoadedSae {
  const file = gemmaScopeFile(path);
  if (!file) throw formatError(path, 'no params.npz here');
  const entries = readZip(readFileBounded(file, limits), file, limits, (name) => /^(W_enc|W_dec|b_enc|b_dec|threshold|w_enc|w_dec)\.npy$/.test(name));
  const raw = new Map<string, Uint8Array>();
  for (const [name, bytes] of entries) raw.set(name.replace(/^w_/, 'W_').replace(/\.npy$/, ''), bytes);
  for (const key of KEYS) if (!raw.has(key)) throw formatError(file, `missing array ${key}.npy (Gemma Scope files hold ${KEYS.join(', ')})`);
  // Dimensions come from W_enc's header: check them before converting anything.
  const encShape = npyArray(() => parseNpyHeader(raw.get('W_enc')!, `${file}:W_enc.npy`)).shape;
  if (encShape.length !== 2) throw formatError(file, `W_enc must be 2-D, got (${encShape.join(', ')})`);
  const { dIn, dSae } = checkSaeDims(file, encShape[0], encShape[1], limits);
  const tensors = new Map<string, NamedTensor>();
  for (const key of KEYS) tensors.set(key, npyArray(() => decodeNpy(raw.get(key)!, `${file}:${key}.npy`, { limits })));
  checkSaeTensors(file, 'jumprelu', dIn, dSae, tensors);
  const hints = gemmaScopeHints(file);
  const warnings: string[] = [];
  const bad = nonFiniteTensors(tensors);
  if (bad.length > 0) warnings.push(`tensors with NaN or infinite values: ${bad.join(', ')}`);
  if (!hints.hookName) warnings.push('the hook site is not in the path (expected …-res/-mlp/-att…/layer_N/…): pick the site by hand');
  const config: SaeConfig = {
    architecture: 'jumprelu',
    dIn,
    dSae,
    applyBDecToInput: false,
    ...(hints.hookName ? { hookName: hints.hookName } : {}),
    extra: { source: 'gemma-scope', file: basename(file), ...(hints.averageL0 !== undefined ? { averageL0: hints.averageL0 } : {}) },
  };
  return { weights: { config, tensors }, format: 'gemma-scope', source: file, warnings };
}

/** npy errors become checkpoint format errors, like every other refusal of a checkpoint. */
function npyArray<T>(read: () => T): T {
  try {
    return read();
  } catch (err) {
    throw err instanceof NpyError ? formatError(err.where, err.problem) : err;
  }
}
