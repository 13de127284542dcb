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

export interface JumpReluRefOptions {
  readonly coeff: number;
  readonly targetL0?: number;
  /** Anthropic tanh sparsity λ·Σ tanh(c·f·‖d‖) instead of an L0 term. */
  readonly tanhScale?: number;
  /** Pre-activation loss α·Σ dead·ReLU(θ − pre)·‖d‖. */
  readonly preAct?: { readonly coeff: number; readonly dead: Uint8Array };
  /** Frequency penalty β·Σ max(0, p − cap)² (value only: its gradient is a pseudo-derivative). */
  readonly freq?: { readonly cap: number; readonly coeff: number };
  readonly auxK?: AuxRef;
}

export interface AuxRef {
  readonly dead: Uint8Array;
  readonly kAux: number;
  readonly alpha: number;
  /** Detached residual e = x − x̂ that AuxK reconstructs. */
  readonly residual: Float64Array;
  /** SAELens's selection: the top k_aux dead pre-activations of any sign (default: positive ones only). */
  readonly signed?: boolean;
}

function decoderNorms(p: P, s: Shape): Float64Array {
  const n = new Float64Array(s.dSae);
  for (let j = 0; j < s.dSae; j++) {
    let q = 0;
    for (let i = 0; i < s.dIn; i++) q += p.W_dec[j * s.dIn + i] ** 2;
    n[j] = Math.sqrt(q);
  }
  return n;
}

/** Gao-normalised AuxK: α·Σ(ê − e)²/Σ(e − ē)², ê = top-k_aux positive dead values through W_dec (no b_dec). */
function auxRef(p: P, vals: Float64Array, s: Shape, a: AuxRef): { loss: number; pattern: string } {
  const fa = new Float64Array(vals.length);
  let pattern = '';
  for (let b = 0; b < s.B; b++) {
    const idx = [...Array(s.dSae).keys()].filter((j) => a.dead[j] === 1 && (a.signed || vals[b * s.dSae + j] > 0));
    idx.sort((u, v) => vals[b * s.dSae + v] - vals[b * s.dSae + u]);
    const top = idx.slice(0, a.kAux);
    for (const j of top) fa[b * s.dSae + j] = vals[b * s.dSae + j];
    pattern += top.join(',') + '|';
  }
  const e = a.residual;
  const mean = new Float64Array(s.dIn);
  for (let b = 0; b < s.B; b++) for (let i = 0; i < s.dIn; i++) mean[i] += e[b * s.dIn + i] / s.B;
  let variance = 0;
  for (let b = 0; b < s.B; b++) for (let i = 0; i < s.dIn; i++) variance += (e[b * s.dIn + i] - mean[i]) ** 2;
  const sq = decodeSq(fa, p.W_dec, undefined, e, s) * s.B;
  return { loss: (a.alpha * sq) / variance, pattern };
}

export function jumpReluLoss(p: P, x: Float64Array, s: Shape, o: JumpReluRefOptions): { loss: number; pattern: string; residual: Float64Array } {
  const pre = preActs(p, 'W_enc', x, s, p.b_dec);
  const theta = p.threshold;
  const norms = decoderNorms(p, s);
  const f = new Float64Array(pre.length);
  const fires = new Float64Array(s.dSae);
  let active = 0;
  let pattern = '';
  let tanhSum = 0;
  let preAct = 0;
  for (let b = 0; b < s.B; b++) {
    for (let j = 0; j < s.dSae; j++) {
      const v = pre[b * s.dSae + j] + p.b_enc[j];
      pre[b * s.dSae + j] = v;
      const on = v > theta[j];
      pattern += on ? '1' : '0';
      if (on) {
        f[b * s.dSae + j] = v;
        active++;
        fires[j]++;
        if (o.tanhScale) tanhSum += Math.tanh(o.tanhScale * v * norms[j]);
      }
      if (o.preAct && o.preAct.dead[j] === 1 && v < theta[j]) preAct += o.preAct.coeff * (theta[j] - v) * norms[j];
    }
  }
  const l0 = active / s.B;
  let sparsity: number;
  if (o.tanhScale) sparsity = (o.coeff * tanhSum) / s.B;
  else sparsity = o.targetL0 ? o.coeff * (l0 / o.targetL0 - 1) ** 2 : o.coeff * l0;
  if (o.freq) for (let j = 0; j < s.dSae; j++) sparsity += o.freq.coeff * Math.max(0, fires[j] / s.B - o.freq.cap) ** 2;
  const residual = residualOf(f, p, x, s);
  let aux = 0;
  if (o.auxK) {
    const a = auxRef(p, pre, s, o.auxK);
    aux = a.loss;
    pattern += a.pattern;
  }
  return { loss: decodeSq(f, p.W_dec, p.b_dec, x, s) + sparsity + preAct / s.B + aux, pattern, residual };
}

function residualOf(f: Float64Array, p: P, x: Float64Array, s: Shape): Float64Array {
  const e = new Float64Array(x.length);
  for (let b = 0; b < s.B; b++) {
    for (let i = 0; i < s.dIn; i++) {
      let v = p.b_dec[i];
      for (let j = 0; j < s.dSae; j++) v += f[b * s.dSae + j] * p.W_dec[j * s.dIn + i];
      e[b * s.dIn + i] = x[b * s.dIn + i] - v;
    }
  }
  return e;
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
export function gatedLoss(
  p: P,
  frozen: P,
  x: Float64Array,
  s: Shape,
  lambda: number,
  auxK?: AuxRef,
): { loss: number; pattern: string; residual: Float64Array } {
  const piGateAll = new Float64Array(s.B * s.dSae);
  const P0 = preActs(p, 'W_enc', x, s, p.b_dec);
  const f = new Float64Array(P0.length);
  const g = new Float64Array(P0.length);
  let l1 = 0;
  let pattern = '';
  for (let b = 0; b < s.B; b++) {
    for (let j = 0; j < s.dSae; j++) {
      const piGate = P0[b * s.dSae + j] + p.b_gate[j];
      const piMag = Math.exp(p.r_mag[j]) * P0[b * s.dSae + j] + p.b_mag[j];
      piGateAll[b * s.dSae + j] = piGate;
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
  let dead = 0;
  if (auxK) {
    const a = auxRef(p, piGateAll, s, auxK);
    dead = a.loss;
    pattern += a.pattern;
  }
  return { loss: main + (lambda * l1) / s.B + aux + dead, pattern, residual: residualOf(f, p, x, s) };
}

/**
 * TopK/BatchTopK with optional AuxK (Gao-normalised; `residual` is the detached e = x − x̂) and optional
 * Matryoshka prefix widths (sum of the prefix reconstructions' losses).
 */
export function topKLoss(
  p: P,
  x: Float64Array,
  s: Shape,
  o: {
    k: number;
    batch?: boolean;
    dead?: Uint8Array;
    kAux?: number;
    alpha?: number;
    residual?: Float64Array;
    widths?: readonly number[];
    /** Matryoshka level weights (default 1 each). */
    weights?: readonly number[];
    signedAux?: boolean;
    /** AuxK's α times min(n_dead/k_aux, 1), n_dead where the term picks from (SAELens). */
    deadScale?: boolean;
    /** Matryoshka: one AuxK term per group, against its level's residual (given detached in levelResiduals). */
    perLevelAux?: boolean;
    levelResiduals?: readonly Float64Array[];
  },
): { loss: number; pattern: string; residual: Float64Array; levelResiduals: Float64Array[] } {
  const pre = preActs(p, 'W_enc', x, s, p.b_dec);
  for (let b = 0; b < s.B; b++) for (let j = 0; j < s.dSae; j++) pre[b * s.dSae + j] += p.b_enc[j];
  const f = new Float64Array(pre.length);
  let pattern = '';
  if (o.batch) {
    const all = [...pre.keys()].filter((i) => pre[i] > 0).sort((a, c) => pre[c] - pre[a]).slice(0, o.k * s.B);
    for (const i of all) f[i] = pre[i];
    pattern += all.sort((a, c) => a - c).join(',');
  } else {
    for (let b = 0; b < s.B; b++) {
      const idx = [...Array(s.dSae).keys()].filter((j) => pre[b * s.dSae + j] > 0);
      idx.sort((a, c) => pre[b * s.dSae + c] - pre[b * s.dSae + a]);
      const top = idx.slice(0, o.k);
      for (const j of top) f[b * s.dSae + j] = pre[b * s.dSae + j];
      pattern += top.join(',') + ';';
    }
  }
  let main = 0;
  const widths = o.widths ?? [s.dSae];
  const levelResiduals: Float64Array[] = [];
  widths.forEach((m, level) => {
    const prefix = f.map((v, i) => (i % s.dSae < m ? v : 0));
    main += (o.weights?.[level] ?? 1) * decodeSq(prefix, p.W_dec, p.b_dec, x, s);
    levelResiduals.push(residualOf(prefix, p, x, s));
  });
  const e = residualOf(f, p, x, s);
  let aux = 0;
  if (o.dead) {
    const kAux = o.kAux ?? 0;
    const terms = o.perLevelAux
      ? widths.map((m, g) => ({
          dead: o.dead!.map((v, j) => (j >= (g === 0 ? 0 : widths[g - 1]) && j < m ? v : 0)),
          residual: o.levelResiduals?.[g] ?? levelResiduals[g],
        }))
      : [{ dead: o.dead, residual: o.residual ?? e }];
    for (const t of terms) {
      const nDead = t.dead.reduce((n, v) => n + v, 0);
      if (nDead === 0) continue;
      const alpha = (o.alpha ?? 0) * (o.deadScale ? Math.min(nDead / kAux, 1) : 1);
      const a = auxRef(p, pre, s, { dead: t.dead, kAux, alpha, residual: t.residual, signed: o.signedAux });
      aux += a.loss;
      pattern += a.pattern;
    }
  }
  return { loss: main + aux, pattern, residual: e, levelResiduals };
}
