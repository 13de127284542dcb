// Adam with bias correction (as torch.optim.Adam), on named Float32Array parameters. Each parameter's bias
// correction counts that parameter's own updates: a parameter left out of a step (no gradient, e.g. θ
// during a TopK warm start) neither moves nor advances its count, as in torch where a parameter without
// .grad keeps its own state["step"]. The update runs as one WebAssembly SIMD pass per parameter when
// asked for and available (docs/performance.md has the time), else in JavaScript; both compute in
// float64 in the same order, so their results are identical bit for bit.
import { normalizeRows, removeParallelComponent } from '../sae/model';
import { loadWasmAdam, type WasmAdam } from '../tensor';

export interface AdamConfig {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
}

export interface AdamOptions {
  /** Run the updates as WebAssembly SIMD (JavaScript when it cannot load). Default false. */
  readonly wasm?: boolean;
}

/** A parameter kept at unit-norm rows (an SAE's decoder): see Adam.step. */
export interface UnitNormRows {
  readonly name: string;
  readonly rows: number;
  readonly cols: number;
}

export class Adam {
  readonly m: Map<string, Float32Array>;
  readonly v: Map<string, Float32Array>;
  private readonly kernels: WasmAdam | undefined;

  constructor(
    readonly config: AdamConfig,
    params: ReadonlyMap<string, Float32Array>,
    options: AdamOptions = {},
  ) {
    this.kernels = options.wasm ? tryWasm(params) : undefined;
    if (this.kernels) {
      this.m = this.kernels.m;
      this.v = this.kernels.v;
      return;
    }
    this.m = new Map();
    this.v = new Map();
    for (const [name, p] of params) {
      this.m.set(name, new Float32Array(p.length));
      this.v.set(name, new Float32Array(p.length));
    }
  }

  /**
   * With the WebAssembly passes: moves the parameters into the module's memory (the map's entries become
   * views of it, updated in place by step(): no copy of each parameter in and out per step). Without
   * them, nothing changes. See WasmAdam.adopt.
   */
  adopt(params: Map<string, Float32Array>): void {
    this.kernels?.adopt(params);
  }

  /** 'WebAssembly SIMD' or 'JavaScript'. */
  get kernelName(): string {
    return this.kernels ? 'WebAssembly SIMD' : 'JavaScript';
  }

  /**
   * One update of every parameter that has a gradient. `t(name)` is the 1-based number of updates that
   * parameter has received including this one (its bias-correction step); parameters absent from `grads`
   * are skipped. `lr` may differ per parameter. unitNorm: that parameter's rows are unit vectors; its
   * gradient first loses each row's parallel component and each row is renormalised after the update
   * (the gradient array may be modified).
   */
  step(
    params: ReadonlyMap<string, Float32Array>,
    grads: ReadonlyMap<string, Float32Array>,
    lr: number | ((name: string) => number),
    t: (name: string) => number,
    unitNorm?: UnitNormRows,
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
      const rows = unitNorm?.name === name ? unitNorm : undefined;
      if (this.kernels) {
        this.kernels.step(name, p, g, { beta1, beta2, eps, stepSize, sqrtC2 }, rows);
        continue;
      }
      if (rows) removeParallelComponent(p, g, rows.rows, rows.cols);
      for (let i = 0; i < p.length; i++) {
        const gi = g[i];
        const mi = beta1 * m[i] + (1 - beta1) * gi;
        const vi = beta2 * v[i] + (1 - beta2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        p[i] -= (stepSize * mi) / (Math.sqrt(vi) / sqrtC2 + eps);
      }
      if (rows) normalizeRows(p, rows.rows, rows.cols);
    }
  }
}

function tryWasm(params: ReadonlyMap<string, Float32Array>): WasmAdam | undefined {
  try {
    return loadWasmAdam(new Map([...params].map(([name, p]) => [name, p.length])));
  } catch {
    return undefined; // the JavaScript update computes the same step
  }
}
