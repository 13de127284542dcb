// Adam with bias correction (as torch.optim.Adam), on named Float32Array parameters. Each parameter's bias
// correction counts that parameter's own updates: a parameter left out of a step (no gradient, e.g. θ
// during a TopK warm start) neither moves nor advances its count, as in torch where a parameter without
// .grad keeps its own state["step"].

export interface AdamConfig {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
}

export class Adam {
  readonly m = new Map<string, Float32Array>();
  readonly v = new Map<string, Float32Array>();

  constructor(
    readonly config: AdamConfig,
    params: ReadonlyMap<string, Float32Array>,
  ) {
    for (const [name, p] of params) {
      this.m.set(name, new Float32Array(p.length));
      this.v.set(name, new Float32Array(p.length));
    }
  }

  /**
   * One update of every parameter that has a gradient. `t(name)` is the 1-based number of updates that
   * parameter has received including this one (its bias-correction step); parameters absent from `grads`
   * are skipped. `lr` may differ per parameter.
   */
  step(
    params: ReadonlyMap<string, Float32Array>,
    grads: ReadonlyMap<string, Float32Array>,
    lr: number | ((name: string) => number),
    t: (name: string) => number,
  ): void {
    const { beta1, beta2, eps } = this.config;
    for (const [name, p] of params) {
      const g = grads.get(name);
      if (!g) continue;
      const m = this.m.get(name);
      const v = this.v.get(name);
      if (!m || !v) throw new Error(`Adam: no moments for ${name}`);
      const n = t(name);
      if (!(n >= 1)) throw new Error(`Adam: step ${n} for ${name}`);
      const c1 = 1 - Math.pow(beta1, n);
      const c2 = 1 - Math.pow(beta2, n);
      const stepSize = (typeof lr === 'number' ? lr : lr(name)) / c1;
      const sqrtC2 = Math.sqrt(c2);
      for (let i = 0; i < p.length; i++) {
        const gi = g[i];
        const mi = beta1 * m[i] + (1 - beta1) * gi;
        const vi = beta2 * v[i] + (1 - beta2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        p[i] -= (stepSize * mi) / (Math.sqrt(vi) / sqrtC2 + eps);
      }
    }
  }
}
