// dictionary_learning (saprmarks) checkpoints: ae.pt = torch.save(state_dict) beside config.json.
// The architecture is recognised from the state-dict keys (and config.json's dict_class when present).

import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { isRecord, readJsonObject } from '../checkpoints/json-file';
import { checkSaeDims, DEFAULT_LIMITS, formatError, type LoadLimits } from '../checkpoints/limits';
import type { LoadedSae } from '../checkpoints/loaded';
import { checkSaeTensors, clampThreshold, nonFiniteTensors, transpose, type NamedTensor } from '../checkpoints/sae-tensors';
import type { SaeArchitecture, SaeConfig } from '../sae/weights';
import { readTorchStateDict, type TorchTensor } from './torch-zip';
import { readFileBounded } from './zip';

export function dictionaryLearningFile(path: string): string | undefined {
  if (/\.(pt|pth)$/.test(path) && existsSync(path)) return path;
  const inFolder = join(path, 'ae.pt');
  return existsSync(path) && statSync(path).isDirectory() && existsSync(inFolder) ? inFolder : undefined;
}

function hookFromConfig(trainer: Record<string, unknown>): string | undefined {
  const layer = trainer.layer;
  const sub = typeof trainer.submodule_name === 'string' ? trainer.submodule_name : '';
  if (typeof layer !== 'number') return undefined;
  if (/mlp/.test(sub)) return `blocks.${layer}.hook_mlp_out`;
  if (/attn|attention/.test(sub)) return `blocks.${layer}.hook_attn_out`;
  if (sub === '' || /resid/.test(sub)) return `blocks.${layer}.hook_resid_post`;
  return undefined;
}

export function readDictionaryLearning(path: string, limits: LoadLimits = DEFAULT_LIMITS): LoadedSae {
  const file = dictionaryLearningFile(path);
  if (!file) throw formatError(path, 'no ae.pt here');
  const sd = readTorchStateDict(readFileBounded(file, limits), file, limits);
  const cfgPath = join(dirname(file), 'config.json');
  const trainer = existsSync(cfgPath) ? readJsonObject(cfgPath).trainer : undefined;
  const trainerCfg = isRecord(trainer) ? trainer : {};
  const dictClass = typeof trainerCfg.dict_class === 'string' ? trainerCfg.dict_class : undefined;
  const warnings: string[] = [];
  const has = (...keys: string[]) => keys.every((k) => sd.has(k));
  const get = (k: string): TorchTensor => sd.get(k)!;
  const matrix = (k: string, rows: number, cols: number) => {
    const t = get(k);
    if (t.shape.length !== 2 || t.shape[0] !== rows || t.shape[1] !== cols) {
      throw formatError(file, `${k} has shape [${t.shape.join(', ')}], expected [${rows}, ${cols}]`);
    }
    return t.data;
  };
  const vector = (k: string, n: number) => {
    const t = get(k);
    if (t.data.length !== n) throw formatError(file, `${k} has ${t.data.length} values, expected ${n}`);
    return t.data;
  };
  const scalar = (k: string) => {
    const t = get(k);
    if (t.data.length !== 1) throw formatError(file, `${k} should be a scalar`);
    return t.data[0];
  };

  let architecture: SaeArchitecture;
  let applyBDecToInput = true;
  let k: number | undefined;
  let sourceClass: string;
  const tensors = new Map<string, NamedTensor>();
  if (has('W_enc', 'b_enc', 'W_dec', 'b_dec', 'threshold') && !sd.has('k')) {
    // JumpReluAutoEncoder: f = ReLU(pre·[pre > θ]) with pre = x·W_enc + b_enc (b_dec not subtracted).
    sourceClass = 'JumpReluAutoEncoder';
    architecture = 'jumprelu';
    applyBDecToInput = false;
    const [dInRaw, dSaeRaw] = get('W_enc').shape;
    const { dIn, dSae } = checkSaeDims(file, dInRaw, dSaeRaw, limits);
    tensors.set('W_enc', { shape: [dIn, dSae], data: matrix('W_enc', dIn, dSae) });
    tensors.set('W_dec', { shape: [dSae, dIn], data: matrix('W_dec', dSae, dIn) });
    tensors.set('b_enc', { shape: [dSae], data: vector('b_enc', dSae) });
    tensors.set('b_dec', { shape: [dIn], data: vector('b_dec', dIn) });
    tensors.set('threshold', { shape: [dSae], data: clampThreshold(vector('threshold', dSae)) });
  } else {
    if (!has('encoder.weight')) throw formatError(file, `unrecognised state dict (keys: ${[...sd.keys()].join(', ')})`);
    const [dSaeRaw, dInRaw] = get('encoder.weight').shape;
    const { dIn, dSae } = checkSaeDims(file, dInRaw, dSaeRaw, limits);
    tensors.set('W_enc', { shape: [dIn, dSae], data: transpose(matrix('encoder.weight', dSae, dIn), dSae, dIn) });
    tensors.set('W_dec', { shape: [dSae, dIn], data: transpose(matrix('decoder.weight', dIn, dSae), dIn, dSae) });
    if (has('k', 'threshold', 'encoder.bias', 'b_dec')) {
      k = scalar('k');
      if (!Number.isSafeInteger(k) || k <= 0 || k > dSae) throw formatError(file, `k = ${k} is not in 1..${dSae}`);
      tensors.set('b_enc', { shape: [dSae], data: vector('encoder.bias', dSae) });
      tensors.set('b_dec', { shape: [dIn], data: vector('b_dec', dIn) });
      const batch = dictClass !== undefined && /BatchTopK/i.test(dictClass);
      if (dictClass === undefined) warnings.push('no config.json: assuming AutoEncoderTopK (per-token top-k), not BatchTopKSAE');
      if (batch) {
        // BatchTopKSAE inference: ReLU(pre)·[ReLU(pre) > θ] with one global θ = JumpReLU with θ' = max(θ, 0).
        sourceClass = dictClass!;
        architecture = 'jumprelu';
        const theta = Math.max(scalar('threshold'), 0);
        if (scalar('threshold') < 0) warnings.push('the BatchTopK threshold was never set (−1): every positive pre-activation fires');
        tensors.set('threshold', { shape: [dSae], data: new Float32Array(dSae).fill(theta) });
      } else {
        sourceClass = dictClass ?? 'AutoEncoderTopK';
        architecture = 'topk';
      }
    } else if (has('decoder_bias', 'r_mag', 'gate_bias', 'mag_bias')) {
      sourceClass = 'GatedAutoEncoder';
      architecture = 'gated';
      tensors.set('b_dec', { shape: [dIn], data: vector('decoder_bias', dIn) });
      tensors.set('b_gate', { shape: [dSae], data: vector('gate_bias', dSae) });
      tensors.set('b_mag', { shape: [dSae], data: vector('mag_bias', dSae) });
      tensors.set('r_mag', { shape: [dSae], data: vector('r_mag', dSae) });
    } else if (has('bias', 'encoder.bias')) {
      sourceClass = 'AutoEncoder';
      architecture = 'relu';
      tensors.set('b_enc', { shape: [dSae], data: vector('encoder.bias', dSae) });
      tensors.set('b_dec', { shape: [dIn], data: vector('bias', dIn) });
    } else if (has('encoder.bias', 'decoder.bias')) {
      // AutoEncoderNew: ReLU(encoder(x)) with no b_dec subtraction; decoder carries the bias.
      sourceClass = 'AutoEncoderNew';
      architecture = 'relu';
      applyBDecToInput = false;
      tensors.set('b_enc', { shape: [dSae], data: vector('encoder.bias', dSae) });
      tensors.set('b_dec', { shape: [dIn], data: vector('decoder.bias', dIn) });
    } else {
      throw formatError(file, `unrecognised state dict (keys: ${[...sd.keys()].join(', ')})`);
    }
  }
  const { dIn, dSae } = { dIn: tensors.get('W_enc')!.shape[0], dSae: tensors.get('W_enc')!.shape[1] };
  checkSaeTensors(file, architecture, dIn, dSae, tensors);
  if (dictClass && !dictClass.includes(sourceClass.replace(/AutoEncoder|SAE/g, '')) && sourceClass !== dictClass) {
    warnings.push(`config.json says ${dictClass} but the weights look like ${sourceClass}`);
  }
  const bad = nonFiniteTensors(tensors);
  if (bad.length > 0) warnings.push(`tensors with NaN or infinite values: ${bad.join(', ')}`);
  const hookName = hookFromConfig(trainerCfg);
  const config: SaeConfig = {
    architecture,
    dIn,
    dSae,
    ...(k !== undefined ? { k } : {}),
    applyBDecToInput,
    ...(hookName ? { hookName } : {}),
    ...(typeof trainerCfg.lm_name === 'string' ? { modelName: trainerCfg.lm_name } : {}),
    extra: { source: 'dictionary_learning', dictClass: sourceClass },
  };
  return { weights: { config, tensors }, format: 'dictionary-learning', source: file, warnings };
}
