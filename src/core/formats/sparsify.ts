// EleutherAI sparsify: one folder per hook point with cfg.json and sae.safetensors holding
// encoder.weight [d_sae, d_in], encoder.bias, W_dec [d_sae, d_in], b_dec, optional W_skip [d_in, d_in].
// Encode: f = TopK_k(ReLU(encoder(x − b_dec))) (no subtraction when transcoding); x̂ = f·W_dec + b_dec + x·W_skipᵀ.

import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { writeFolderAtomic, type FileContent, type FolderWriteOptions } from '../util/atomic';
import { foldInputScaleIntoBiases } from '../checkpoints/fold';
import { encodeJson, readJsonObject } from '../checkpoints/json-file';
import { checkSaeDims, DEFAULT_LIMITS, formatError, type LoadLimits } from '../checkpoints/limits';
import type { LoadedSae } from '../checkpoints/loaded';
import { checkSaeTensors, nonFiniteTensors, sameShape, transpose, type NamedTensor } from '../checkpoints/sae-tensors';
import { encodeSafetensors, openSafetensors } from '../checkpoints/safetensors';
import type { SaeConfig, SaeWeights } from '../sae/weights';

export const SPARSIFY_CFG = 'cfg.json';
export const SPARSIFY_WEIGHTS = 'sae.safetensors';

export function isSparsifyFolder(dir: string): boolean {
  return existsSync(join(dir, SPARSIFY_CFG)) && existsSync(join(dir, SPARSIFY_WEIGHTS));
}

/** The hook points of a multi-SAE sparsify checkpoint (one sub-folder each), sorted naturally. */
export function listSparsifyHooks(root: string): string[] {
  if (!existsSync(root) || !statSync(root).isDirectory()) return [];
  return readdirSync(root)
    .filter((name) => !name.startsWith('.') && isSparsifyFolder(join(root, name)))
    .sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
}

/** sparsify names hook points after modules ("layers.6", "layers.6.mlp"); map the common ones. */
export function sparsifyHookName(hookpoint: string): string | undefined {
  const m = /^(?:model\.|gpt_neox\.|transformer\.)?(?:layers|h)[._](\d+)(?:[._](mlp))?$/.exec(hookpoint);
  if (!m) return hookpoint === 'embed_tokens' ? 'hook_embed' : undefined;
  return m[2] ? `blocks.${m[1]}.hook_mlp_out` : `blocks.${m[1]}.hook_resid_post`;
}

export function readSparsify(dir: string, limits: LoadLimits = DEFAULT_LIMITS): LoadedSae {
  const cfgPath = join(dir, SPARSIFY_CFG);
  const cfg = readJsonObject(cfgPath);
  const activation = cfg.activation ?? 'topk';
  if (activation !== 'topk') throw formatError(cfgPath, `activation ${JSON.stringify(activation)} is not supported (only topk; groupmax has no internal equivalent)`);
  for (const flag of ['embed_skip', 'gram_lookup']) {
    if (cfg[flag] === true) throw formatError(cfgPath, `${flag} needs data outside this folder and is not supported`);
  }
  const numLatents = typeof cfg.num_latents === 'number' && cfg.num_latents > 0 ? cfg.num_latents : (cfg.expansion_factor as number) * (cfg.d_in as number);
  const { dIn, dSae } = checkSaeDims(cfgPath, cfg.d_in, numLatents, limits);
  const k = cfg.k;
  if (typeof k !== 'number' || !Number.isSafeInteger(k) || k <= 0 || k > dSae) throw formatError(cfgPath, `k must be an integer in 1..${dSae}, got ${JSON.stringify(k)}`);
  const transcode = cfg.transcode === true;

  const reader = openSafetensors(join(dir, SPARSIFY_WEIGHTS), limits);
  const tensors = new Map<string, NamedTensor>();
  const warnings: string[] = [];
  try {
    const need = (name: string, shape: number[]) => {
      if (!reader.has(name)) throw formatError(reader.where, `missing tensor "${name}"`);
      const t = reader.readF32(name);
      if (!sameShape(t.shape, shape)) throw formatError(reader.where, `tensor "${name}" has shape ${JSON.stringify(t.shape)}, expected ${JSON.stringify(shape)}`);
      return t.data;
    };
    tensors.set('W_enc', { shape: [dIn, dSae], data: transpose(need('encoder.weight', [dSae, dIn]), dSae, dIn) });
    tensors.set('b_enc', { shape: [dSae], data: need('encoder.bias', [dSae]) });
    tensors.set('W_dec', { shape: [dSae, dIn], data: need('W_dec', [dSae, dIn]) });
    tensors.set('b_dec', { shape: [dIn], data: need('b_dec', [dIn]) });
    if (reader.has('W_skip')) tensors.set('W_skip', { shape: [dIn, dIn], data: need('W_skip', [dIn, dIn]) });
    else if (cfg.skip_connection === true) throw formatError(reader.where, 'cfg.json says skip_connection but there is no W_skip tensor');
  } finally {
    reader.close();
  }
  checkSaeTensors(dir, 'topk', dIn, dSae, tensors);
  const bad = nonFiniteTensors(tensors);
  if (bad.length > 0) warnings.push(`tensors with NaN or infinite values: ${bad.join(', ')}`);
  const hookpoint = basename(dir);
  // A transcoder reads the module's input and predicts its output (same width in sparsify).
  const sites = transcode ? sparsifyTranscoderSites(hookpoint) : { in: sparsifyHookName(hookpoint) };
  if (!sites.in) warnings.push(`hook point "${hookpoint}" has no TransformerLens ${transcode ? 'input site' : 'name'} we know: pick the site by hand`);
  const config: SaeConfig = {
    architecture: 'topk',
    dIn,
    dSae,
    k,
    applyBDecToInput: !transcode,
    ...(sites.in ? { hookName: sites.in } : {}),
    ...(transcode ? { dOut: dIn, ...(sites.out ? { hookNameOut: sites.out } : {}) } : {}),
    extra: { source: 'sparsify', hookpoint, ...(transcode ? { transcode: true } : {}) },
  };
  return { weights: { config, tensors }, format: 'sparsify', source: dir, warnings };
}

/**
 * The sites of a sparsify transcoder: it reads the input of the hooked module and predicts its output.
 * For an MLP that is the residual stream after attention (the MLP's input before its norm, which is what
 * the runtime exposes) and hook_mlp_out; for a whole layer, resid_pre and resid_post.
 */
export function sparsifyTranscoderSites(hookpoint: string): { in?: string; out?: string } {
  const m = /^(?:model\.|gpt_neox\.|transformer\.)?(?:layers|h)[._](\d+)(?:[._](mlp))?$/.exec(hookpoint);
  if (!m) return {};
  return m[2] ? { in: `blocks.${m[1]}.hook_resid_mid`, out: `blocks.${m[1]}.hook_mlp_out` } : { in: `blocks.${m[1]}.hook_resid_pre`, out: `blocks.${m[1]}.hook_resid_post` };
}

/** `sparsify encodes x − b_dec`: an SAE that does not subtract gets b_enc' = b_enc + W_encᵀ·b_dec, the same map. */
function foldBDecIntoEncoderBias(wEnc: Float32Array, bEnc: Float32Array, bDec: Float32Array, dIn: number, dSae: number): Float32Array {
  const out = new Float32Array(dSae);
  for (let j = 0; j < dSae; j++) {
    let s = bEnc[j];
    for (let i = 0; i < dIn; i++) s += wEnc[i * dSae + j] * bDec[i];
    out[j] = s;
  }
  return out;
}

/**
 * The files of a sparsify folder. Only TopK SAEs have a sparsify form. An SAE that does not subtract b_dec
 * from its input (Feature Lens's folded export) is written as a plain SAE with b_dec folded into
 * encoder.bias; only a real transcoder (config.dOut) is written with `transcode: true`.
 */
export function encodeSparsify(weights: SaeWeights): Map<string, FileContent> {
  const folded = foldInputScaleIntoBiases(weights);
  const { config } = folded;
  const transcoder = config.dOut !== undefined;
  if (transcoder && config.dOut !== config.dIn) throw new Error(`sparsify transcoders have equal input and output widths; this one maps ${config.dIn} → ${config.dOut}`);
  if (config.architecture !== 'topk' || config.k === undefined) {
    throw new Error(`sparsify stores only TopK SAEs; this one is ${config.architecture} (export it as SAELens instead)`);
  }
  if (config.normalizeActivations && config.normalizeActivations !== 'none' && config.normalizeActivations !== 'expected_average_only_in') {
    throw new Error(`sparsify has no ${config.normalizeActivations} input normalisation`);
  }
  checkSaeTensors('sparsify writer', 'topk', config.dIn, config.dSae, folded.tensors, config.dOut);
  const t = (name: string) => folded.tensors.get(name)!;
  const encoderBias =
    transcoder || config.applyBDecToInput ? t('b_enc').data : foldBDecIntoEncoderBias(t('W_enc').data, t('b_enc').data, t('b_dec').data, config.dIn, config.dSae);
  const tensors = new Map<string, { shape: number[]; data: Float32Array }>([
    ['encoder.weight', { shape: [config.dSae, config.dIn], data: transpose(t('W_enc').data, config.dIn, config.dSae) }],
    ['encoder.bias', { shape: [config.dSae], data: encoderBias }],
    ['W_dec', { shape: [config.dSae, config.dIn], data: t('W_dec').data }],
    ['b_dec', { shape: [config.dIn], data: t('b_dec').data }],
  ]);
  const skip = folded.tensors.get('W_skip');
  if (skip) tensors.set('W_skip', { shape: [config.dIn, config.dIn], data: skip.data });
  const cfg = {
    activation: 'topk',
    expansion_factor: Math.max(1, Math.round(config.dSae / config.dIn)),
    normalize_decoder: true,
    num_latents: config.dSae,
    k: config.k,
    multi_topk: false,
    skip_connection: skip !== undefined,
    transcode: transcoder,
    d_in: config.dIn,
  };
  return new Map<string, FileContent>([
    [SPARSIFY_CFG, encodeJson(cfg)],
    [SPARSIFY_WEIGHTS, encodeSafetensors(tensors, { format: 'pt' })],
  ]);
}

export async function writeSparsifyFolder(dir: string, weights: SaeWeights, options: FolderWriteOptions = {}): Promise<void> {
  await writeFolderAtomic(dir, encodeSparsify(weights), { keep: options.keep ?? ['feature_labels.json'], fs: options.fs });
}
