// Adam's per-parameter passes as WebAssembly SIMD (assembly/densePasses.ts). The moments live in the
// module's memory for the optimiser's whole life (exposed as Float32Array views, so checkpoints read and
// restore them as before); each step copies a parameter and its gradient in, runs one fused pass and
// copies the parameter back (float64 arithmetic: the JavaScript update's results bit for bit). The memory is sized once, at creation, and never grows afterwards (growing
// would detach the views). Loading throws where WebAssembly SIMD is missing; the caller keeps JavaScript.
import { DENSE_PASSES_WASM_BASE64 } from './wasm/densePassesWasm';
import { moduleFromBase64, wasmApi, WASM_PAGE } from './wasmRuntime';

interface PassExports {
  adam(p: number, g: number, m: number, v: number, n: number, beta1: number, beta2: number, stepSize: number, sqrtC2: number, eps: number): void;
  adamUnitRows(p: number, g: number, m: number, v: number, rows: number, cols: number, beta1: number, beta2: number, stepSize: number, sqrtC2: number, eps: number): void;
}


/** One update's constants: step = lr / (1 − β1^t), sqrtC2 = √(1 − β2^t). */
export interface AdamUpdate {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly stepSize: number;
  readonly sqrtC2: number;
}

export interface WasmAdam {
  /** Zero-initialised first and second moments per parameter (views into the module's memory). */
  readonly m: Map<string, Float32Array>;
  readonly v: Map<string, Float32Array>;
  /**
   * Updates p (and the moments of `name`) from g. unitRows: p is [rows × cols] with unit-norm rows: g
   * first loses its component along each row, and each row is renormalised after its update (g itself
   * is left unchanged).
   */
  step(name: string, p: Float32Array, g: Float32Array, u: AdamUpdate, unitRows?: { rows: number; cols: number }): void;
  /**
   * Moves each named parameter of `params` into the module's memory: its values are copied into a slot
   * there and the map's entry is replaced by a view of that slot, which step() then updates in place (no
   * copy of the parameter in and out per step). Whoever reads the parameters through the map sees the
   * same values; arrays taken from the map before this call are no longer the parameters.
   */
  adopt(params: Map<string, Float32Array>): void;
}

/** Moments for parameters of the given sizes in a fresh module memory. Throws where WebAssembly SIMD is missing. */
export function loadWasmAdam(sizes: ReadonlyMap<string, number>): WasmAdam {
  const api = wasmApi();
  const align = (bytes: number): number => (bytes + 15) & ~15;
  let top = 0;
  const at = new Map<string, { m: number; v: number; p: number; n: number }>();
  let largest = 0;
  for (const [name, n] of sizes) {
    at.set(name, { m: top, v: top + align(4 * n), p: top + 2 * align(4 * n), n });
    top += 3 * align(4 * n);
    largest = Math.max(largest, n);
  }
  const scratchP = top;
  const scratchG = scratchP + align(4 * largest);
  const bytes = scratchG + align(4 * largest);
  const memory = new api.Memory({ initial: Math.max(1, Math.ceil(bytes / WASM_PAGE)) });
  const wasm = new api.Instance(moduleFromBase64(api, DENSE_PASSES_WASM_BASE64), { env: { memory } }).exports as PassExports;
  const m = new Map<string, Float32Array>();
  const v = new Map<string, Float32Array>();
  for (const [name, o] of at) {
    m.set(name, new Float32Array(memory.buffer, o.m, o.n));
    v.set(name, new Float32Array(memory.buffer, o.v, o.n));
  }
  const resident = new Map<string, Float32Array>(); // adopted parameters: their views
  const pView = new Float32Array(memory.buffer, scratchP, largest);
  const gView = new Float32Array(memory.buffer, scratchG, largest);
  return {
    m,
    v,
    step(name, p, g, u, unitRows) {
      const o = at.get(name);
      if (!o || p.length !== o.n || g.length !== o.n) throw new Error(`Adam: no moments of ${p.length} floats for ${name}`);
      const inPlace = resident.get(name) === p;
      const pAt = inPlace ? o.p : scratchP;
      if (!inPlace) pView.set(p);
      gView.set(g);
      if (unitRows) {
        if (unitRows.rows * unitRows.cols !== o.n) throw new Error(`Adam: ${name} is not ${unitRows.rows}×${unitRows.cols}`);
        wasm.adamUnitRows(pAt, scratchG, o.m, o.v, unitRows.rows, unitRows.cols, u.beta1, u.beta2, u.stepSize, u.sqrtC2, u.eps);
      } else {
        wasm.adam(pAt, scratchG, o.m, o.v, o.n, u.beta1, u.beta2, u.stepSize, u.sqrtC2, u.eps);
      }
      if (!inPlace) p.set(pView.subarray(0, o.n));
    },
    adopt(params) {
      for (const [name, p] of params) {
        const o = at.get(name);
        if (!o || p.length !== o.n || resident.get(name) === p) continue;
        const view = new Float32Array(memory.buffer, o.p, o.n);
        view.set(p);
        params.set(name, view);
        resident.set(name, view);
      }
    },
  };
}
