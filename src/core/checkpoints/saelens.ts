// SAELens checkpoint folders: cfg.json + sae_weights.safetensors (+ optional sparsity.safetensors).
// Feature Lens's native format. Reads the v6 layout (architecture + metadata) and the older flat cfg.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ActivationNormalization, SaeArchitecture, SaeConfig, SaeWeights } from '../sae/weights';
import { writeFolderAtomic, type FileContent, type FolderWriteOptions } from '../util/atomic';
import { foldInputScaleIntoBiases } from './fold';
import { encodeJson, isRecord, readJsonObject } from './json-file';
import { checkSaeDims, DEFAULT_LIMITS, formatError, type LoadLimits } from './limits';
import type { LoadedSae } from './loaded';
import { checkSaeTensors, clampThreshold, nonFiniteTensors, requiredTensors, sameShape, type NamedTensor } from './sae-tensors';
import { encodeSafetensors, openSafetensors, type SafetensorsReader } from './safetensors';

export const SAELENS_CFG = 'cfg.json';
export const SAELENS_WEIGHTS = 'sae_weights.safetensors';
export const SAELENS_SPARSITY = 'sparsity.safetensors';
/** The cfg.json format version we write (SAELens ≥ 6 reads `metadata` only when this says 6+). */
const WRITTEN_SAELENS_VERSION = '6.0.0';

const NORMALIZATIONS: readonly ActivationNormalization[] = ['none', 'expected_average_only_in', 'constant_norm_rescale', 'layer_norm'];

export function isSaeLensFolder(dir: string): boolean {
  return existsSync(join(dir, SAELENS_CFG)) && existsSync(join(dir, SAELENS_WEIGHTS));
}

interface ParsedCfg {
  architecture: SaeArchitecture;
  /** SAELens transcoders (transcoder, skip_transcoder, jumprelu_transcoder, jumprelu_skip_transcoder). */
  transcoder?: { dOut: number; skip: boolean; hookNameOut?: string };
  /** SAELens architecture name as found. */
  sourceArchitecture: string;
  dIn: number;
  dSae: number;
  k?: number;
  applyBDecToInput: boolean;
  normalize: ActivationNormalization;
  rescaleActsByDecoderNorm: boolean;
  hookName?: string;
  modelName?: string;
  metadata: Record<string, unknown>;
  featureLensExtra?: Record<string, unknown>;
}

function majorVersion(v: unknown): number | undefined {
  if (typeof v !== 'string') return undefined;
  const m = /^(\d+)\./.exec(v);
  return m ? Number(m[1]) : undefined;
}

function positiveInt(where: string, name: string, v: unknown, max: number): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0 || v > max) {
    throw formatError(where, `${name} must be an integer in 1..${max}, got ${JSON.stringify(v)}`);
  }
  return v;
}

/** Interprets a cfg.json (v6 or pre-6) into the internal vocabulary; throws on anything unsupported. */
export function parseSaeLensCfg(where: string, cfg: Record<string, unknown>, limits: LoadLimits = DEFAULT_LIMITS): ParsedCfg {
  const metaRaw = isRecord(cfg.metadata) ? cfg.metadata : isRecord(cfg.meta) ? cfg.meta : undefined;
  const version = majorVersion(cfg.sae_lens_version) ?? majorVersion(metaRaw?.sae_lens_version);
  const v6 = version !== undefined ? version >= 6 : metaRaw !== undefined && typeof cfg.architecture === 'string';
  const { dIn, dSae } = checkSaeDims(where, cfg.d_in, cfg.d_sae, limits);

  let sourceArchitecture: string;
  let k: number | undefined;
  let metadata: Record<string, unknown>;
  if (v6) {
    sourceArchitecture = typeof cfg.architecture === 'string' ? cfg.architecture : 'standard';
    if (cfg.k !== undefined) k = positiveInt(where, 'k', cfg.k, dSae);
    metadata = { ...(metaRaw ?? {}) };
  } else {
    // Pre-6 flat cfg: hook_point, activation_fn_str, activation_fn_kwargs.k.
    const activation = cfg.activation_fn_str ?? cfg.activation_fn ?? 'relu';
    sourceArchitecture = typeof cfg.architecture === 'string' ? cfg.architecture : 'standard';
    if (sourceArchitecture === 'standard' && activation === 'topk') sourceArchitecture = 'topk';
    else if (sourceArchitecture === 'standard' && activation !== 'relu') {
      throw formatError(where, `activation function ${JSON.stringify(activation)} is not supported (only relu and topk)`);
    }
    if (sourceArchitecture === 'topk') {
      const kwargs = isRecord(cfg.activation_fn_kwargs) ? cfg.activation_fn_kwargs : {};
      k = positiveInt(where, 'activation_fn_kwargs.k', kwargs.k ?? cfg.k, dSae);
    }
    metadata = {};
    for (const key of ['model_name', 'hook_head_index', 'context_size', 'prepend_bos', 'dataset_path', 'neuronpedia_id']) {
      if (cfg[key] !== undefined) metadata[key] = cfg[key];
    }
    const hook = cfg.hook_name ?? cfg.hook_point;
    if (hook !== undefined) metadata.hook_name = hook;
    if (cfg.hook_point_head_index !== undefined) metadata.hook_head_index = cfg.hook_point_head_index;
  }

  let architecture: SaeArchitecture;
  let transcoder: ParsedCfg['transcoder'];
  const transcoderArch = /^(jumprelu_)?(skip_)?transcoder$/.exec(sourceArchitecture);
  if (transcoderArch) {
    // SAELens transcoders (saes/transcoder.py): no b_dec subtraction (b_dec is d_out wide), ReLU or
    // JumpReLU, decoder to d_out, skip variants add x·W_skipᵀ with W_skip [d_out, d_in].
    if (cfg.apply_b_dec_to_input === true) throw formatError(where, `a ${sourceArchitecture} cannot subtract b_dec from its input (SAELens refuses apply_b_dec_to_input for transcoders)`);
    const dOut = positiveInt(where, 'd_out', cfg.d_out, limits.maxDim);
    const out = cfg.hook_name_out ?? metadata.hook_name_out;
    transcoder = { dOut, skip: transcoderArch[2] !== undefined, ...(typeof out === 'string' && out !== '' ? { hookNameOut: out } : {}) };
    sourceArchitecture = transcoderArch[1] ? 'jumprelu' : 'standard';
  }
  switch (sourceArchitecture) {
    case 'standard':
      architecture = 'relu';
      break;
    case 'jumprelu':
    case 'gated':
      architecture = sourceArchitecture;
      break;
    case 'topk':
      architecture = 'topk';
      if (k === undefined) throw formatError(where, 'a topk SAE needs k');
      break;
    default:
      throw formatError(
        where,
        `SAELens architecture ${JSON.stringify(sourceArchitecture)} is not supported (standard, jumprelu, gated and topk are; ` +
          'BatchTopK SAEs are saved by SAELens as jumprelu)',
      );
  }

  let normalize: ActivationNormalization = 'none';
  const n = cfg.normalize_activations;
  if (n === true) normalize = 'expected_average_only_in';
  else if (n === false || n === null || n === undefined) normalize = 'none';
  else if (typeof n === 'string' && (NORMALIZATIONS as readonly string[]).includes(n)) normalize = n as ActivationNormalization;
  else throw formatError(where, `normalize_activations ${JSON.stringify(n)} is not supported`);

  const hookName = typeof metadata.hook_name === 'string' ? metadata.hook_name : undefined;
  const modelName = typeof metadata.model_name === 'string' ? metadata.model_name : undefined;
  const fl = isRecord(cfg.feature_lens) && isRecord(cfg.feature_lens.extra) ? cfg.feature_lens.extra : undefined;
  return {
    architecture,
    ...(transcoder ? { transcoder } : {}),
    sourceArchitecture: transcoderArch ? transcoderArch[0] : sourceArchitecture,
    dIn,
    dSae,
    k,
    applyBDecToInput: transcoder ? false : cfg.apply_b_dec_to_input === undefined ? true : cfg.apply_b_dec_to_input === true,
    normalize,
    rescaleActsByDecoderNorm: cfg.rescale_acts_by_decoder_norm === true,
    hookName,
    modelName,
    metadata,
    featureLensExtra: fl,
  };
}

function readTensor(reader: SafetensorsReader, name: string): NamedTensor {
  const { shape, data } = reader.readF32(name);
  return { shape: [...shape], data };
}

/** Reads a SAELens folder into internal weights, honouring every cfg field that changes encode/decode. */
export function readSaeLensFolder(dir: string, limits: LoadLimits = DEFAULT_LIMITS): LoadedSae {
  const cfgPath = join(dir, SAELENS_CFG);
  const cfg = parseSaeLensCfg(cfgPath, readJsonObject(cfgPath), limits);
  const warnings: string[] = [];
  const reader = openSafetensors(join(dir, SAELENS_WEIGHTS), limits);
  const tensors = new Map<string, NamedTensor>();
  try {
    const dOut = cfg.transcoder?.dOut ?? cfg.dIn;
    const wanted = Object.keys(requiredTensors(cfg.architecture, cfg.dIn, cfg.dSae, dOut));
    if (cfg.transcoder?.skip) wanted.push('W_skip');
    for (const name of wanted) {
      if (name === 'threshold' && !reader.has('threshold') && reader.has('log_threshold')) {
        const t = readTensor(reader, 'log_threshold');
        tensors.set('threshold', { shape: t.shape, data: t.data.map(Math.exp) });
        continue;
      }
      if (!reader.has(name)) {
        throw formatError(reader.where, `missing tensor "${name}" (a SAELens ${cfg.sourceArchitecture} SAE needs it)`);
      }
      tensors.set(name, readTensor(reader, name));
    }
    checkSaeTensors(reader.where, cfg.architecture, cfg.dIn, cfg.dSae, tensors, dOut);
    for (const name of ['scaling_factor', 'finetuning_scaling_factor']) {
      if (reader.has(name)) foldFinetuningScale(reader.where, tensors, readTensor(reader, name), cfg.dSae, dOut);
    }
    const known = new Set([...wanted, 'log_threshold', 'scaling_factor', 'finetuning_scaling_factor']);
    const ignored = [...reader.entries.keys()].filter((n) => !known.has(n));
    if (ignored.length > 0) warnings.push(`ignored tensors not used by a ${cfg.sourceArchitecture} SAE: ${ignored.join(', ')}`);
  } finally {
    reader.close();
  }

  if (cfg.architecture === 'jumprelu') {
    // SAELens computes ReLU(pre)·[pre > θ]; the internal JumpReLU is pre·[pre > θ].
    const t = tensors.get('threshold')!;
    tensors.set('threshold', { shape: t.shape, data: clampThreshold(t.data) });
  }
  if (cfg.architecture === 'topk' && cfg.rescaleActsByDecoderNorm) foldDecoderNormsTopK(tensors, cfg.dIn, cfg.dSae);
  if (cfg.normalize === 'expected_average_only_in') {
    warnings.push(
      'normalize_activations is "expected_average_only_in": SAELens applies no scaling at run time, so neither do we; ' +
        'if this SAE was saved before its norm scaling factor was folded in, reconstructions will be off by that factor',
    );
  }
  const bad = nonFiniteTensors(tensors);
  if (bad.length > 0) warnings.push(`tensors with NaN or infinite values: ${bad.join(', ')}`);

  let sparsity: Float32Array | undefined;
  const sparsityPath = join(dir, SAELENS_SPARSITY);
  if (existsSync(sparsityPath)) {
    try {
      const sr = openSafetensors(sparsityPath, limits);
      try {
        const s = sr.readF32('sparsity');
        if (s.data.length === cfg.dSae) sparsity = s.data;
        else warnings.push(`sparsity.safetensors has ${s.data.length} values, expected ${cfg.dSae}; ignored`);
      } finally {
        sr.close();
      }
    } catch (err) {
      warnings.push(`sparsity.safetensors ignored: ${(err as Error).message}`);
    }
  }

  const extra: Record<string, unknown> = { ...(cfg.featureLensExtra ?? {}) };
  const { hook_name: _h, model_name: _m, sae_lens_version: _v, sae_lens_training_version: _tv, ...restMeta } = cfg.metadata;
  if (Object.keys(restMeta).length > 0) extra.saelensMetadata = restMeta;
  if (cfg.sourceArchitecture !== cfg.architecture && !(cfg.sourceArchitecture === 'standard' && cfg.architecture === 'relu')) {
    extra.sourceArchitecture = cfg.sourceArchitecture;
  }
  const config: SaeConfig = {
    architecture: cfg.architecture,
    dIn: cfg.dIn,
    dSae: cfg.dSae,
    ...(cfg.transcoder ? { dOut: cfg.transcoder.dOut, ...(cfg.transcoder.hookNameOut ? { hookNameOut: cfg.transcoder.hookNameOut } : {}) } : {}),
    ...(cfg.k !== undefined ? { k: cfg.k } : {}),
    applyBDecToInput: cfg.applyBDecToInput,
    ...(cfg.normalize !== 'none' ? { normalizeActivations: cfg.normalize } : {}),
    ...(cfg.hookName !== undefined ? { hookName: cfg.hookName } : {}),
    ...(cfg.modelName !== undefined ? { modelName: cfg.modelName } : {}),
    ...(Object.keys(extra).length > 0 ? { extra } : {}),
  };
  return { weights: { config, tensors }, format: 'saelens', source: dir, warnings, ...(sparsity ? { sparsity } : {}) };
}

/** SAELens multiplies features by a per-feature factor before decoding: fold it into W_dec's rows. */
function foldFinetuningScale(where: string, tensors: Map<string, NamedTensor>, scale: NamedTensor, dSae: number, dIn: number): void {
  if (!sameShape(scale.shape, [dSae])) throw formatError(where, `scaling factor has shape ${JSON.stringify(scale.shape)}, expected [${dSae}]`);
  if (scale.data.every((v) => v === 1)) return;
  const wDec = tensors.get('W_dec')!;
  const out = new Float32Array(wDec.data);
  for (let i = 0; i < dSae; i++) for (let j = 0; j < dIn; j++) out[i * dIn + j] *= scale.data[i];
  tensors.set('W_dec', { shape: wDec.shape, data: out });
}

/**
 * SAELens TopK with rescale_acts_by_decoder_norm: pre_i·‖W_dec,i‖ is ranked and returned, and decode
 * divides by ‖W_dec,i‖. Scaling W_enc's column i and b_enc_i by n_i and W_dec's row i by 1/n_i is the same map.
 */
function foldDecoderNormsTopK(tensors: Map<string, NamedTensor>, dIn: number, dSae: number): void {
  const wEnc = new Float32Array(tensors.get('W_enc')!.data);
  const wDec = new Float32Array(tensors.get('W_dec')!.data);
  const bEnc = new Float32Array(tensors.get('b_enc')!.data);
  for (let i = 0; i < dSae; i++) {
    let sq = 0;
    for (let j = 0; j < dIn; j++) sq += wDec[i * dIn + j] ** 2;
    const n = Math.sqrt(sq);
    if (n === 0) continue;
    for (let j = 0; j < dIn; j++) {
      wEnc[j * dSae + i] *= n;
      wDec[i * dIn + j] /= n;
    }
    bEnc[i] *= n;
  }
  tensors.set('W_enc', { shape: [dIn, dSae], data: wEnc });
  tensors.set('W_dec', { shape: [dSae, dIn], data: wDec });
  tensors.set('b_enc', { shape: [dSae], data: bEnc });
}

export interface SaeLensWriteOptions {
  /** log10 firing frequency per feature → sparsity.safetensors. */
  readonly sparsity?: Float32Array;
  /** Extra metadata (context_size, dataset_path, prepend_bos, …). */
  readonly metadata?: Readonly<Record<string, unknown>>;
}

function saeLensArchitecture(weights: SaeWeights): { name: string; tensors: Map<string, NamedTensor> } {
  const { config } = weights;
  const tensors = new Map<string, NamedTensor>(weights.tensors);
  if (config.dOut !== undefined) {
    // SAELens's transcoder classes: ReLU or JumpReLU, with or without W_skip.
    if (config.architecture !== 'relu' && config.architecture !== 'jumprelu') {
      throw new Error(`SAELens has no ${config.architecture} transcoder (transcoder, skip_transcoder, jumprelu_transcoder and jumprelu_skip_transcoder exist): export it with --format sparsify`);
    }
    const name = `${config.architecture === 'jumprelu' ? 'jumprelu_' : ''}${tensors.has('W_skip') ? 'skip_' : ''}transcoder`;
    return { name, tensors };
  }
  if (tensors.has('W_skip')) {
    throw new Error('SAELens has no skip connection (W_skip) for SAEs: export this SAE with --format sparsify');
  }
  switch (config.architecture) {
    case 'relu':
      return { name: 'standard', tensors };
    case 'jumprelu':
    case 'gated':
    case 'topk':
      return { name: config.architecture, tensors };
    case 'batchtopk': {
      // As SAELens does: inference BatchTopK is a JumpReLU with one global threshold.
      const t = tensors.get('threshold');
      if (!t) throw new Error('a BatchTopK SAE needs its inference threshold ("threshold") to be saved');
      if (t.data.length === 1) tensors.set('threshold', { shape: [config.dSae], data: new Float32Array(config.dSae).fill(t.data[0]) });
      return { name: 'jumprelu', tensors };
    }
  }
}

/** The files of a SAELens folder for `weights` (input scale folded in; tensors not copied). */
export function encodeSaeLens(weights: SaeWeights, options: SaeLensWriteOptions = {}): Map<string, FileContent> {
  const folded = foldInputScaleIntoBiases(weights);
  const { config } = folded;
  const { name: architecture, tensors } = saeLensArchitecture(folded);
  const transcoder = config.dOut !== undefined;
  const internalArch = transcoder ? config.architecture : architecture === 'standard' ? 'relu' : (architecture as SaeArchitecture);
  checkSaeTensors('SAELens writer', internalArch, config.dIn, config.dSae, tensors, config.dOut);
  const keep = new Map<string, NamedTensor>();
  for (const name of Object.keys(requiredTensors(internalArch, config.dIn, config.dSae, config.dOut))) keep.set(name, tensors.get(name)!);
  if (transcoder && tensors.has('W_skip')) keep.set('W_skip', tensors.get('W_skip')!);

  const { saelensMetadata, sourceArchitecture: _s, ...extra } = (config.extra ?? {}) as Record<string, unknown>;
  const metadata: Record<string, unknown> = {
    ...(isRecord(saelensMetadata) ? saelensMetadata : {}),
    ...(options.metadata ?? {}),
    ...(config.modelName !== undefined ? { model_name: config.modelName } : {}),
    ...(config.hookName !== undefined ? { hook_name: config.hookName } : {}),
    ...(config.hookNameOut !== undefined ? { hook_name_out: config.hookNameOut } : {}),
    sae_lens_version: WRITTEN_SAELENS_VERSION,
  };
  const cfg: Record<string, unknown> = {
    architecture,
    d_in: config.dIn,
    d_sae: config.dSae,
    dtype: 'float32',
    device: 'cpu',
    apply_b_dec_to_input: config.applyBDecToInput,
    normalize_activations: config.normalizeActivations ?? 'none',
    reshape_activations: config.hookName?.endsWith('hook_z') ? 'hook_z' : 'none',
    ...(architecture === 'topk' ? { k: config.k, rescale_acts_by_decoder_norm: false } : {}),
    ...(transcoder ? { d_out: config.dOut, ...(config.hookNameOut !== undefined ? { hook_name_out: config.hookNameOut } : {}) } : {}),
    metadata,
    feature_lens: {
      ...(config.architecture === 'batchtopk' ? { architecture: 'batchtopk', k: config.k } : {}),
      ...(weights.config.inputScale !== undefined ? { folded_input_scale: weights.config.inputScale } : {}),
      ...(Object.keys(extra).length > 0 ? { extra } : {}),
    },
  };
  const files = new Map<string, FileContent>([
    [SAELENS_CFG, encodeJson(cfg)],
    [SAELENS_WEIGHTS, encodeSafetensors(keep, { format: 'pt' })],
  ]);
  if (options.sparsity) {
    if (options.sparsity.length !== config.dSae) throw new Error(`sparsity has ${options.sparsity.length} values, expected ${config.dSae}`);
    files.set(SAELENS_SPARSITY, encodeSafetensors(new Map([['sparsity', { shape: [config.dSae], data: options.sparsity }]])));
  }
  return files;
}

/** Writes a SAELens folder atomically (a failure leaves any previous folder at `dir` intact). */
export async function writeSaeLensFolder(
  dir: string,
  weights: SaeWeights,
  options: SaeLensWriteOptions & FolderWriteOptions = {},
): Promise<void> {
  await writeFolderAtomic(dir, encodeSaeLens(weights, options), { keep: options.keep ?? ['feature_labels.json'], fs: options.fs });
}
