// Building SAE models: fresh (for training) or from stored weights (for inference or resume).
import { referenceBackend, type NumericBackend } from '../tensor';
import type { Rng } from '../util/rng';
import { withInputScaleFolded } from './fold';
import { GatedSae, type GatedOptions } from './gated';
import { initTiedDictionary } from './init';
import { JumpReluSae, type JumpReluOptions } from './jumprelu';
import type { SaeModel } from './model';
import { ReluSae } from './relu';
import { TopKSae, type TopKOptions } from './topk';
import type { SaeArchitecture, SaeConfig, SaeWeights } from './weights';

export interface SaeSpec {
  readonly architecture: SaeArchitecture;
  readonly dIn: number;
  readonly dSae: number;
  readonly applyBDecToInput: boolean;
  readonly k?: number;
  readonly jumpRelu?: JumpReluOptions & { readonly thresholdInit: number; readonly decoderInitNorm?: number };
  readonly topK?: Partial<Omit<TopKOptions, 'k'>>;
  readonly gated?: GatedOptions;
}

const MAX_ELEMENTS = 2 ** 28; // 1 GiB of float32 per matrix: beyond this a config is a mistake, not a request

export function validateDims(dIn: number, dSae: number): void {
  for (const [name, v] of [
    ['d_in', dIn],
    ['d_sae', dSae],
  ] as const) {
    if (!Number.isInteger(v) || v <= 0) throw new Error(`${name} must be a positive integer, got ${v}`);
  }
  if (dIn * dSae > MAX_ELEMENTS) throw new Error(`d_in × d_sae = ${dIn * dSae} is too large`);
}

export function topKDefaults(dIn: number, k: number, o: Partial<Omit<TopKOptions, 'k'>> = {}): TopKOptions {
  return {
    k,
    kAux: o.kAux ?? Math.max(1, Math.floor(dIn / 2)),
    auxCoeff: o.auxCoeff ?? 1 / 32,
    thresholdEmaRate: o.thresholdEmaRate ?? 0.01,
    ...(o.matryoshkaWidths ? { matryoshkaWidths: o.matryoshkaWidths } : {}),
    ...(o.auxKSelection ? { auxKSelection: o.auxKSelection } : {}),
    ...(o.matryoshkaWeights ? { matryoshkaWeights: o.matryoshkaWeights } : {}),
    ...(o.auxKDeadScale ? { auxKDeadScale: true } : {}),
    ...(o.matryoshkaAuxK ? { matryoshkaAuxK: o.matryoshkaAuxK } : {}),
  };
}

export function createSae(spec: SaeSpec, rng: Rng, backend: NumericBackend = referenceBackend): SaeModel {
  const { dIn, dSae } = spec;
  validateDims(dIn, dSae);
  const ctx = { backend };
  const { wEnc, wDec } = initTiedDictionary(rng, dIn, dSae);
  const config: SaeConfig = {
    architecture: spec.architecture,
    dIn,
    dSae,
    applyBDecToInput: spec.applyBDecToInput,
    ...(spec.k !== undefined ? { k: spec.k } : {}),
  };
  const zeros = (n: number): Float32Array => new Float32Array(n);
  switch (spec.architecture) {
    case 'jumprelu': {
      const jr = spec.jumpRelu ?? { thresholdParam: 'log', sparsity: { kind: 'l0' }, thresholdInit: 0.001 };
      const threshold = new Float32Array(dSae).fill(jr.thresholdInit);
      if (jr.unitNormDecoder === false && jr.decoderInitNorm !== undefined) {
        // SAELens: decoder rows start at norm decoder_init_norm, and W_enc = W_decᵀ at the same scale.
        for (let i = 0; i < wDec.length; i++) wDec[i] *= jr.decoderInitNorm;
        for (let i = 0; i < wEnc.length; i++) wEnc[i] *= jr.decoderInitNorm;
      }
      return new JumpReluSae(config, ctx, { wEnc, wDec, bEnc: zeros(dSae), bDec: zeros(dIn), threshold }, jr);
    }
    case 'topk':
    case 'batchtopk': {
      const k = requireK(spec.k, dSae);
      return new TopKSae(
        config,
        ctx,
        { wEnc, wDec, bEnc: zeros(dSae), bDec: zeros(dIn) },
        topKDefaults(dIn, k, spec.topK),
        spec.architecture === 'batchtopk',
      );
    }
    case 'gated':
      return new GatedSae(config, ctx, {
        wEnc,
        wDec,
        bGate: zeros(dSae),
        bMag: zeros(dSae),
        rMag: zeros(dSae),
        bDec: zeros(dIn),
      }, spec.gated ?? {});
    case 'relu':
      return new ReluSae(config, ctx, { wEnc, wDec, bEnc: zeros(dSae), bDec: zeros(dIn) });
  }
}

function requireK(k: number | undefined, dSae: number): number {
  if (k === undefined || !Number.isInteger(k) || k < 1 || k > dSae) throw new Error(`k must be an integer in 1..d_sae, got ${k}`);
  return k;
}

/** An inference model from stored weights (an unfolded inputScale is folded in first). */
export function saeFromWeights(stored: SaeWeights, backend: NumericBackend = referenceBackend): SaeModel {
  const weights = withInputScaleFolded(stored);
  const { config } = weights;
  validateDims(config.dIn, config.dSae);
  const ctx = { backend };
  const get = (name: string, len: number): Float32Array => {
    const t = weights.tensors.get(name);
    if (!t) throw new Error(`SAE weights: missing tensor ${name} for architecture ${config.architecture}`);
    if (t.data.length !== len) throw new Error(`SAE weights: ${name} has ${t.data.length} values, expected ${len}`);
    return t.data.slice();
  };
  const { dIn, dSae } = config;
  const base = () => ({
    wEnc: get('W_enc', dIn * dSae),
    wDec: get('W_dec', dSae * dIn),
    bEnc: get('b_enc', dSae),
    bDec: get('b_dec', dIn),
  });
  switch (config.architecture) {
    case 'jumprelu':
      return new JumpReluSae(config, ctx, { ...base(), threshold: get('threshold', dSae) }, {
        thresholdParam: 'raw',
        sparsity: { kind: 'l0' },
      });
    case 'batchtopk':
      if (!weights.tensors.has('threshold')) throw new Error('SAE weights: batchtopk needs a threshold tensor');
      return new JumpReluSae({ ...config, architecture: 'jumprelu' }, ctx, { ...base(), threshold: get('threshold', dSae) }, {
        thresholdParam: 'raw',
        sparsity: { kind: 'l0' },
      });
    case 'topk':
      return new TopKSae(config, ctx, base(), topKDefaults(dIn, requireK(config.k, dSae)), false);
    case 'gated':
      return new GatedSae(config, ctx, {
        wEnc: get('W_enc', dIn * dSae),
        wDec: get('W_dec', dSae * dIn),
        bGate: get('b_gate', dSae),
        bMag: get('b_mag', dSae),
        rMag: get('r_mag', dSae),
        bDec: get('b_dec', dIn),
      });
    case 'relu':
      return new ReluSae(config, ctx, base());
  }
}
