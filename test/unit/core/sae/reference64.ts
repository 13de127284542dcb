// Float64, naive-loop forward losses of each architecture, written independently of src/core/sae, for
// finite-difference checks of the hand-written gradients. Also returns the active pattern so a check can
// skip coordinates whose perturbation crosses a discontinuity.
export type P = Record<string, Float64Array>;

export interface Shape {
  readonly B: number;
  readonly dIn: number;
  readonly dSae: number;
  readonly subtractBDec: boolean;
}

function preActs(p: P, wEncName: string, x: Float64Array, s: Shape, bDecForInput: Float64Array): Float64Array {
  const { B, dIn, dSae } = s;
  const W = p[wEncName];
  const out = new Float64Array(B * dSae);
  for (let b = 0; b < B; b++) {
    for (let j = 0; j < dSae; j++) {
      let v = 0;
      for (let i = 0; i < dIn; i++) v += (x[b * dIn + i] - (s.subtractBDec ? bDecForInput[i] : 0)) * W[i * dSae + j];
      out[b * dSae + j] = v;
    }
  }
  return out;
}

function decodeSq(f: Float64Array, wDec: Float64Array, bDec: Float64Array | undefined, target: Float64Array, s: Shape): number {
  const { B, dIn, dSae } = s;
  let sum = 0;
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < dIn; i++) {
      let v = bDec ? bDec[i] : 0;
      for (let j = 0; j < dSae; j++) v += f[b * dSae + j] * wDec[j * dIn + i];
      sum += (target[b * dIn + i] - v) ** 2;
    }
  }
  return sum / B;
}

export function jumpReluLoss(
  p: P,
  x: Float64Array,
  s: Shape,
  o: { coeff: number; targetL0?: number },
): { loss: number; pattern: string } {
  const pre = preActs(p, 'W_enc', x, s, p.b_dec);
  const theta = p.threshold;
  const f = new Float64Array(pre.length);
  let active = 0;
  let pattern = '';
  for (let b = 0; b < s.B; b++) {
    for (let j = 0; j < s.dSae; j++) {
      const v = pre[b * s.dSae + j] + p.b_enc[j];
      const on = v > theta[j];
      pattern += on ? '1' : '0';
      if (on) {
        f[b * s.dSae + j] = v;
        active++;
      }
    }
  }
  const l0 = active / s.B;
  const sparsity = o.targetL0 ? o.coeff * (l0 / o.targetL0 - 1) ** 2 : o.coeff * l0;
  return { loss: decodeSq(f, p.W_dec, p.b_dec, x, s) + sparsity, pattern };
}

export function reluLoss(p: P, x: Float64Array, s: Shape, lambda: number): { loss: number; pattern: string } {
  const pre = preActs(p, 'W_enc', x, s, p.b_dec);
  const f = new Float64Array(pre.length);
  let pen = 0;
  let pattern = '';
  for (let b = 0; b < s.B; b++) {
    for (let j = 0; j < s.dSae; j++) {
      const v = pre[b * s.dSae + j] + p.b_enc[j];
      pattern += v > 0 ? '1' : '0';
      if (v > 0) {
        f[b * s.dSae + j] = v;
        let n = 0;
        for (let i = 0; i < s.dIn; i++) n += p.W_dec[j * s.dIn + i] ** 2;
        pen += v * Math.sqrt(n);
      }
    }
  }
  return { loss: decodeSq(f, p.W_dec, p.b_dec, x, s) + (lambda * pen) / s.B, pattern };
}

/** `frozen` holds the decoder copy used by the auxiliary term (stop-gradient in the real loss). */
export function gatedLoss(p: P, frozen: P, x: Float64Array, s: Shape, lambda: number): { loss: number; pattern: string } {
  const P0 = preActs(p, 'W_enc', x, s, p.b_dec);
  const f = new Float64Array(P0.length);
  const g = new Float64Array(P0.length);
  let l1 = 0;
  let pattern = '';
  for (let b = 0; b < s.B; b++) {
    for (let j = 0; j < s.dSae; j++) {
      const piGate = P0[b * s.dSae + j] + p.b_gate[j];
      const piMag = Math.exp(p.r_mag[j]) * P0[b * s.dSae + j] + p.b_mag[j];
      pattern += (piGate > 0 ? '1' : '0') + (piMag > 0 ? '1' : '0');
      if (piGate > 0) {
        g[b * s.dSae + j] = piGate;
        l1 += piGate;
        if (piMag > 0) f[b * s.dSae + j] = piMag;
      }
    }
  }
  const main = decodeSq(f, p.W_dec, p.b_dec, x, s);
  const aux = decodeSq(g, frozen.W_dec, frozen.b_dec, x, s);
  return { loss: main + (lambda * l1) / s.B + aux, pattern };
}

/** TopK with optional AuxK; `residual` is the detached e = x − x̂ the AuxK term reconstructs. */
export function topKLoss(
  p: P,
  x: Float64Array,
  s: Shape,
  o: { k: number; batch?: boolean; dead?: Uint8Array; kAux?: number; alpha?: number; residual?: Float64Array },
): { loss: number; pattern: string; residual: Float64Array } {
  const pre = preActs(p, 'W_enc', x, s, p.b_dec);
  for (let b = 0; b < s.B; b++) for (let j = 0; j < s.dSae; j++) pre[b * s.dSae + j] += p.b_enc[j];
  const pick = (b: number, k: number, allowed: (j: number) => boolean): number[] => {
    const idx = [...Array(s.dSae).keys()].filter((j) => allowed(j) && pre[b * s.dSae + j] > 0);
    idx.sort((a, c) => pre[b * s.dSae + c] - pre[b * s.dSae + a]);
    return idx.slice(0, k);
  };
  const f = new Float64Array(pre.length);
  const fa = new Float64Array(pre.length);
  let pattern = '';
  if (o.batch) {
    const all = [...pre.keys()].filter((i) => pre[i] > 0).sort((a, c) => pre[c] - pre[a]).slice(0, o.k * s.B);
    for (const i of all) f[i] = pre[i];
    pattern += all.sort((a, c) => a - c).join(',');
  }
  for (let b = 0; b < s.B; b++) {
    if (!o.batch) {
      const top = pick(b, o.k, () => true);
      for (const j of top) f[b * s.dSae + j] = pre[b * s.dSae + j];
      pattern += top.join(',') + ';';
    }
    if (o.dead) {
      const aux = pick(b, o.kAux ?? 0, (j) => o.dead?.[j] === 1);
      for (const j of aux) fa[b * s.dSae + j] = pre[b * s.dSae + j];
      pattern += aux.join(',') + '|';
    }
  }
  const main = decodeSq(f, p.W_dec, p.b_dec, x, s);
  // residual e = x − x̂
  const e = new Float64Array(x.length);
  for (let b = 0; b < s.B; b++) {
    for (let i = 0; i < s.dIn; i++) {
      let v = p.b_dec[i];
      for (let j = 0; j < s.dSae; j++) v += f[b * s.dSae + j] * p.W_dec[j * s.dIn + i];
      e[b * s.dIn + i] = x[b * s.dIn + i] - v;
    }
  }
  let aux = 0;
  if (o.dead) aux = (o.alpha ?? 0) * decodeSq(fa, p.W_dec, undefined, o.residual ?? e, s);
  return { loss: main + aux, pattern, residual: e };
}
