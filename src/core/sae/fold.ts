// Folding the trainer's fixed input scale C (SaeTrainer.inputScale, √(mean ‖x‖²) of the first rows) back
// into the weights. The SAE was trained on x/C; the folded SAE reads raw x and never subtracts b_dec from
// its input:
//   b_enc' = C·b_enc − C·W_encᵀ b_dec (the second term only if b_dec was subtracted), b_dec' = C·b_dec,
//   θ' = C·θ, W unchanged. Gated applies the same to b_gate (with W_gate) and b_mag (with W_gate⊙exp r_mag).
import { tensor } from './model';
import type { SaeWeights } from './weights';

type Tensors = Map<string, { shape: number[]; data: Float32Array }>;

export function foldInputScale(weights: SaeWeights, scale: number): SaeWeights {
  if (!(scale > 0) || !Number.isFinite(scale)) throw new Error(`foldInputScale: bad scale ${scale}`);
  const { config } = weights;
  const { dIn, dSae } = config;
  const get = (name: string): Float32Array => {
    const t = weights.tensors.get(name);
    if (!t) throw new Error(`foldInputScale: missing ${name}`);
    return t.data;
  };
  const out: Tensors = new Map();
  for (const [name, t] of weights.tensors) out.set(name, tensor(t.shape, t.data.slice()));
  const bDec = get('b_dec');
  const subtract = config.applyBDecToInput;

  const foldBias = (biasName: string, wEnc: Float32Array, columnScale?: Float32Array): void => {
    const b = get(biasName);
    const folded = new Float32Array(dSae);
    for (let j = 0; j < dSae; j++) {
      let wb = 0;
      if (subtract) for (let i = 0; i < dIn; i++) wb += wEnc[i * dSae + j] * bDec[i];
      if (columnScale) wb *= columnScale[j];
      folded[j] = scale * b[j] - scale * wb;
    }
    out.set(biasName, tensor([dSae], folded));
  };

  const wEnc = get('W_enc');
  if (config.architecture === 'gated') {
    foldBias('b_gate', wEnc);
    foldBias('b_mag', wEnc, get('r_mag').map(Math.exp));
  } else {
    foldBias('b_enc', wEnc);
  }
  out.set('b_dec', tensor([dIn], bDec.map((v) => v * scale)));
  if (weights.tensors.has('threshold')) out.set('threshold', tensor([dSae], get('threshold').map((v) => v * scale)));
  const { inputScale: _dropped, ...rest } = config;
  return { config: { ...rest, applyBDecToInput: false }, tensors: out };
}

/** Weights that carry an unfolded inputScale, made to read raw activations directly. */
export function withInputScaleFolded(weights: SaeWeights): SaeWeights {
  const s = weights.config.inputScale;
  return s === undefined || s === 1 ? weights : foldInputScale(weights, s);
}

