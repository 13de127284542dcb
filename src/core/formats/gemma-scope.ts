// Gemma Scope params.npz (or Gemma Scope 2's params.safetensors + config.json): W_enc (d_in, d_sae),
// W_dec (d_sae, d_out), b_enc, b_dec, threshold, and for affine transcoders affine_skip_connection
// (d_in, d_out). Encode: pre = x·W_enc + b_enc; f = pre·[pre > θ] (no b_dec subtraction, no input
// scaling); x̂ = f·W_dec + b_dec (+ x·A). A transcoder (path, config or shapes say so) predicts another site.

import { existsSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { checkSaeDims, DEFAULT_LIMITS, formatError, type LoadLimits } from '../checkpoints/limits';
import type { LoadedSae } from '../checkpoints/loaded';
import { readJsonObject } from '../checkpoints/json-file';
import { checkSaeTensors, nonFiniteTensors, sameShape, transpose, type NamedTensor } from '../checkpoints/sae-tensors';
import { openSafetensors } from '../checkpoints/safetensors';
import type { SaeConfig } from '../sae/weights';
import { decodeNpy, NpyError, parseNpyHeader } from '../npy';
import { readFileBounded, readZip } from './zip';

const KEYS = ['W_enc', 'W_dec', 'b_enc', 'b_dec', 'threshold'];

const WEIGHTS_SAFETENSORS = 'params.safetensors';

/** params.npz (Gemma Scope 1, and 2's npz copies) or params.safetensors (Gemma Scope 2), or a folder holding one. */
export function gemmaScopeFile(path: string): string | undefined {
  if (!existsSync(path)) return undefined;
  if (statSync(path).isFile()) return path.endsWith('.npz') || basename(path) === WEIGHTS_SAFETENSORS ? path : undefined;
  for (const name of ['params.npz', WEIGHTS_SAFETENSORS]) if (existsSync(join(path, name))) return join(path, name);
  return undefined;
}

/** Hook and sizes from the release's folder naming (…-res/layer_12/width_16k/average_l0_82/params.npz). */
export function gemmaScopeHints(path: string): { hookName?: string; hookNameOut?: string; averageL0?: number; layer?: number; transcoder?: boolean } {
  const layer = /layer_(\d+)/.exec(path);
  const l0 = /average_l0_(\d+)/.exec(path);
  const out: { hookName?: string; hookNameOut?: string; averageL0?: number; layer?: number; transcoder?: boolean } = {};
  if (l0) out.averageL0 = Number(l0[1]);
  if (/transcoder/i.test(path)) out.transcoder = true;
  if (layer) {
    const l = Number(layer[1]);
    out.layer = l;
    if (out.transcoder) {
      // Gemma Scope's transcoders read the MLP's (normalised) input and predict its output.
      out.hookName = `blocks.${l}.ln2.hook_normalized`;
      out.hookNameOut = `blocks.${l}.hook_mlp_out`;
    } else if (/-res\b|[-_]res[-_/]/.test(path)) out.hookName = `blocks.${l}.hook_resid_post`;
    else if (/-mlp\b|[-_]mlp[-_/]/.test(path)) out.hookName = `blocks.${l}.hook_mlp_out`;
    else if (/-att\b|[-_]att[-_/]/.test(path)) out.hookName = `blocks.${l}.attn.hook_z`;
  }
  return out;
}

/** Gemma Scope 2's config.json names sites in Hugging Face terms (model.layers.L.<module>…). */
export function gemmaScopeHfSite(name: unknown): string | undefined {
  if (typeof name !== 'string') return undefined;
  const m = /layers\.(\d+)(?:\.(\w+))?/.exec(name);
  if (!m) return undefined;
  const [, l, module] = m;
  if (module === undefined) return `blocks.${l}.hook_resid_post`;
  if (/^(pre_feedforward_layernorm|post_attention_layernorm)$/.test(module)) return `blocks.${l}.ln2.hook_normalized`;
  if (/^(mlp|post_feedforward_layernorm)$/.test(module)) return `blocks.${l}.hook_mlp_out`;
  if (/^(self_attn|post_attention_layernorm_out)$/.test(module)) return `blocks.${l}.hook_attn_out`;
  return undefined;
}

type RawArrays = { shape(key: string): readonly number[] | undefined; read(key: string): NamedTensor };

function npzArrays(file: string, limits: LoadLimits): RawArrays {
  const entries = readZip(readFileBounded(file, limits), file, limits, (name) => /^(W_enc|W_dec|b_enc|b_dec|threshold|w_enc|w_dec|affine_skip_connection)\.npy$/.test(name));
  const raw = new Map<string, Uint8Array>();
  for (const [name, bytes] of entries) raw.set(name.replace(/^w_/, 'W_').replace(/\.npy$/, ''), bytes);
  return {
    shape: (key) => (raw.has(key) ? npyArray(() => parseNpyHeader(raw.get(key)!, `${file}:${key}.npy`)).shape : undefined),
    read: (key) => npyArray(() => decodeNpy(raw.get(key)!, `${file}:${key}.npy`, { limits })),
  };
}

function safetensorsArrays(file: string, limits: LoadLimits): { arrays: RawArrays; close(): void } {
  const reader = openSafetensors(file, limits);
  const nameOf = (key: string) => (reader.has(key) ? key : reader.has(key.replace(/^W_/, 'w_')) ? key.replace(/^W_/, 'w_') : undefined);
  return {
    arrays: {
      shape: (key) => {
        const n = nameOf(key);
        return n ? reader.entries.get(n)!.shape : undefined;
      },
      read: (key) => {
        const t = reader.readF32(nameOf(key)!);
        return { shape: [...t.shape], data: t.data };
      },
    },
    close: () => reader.close(),
  };
}

export function readGemmaScope(path: string, limits: LoadLimits = DEFAULT_LIMITS): LoadedSae {
  const file = gemmaScopeFile(path);
  if (!file) throw formatError(path, 'no params.npz or params.safetensors here');
  const cfgPath = join(dirname(file), 'config.json');
  const cfg = file.endsWith('.safetensors') && existsSync(cfgPath) ? readJsonObject(cfgPath) : undefined;
  const opened = file.endsWith('.safetensors') ? safetensorsArrays(file, limits) : { arrays: npzArrays(file, limits), close: () => {} };
  const tensors = new Map<string, NamedTensor>();
  let dIn: number;
  let dSae: number;
  let dOut: number;
  let skip: NamedTensor | undefined;
  try {
    const { arrays } = opened;
    for (const key of KEYS) if (!arrays.shape(key)) throw formatError(file, `missing array ${key} (Gemma Scope files hold ${KEYS.join(', ')})`);
    // Dimensions come from the headers: check them before converting anything.
    const encShape = arrays.shape('W_enc')!;
    const decShape = arrays.shape('W_dec')!;
    if (encShape.length !== 2) throw formatError(file, `W_enc must be 2-D, got (${encShape.join(', ')})`);
    if (decShape.length !== 2) throw formatError(file, `W_dec must be 2-D, got (${decShape.join(', ')})`);
    ({ dIn, dSae } = checkSaeDims(file, encShape[0], encShape[1], limits));
    dOut = checkSaeDims(file, decShape[1], decShape[0], limits).dIn;
    for (const key of KEYS) tensors.set(key, arrays.read(key));
    if (arrays.shape('affine_skip_connection')) skip = arrays.read('affine_skip_connection');
  } finally {
    opened.close();
  }
  const hints = gemmaScopeHints(file);
  const cfgIn = gemmaScopeHfSite(cfg?.hf_hook_point_in);
  const cfgOut = gemmaScopeHfSite(cfg?.hf_hook_point_out);
  const transcoder = hints.transcoder === true || skip !== undefined || dOut !== dIn || (cfg !== undefined && cfg.hf_hook_point_out !== undefined && cfg.hf_hook_point_out !== cfg.hf_hook_point_in);
  if (skip) {
    // The reference adds x @ A with A [d_in, d_out]; W_skip is [d_out, d_in] (x̂ += W_skip·x), so W_skip = Aᵀ.
    if (!sameShape(skip.shape, [dIn, dOut])) throw formatError(file, `affine_skip_connection has shape ${JSON.stringify(skip.shape)}, expected [${dIn}, ${dOut}]`);
    tensors.set('W_skip', { shape: [dOut, dIn], data: transpose(skip.data, dIn, dOut) });
  }
  checkSaeTensors(file, 'jumprelu', dIn, dSae, tensors, dOut);
  const warnings: string[] = [];
  const bad = nonFiniteTensors(tensors);
  if (bad.length > 0) warnings.push(`tensors with NaN or infinite values: ${bad.join(', ')}`);
  const hookName = cfgIn ?? hints.hookName;
  const hookNameOut = transcoder ? (cfgOut ?? hints.hookNameOut) : undefined;
  if (!hookName) warnings.push('the hook site is not in the path (expected …-res/-mlp/-att…/layer_N/…): pick the site by hand');
  if (transcoder && !hookNameOut) warnings.push('this transcoder does not say which site it predicts: pick the output site by hand');
  if (cfg && typeof cfg.architecture === 'string' && cfg.architecture !== 'jump_relu') {
    throw formatError(cfgPath, `architecture ${JSON.stringify(cfg.architecture)} is not supported (Gemma Scope's is jump_relu)`);
  }
  const config: SaeConfig = {
    architecture: 'jumprelu',
    dIn,
    dSae,
    applyBDecToInput: false,
    ...(hookName ? { hookName } : {}),
    ...(transcoder ? { dOut, ...(hookNameOut ? { hookNameOut } : {}) } : {}),
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
