// The fast numeric backend: dense products run in a multi-threaded GEMM engine (ONNX Runtime's MLAS in
// practice), products over sparse codes run in JavaScript when they are sparse enough that their cost
// scales with the stored entries, and top-k / threshold selection happens inside the engine so the dense
// [batch × d_sae] pre-activations never cross into JavaScript. docs/performance.md has the measurements.
import type { NumericBackend } from './backend';
import { sparseToDense, type SparseRows } from './sparse';
import { referenceBackend } from './referenceBackend';
import type { DenseEngine, SaeDenseStepInputs, SaeDenseStepResult } from './denseEngine';
import { selectAbove, selectRowTopK } from './select';
import { transposeInto } from './transposeInto';
import { jsSparseKernels, type SparseKernelSet } from './sparseKernels';
import { loadWasmSparseKernels } from './wasmKernels';

export interface FastBackendOptions {
  /**
   * Above this fraction of stored entries a sparse operand is densified and multiplied in the engine.
   * Per stored entry JavaScript spends ~d multiply-adds at ~1 GFLOP/s; the engine spends ~2d flops per
   * dense element at tens of GFLOP/s plus the copy, so the break-even is a few percent.
   */
  readonly denseAbove?: number;
  /** Products smaller than this many multiply-adds stay in JavaScript (the engine call has a fixed cost). */
  readonly minEngineWork?: number;
  /**
   * Above this fraction of entries, sampled dot products run as one dense product in the engine that
   * returns only the sampled entries (JumpReLU's wide straight-through window early in a run).
   */
  readonly gatherAbove?: number;
  /** NumericBackend.denseStepAbove: the sparse kernels' break-even density against the engine's GEMMs. */
  readonly denseStepAbove?: number;
  /**
   * The products over sparse codes: 'wasm' (WebAssembly SIMD, the default; JavaScript with a notice if it
   * cannot load), 'js', or a given kernel set (tests).
   */
  readonly sparseKernels?: 'wasm' | 'js' | SparseKernelSet;
  /** Threads of the WebAssembly kernels (1 default, 2 = a helper thread takes half of each large product). */
  readonly sparseThreads?: number;
  /** One-line notices while running (the kernels' helper thread lost); default: standard error. */
  readonly onNotice?: (message: string) => void;
}

export interface FastBackend extends NumericBackend {
  readonly engine: DenseEngine;
  /** Which sparse kernels run ('WebAssembly SIMD' or 'JavaScript'). */
  readonly sparseKernels: string;
  /** One line when WebAssembly kernels were wanted but could not load (the JavaScript ones run instead). */
  readonly kernelNotice?: string;
  /** Threads the sparse products run on now (1 after a lost helper thread). */
  readonly sparseThreads: number;
  /** Stops the sparse kernels' helper thread; the engine belongs to the caller and stays open. */
  dispose(): void;
}

const DEFAULT_DENSE_ABOVE = 0.05;
const DEFAULT_MIN_ENGINE_WORK = 1 << 18;
const DEFAULT_GATHER_ABOVE = 0.02;

export function createFastBackend(engine: DenseEngine, options: FastBackendOptions = {}): FastBackend {
  const denseAbove = options.denseAbove ?? DEFAULT_DENSE_ABOVE;
  const minWork = options.minEngineWork ?? DEFAULT_MIN_ENGINE_WORK;
  const gatherAbove = options.gatherAbove ?? DEFAULT_GATHER_ABOVE;
  const isDense = (s: SparseRows): boolean => s.colIdx.length > denseAbove * s.rows * s.cols;
  const onNotice = options.onNotice ?? ((message: string) => void process.stderr.write(`${message}\n`));
  const { kernels, notice } = sparseKernelsFor(options.sparseKernels ?? 'wasm', options.sparseThreads ?? 1, onNotice);
  const { sparseTimesDense, sparseTransposeTimesDenseAcc, sparseTransposeTimesDense, sampledDots } = kernels;
  // Only a set loaded here is ours to dispose (a given one belongs to the caller).
  const owned = typeof options.sparseKernels !== 'object';
  const threads = kernels.threads ?? 1;

  const backend: FastBackend = {
    name: `fast (${engine.name}, ${kernels.name} sparse kernels on ${threads === 1 ? '1 thread' : `${threads} threads`})`,
    engine,
    sparseKernels: kernels.name,
    ...(notice ? { kernelNotice: notice } : {}),
    get sparseThreads() {
      return kernels.threads ?? 1;
    },
    dispose() {
      if (owned) kernels.dispose?.();
    },
    denseStepAbove: options.denseStepAbove ?? denseAbove,
    ...(engine.saeDenseStep
      ? {
          saeDenseStep: (inputs: SaeDenseStepInputs): SaeDenseStepResult => {
            const out = engine.saeDenseStep!(inputs);
            // The masks inside the step drop a NaN pre-activation silently (NaN > 0 is false).
            checkFinite(out.checksum);
            return out;
          },
        }
      : {}),

    matmul(a, b, bias) {
      if (a.rows * a.cols * b.cols < minWork) return referenceBackend.matmul(a, b, bias);
      if (a.cols !== b.rows) throw new Error(`matmul ${a.rows}×${a.cols} · ${b.rows}×${b.cols}`);
      const out = engine.gemm(a, b, bias ? { bias } : {});
      checkFiniteArray(out.data);
      return out;
    },

    matmulTransA(a, b) {
      if (a.rows * a.cols * b.cols < minWork) return referenceBackend.matmulTransA(a, b);
      if (a.rows !== b.rows) throw new Error(`matmulTransA ${a.rows}×${a.cols}ᵀ · ${b.rows}×${b.cols}`);
      return engine.gemm(a, b, { transA: true });
    },

    matmulTransB(a, b) {
      if (a.rows * a.cols * b.rows < minWork) return referenceBackend.matmulTransB(a, b);
      if (a.cols !== b.cols) throw new Error(`matmulTransB ${a.rows}×${a.cols} · ${b.rows}×${b.cols}ᵀ`);
      return engine.gemm(a, b, { transB: true });
    },

    sparseMatmul(s, b, bias) {
      if (s.cols !== b.rows) throw new Error(`sparseMatmul ${s.rows}×${s.cols} · ${b.rows}×${b.cols}`);
      if (isDense(s) && s.rows * s.cols * b.cols >= minWork) return engine.gemm(sparseToDense(s), b, bias ? { bias } : {});
      return sparseTimesDense(s, b, bias);
    },

    sparseTransMatmulAcc(s, a, out) {
      if (s.rows !== a.rows || out.rows !== s.cols || out.cols !== a.cols) throw new Error('sparseTransMatmulAcc shapes');
      if (isDense(s) && s.rows * s.cols * a.cols >= minWork) {
        const g = engine.gemm(sparseToDense(s), a, { transA: true }).data;
        const O = out.data;
        for (let i = 0; i < O.length; i++) O[i] += g[i];
        return;
      }
      sparseTransposeTimesDenseAcc(s, a, out);
    },

    sparseTransMatmul(s, a, transposed) {
      if (s.rows !== a.rows) throw new Error('sparseTransMatmul shapes');
      if (isDense(s) && s.rows * s.cols * a.cols >= minWork) {
        // The same product as sparseTransMatmulAcc's dense path, so both give the same sums.
        const g = engine.gemm(sparseToDense(s), a, { transA: true }).data;
        if (!transposed) return g;
        const t = new Float32Array(g.length);
        transposeInto(g, s.cols, a.cols, t);
        return t;
      }
      return sparseTransposeTimesDense(s, a, transposed);
    },

    sampledDot(pattern, a, b, out) {
      if (a.cols !== b.cols || pattern.rows !== a.rows || pattern.cols !== b.rows) throw new Error('sampledDot shapes');
      if (pattern.colIdx.length > gatherAbove * pattern.rows * pattern.cols && pattern.rows * pattern.cols * a.cols >= minWork) {
        // Dense product inside the engine, only the pattern's entries come back (rows padded to the widest).
        const width = maxRowCount(pattern);
        const idx = new Int32Array(pattern.rows * width);
        for (let r = 0; r < pattern.rows; r++) {
          const start = pattern.rowPtr[r];
          const count = pattern.rowPtr[r + 1] - start;
          idx.set(pattern.colIdx.subarray(start, start + count), r * width);
        }
        const got = engine.gemmTransBGather(a, b, idx, width);
        for (let r = 0; r < pattern.rows; r++) {
          const start = pattern.rowPtr[r];
          out.set(got.subarray(r * width, r * width + pattern.rowPtr[r + 1] - start), start);
        }
        return;
      }
      sampledDots(pattern, a, b, out);
    },

    matmulRowTopK(a, b, bias, k, mask) {
      if (a.cols !== b.rows) throw new Error(`matmulRowTopK ${a.rows}×${a.cols} · ${b.rows}×${b.cols}`);
      const n = b.cols;
      if (a.rows * a.cols * n < minWork || 4 * k > n) return selectRowTopK(backend.matmul(a, b, bias), k, mask);
      // Masked-out columns get score −∞; "positive" is score > 0.
      const shift = mask ? Float32Array.from(mask, (m) => (m === 0 ? Number.POSITIVE_INFINITY : 0)) : undefined;
      const top = engine.gemmRowTopK(a, b, bias, shift, k);
      checkFinite(top.checksum);
      return kernels.candidatesToRows(top.k, a.rows, n, top.indices, top.values, top.scores);
    },

    matmulAbove(a, b, bias, lower) {
      if (a.cols !== b.rows || lower.length !== b.cols) throw new Error(`matmulAbove ${a.rows}×${a.cols} · ${b.rows}×${b.cols}`);
      if (a.rows * a.cols * b.cols < minWork) return selectAbove(backend.matmul(a, b, bias), lower);
      // The engine compacts the passing entries itself (row-major), so the CSR only needs row pointers.
      const hit = engine.gemmAbove(a, b, bias, lower);
      checkFinite(hit.checksum);
      const rowPtr = new Int32Array(a.rows + 1);
      for (let e = 0; e < hit.rows.length; e++) rowPtr[hit.rows[e] + 1]++;
      for (let r = 0; r < a.rows; r++) rowPtr[r + 1] += rowPtr[r];
      return { rows: a.rows, cols: b.cols, rowPtr, colIdx: hit.cols.slice(), values: hit.values.slice() };
    },
  };
  return backend;
}

function sparseKernelsFor(
  want: 'wasm' | 'js' | SparseKernelSet,
  threads: number,
  onNotice: (message: string) => void,
): { kernels: SparseKernelSet; notice?: string } {
  if (want === 'js') return { kernels: jsSparseKernels };
  if (want !== 'wasm') return { kernels: want };
  try {
    return { kernels: loadWasmSparseKernels({ threads, onNotice }) };
  } catch (err) {
    const why = (err instanceof Error ? err.message : String(err)).split('\n')[0];
    return { kernels: jsSparseKernels, notice: `WebAssembly SIMD sparse kernels unavailable (${why}); using the JavaScript ones` };
  }
}

/** Dense pre-activations are selected from in JavaScript, where a NaN would be dropped silently. */
function checkFiniteArray(data: Float32Array): void {
  let s = 0;
  for (let i = 0; i < data.length; i++) s += data[i] * 0; // NaN·0 = NaN, ∞·0 = NaN
  if (s !== 0) throw new NonFiniteError('the GEMM engine produced a non-finite value');
}

/** A selection drops NaN silently (NaN > x is false); a non-finite product must fail loudly instead. */
function checkFinite(checksum: number): void {
  if (!Number.isFinite(checksum)) throw new NonFiniteError('the GEMM engine produced a non-finite pre-activation');
}

export class NonFiniteError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NonFiniteError';
  }
}

function maxRowCount(s: SparseRows): number {
  let m = 0;
  for (let r = 0; r < s.rows; r++) m = Math.max(m, s.rowPtr[r + 1] - s.rowPtr[r]);
  return m;
}
