// Adam with bias correction (as torch.optim.Adam), on named Float32Array parameters.

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

  /** One update; `t` is the 1-based step number used for bias correction. */
  step(params: ReadonlyMap<string, Float32Array>, grads: ReadonlyMap<string, Float32Array>, lr: number, t: number): void {
    const { beta1, beta2, eps } = this.config;
    const c1 = 1 - Math.pow(beta1, t);
    const c2 = 1 - Math.pow(beta2, t);
    const stepSize = lr / c1;
    const sqrtC2 = Math.sqrt(c2);
    for (const [name, p] of params) {
      const g = grads.get(name);
      const m = this.m.get(name);
      const v = this.v.get(name);
      if (!g || !m || !v) throw new Error(`Adam: no gradient or moments for ${name}`);
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
