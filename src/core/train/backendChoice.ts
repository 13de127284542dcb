// Which numeric backend a training run (or batch encoding) uses: the fast one (ONNX Runtime GEMM engine
// + sparse kernels) unless told otherwise or it cannot load, then the reference backend with a one-line
// notice. The fast backend must pass a small self-check against the reference before it is used.
import { createOrtDenseEngine } from '../runtime/ortDenseEngine';
import { createFastBackend, referenceBackend, type DenseEngine, type FastBackend, type Matrix, type NumericBackend } from '../tensor';

export type BackendChoice = 'auto' | 'fast' | 'reference';
export const BACKEND_CHOICES: readonly BackendChoice[] = ['auto', 'fast', 'reference'];

export interface ChosenBackend {
  readonly backend: NumericBackend;
  /**
   * Set when the fast backend was wanted but could not be used, or runs without its WebAssembly kernels
   * (one line, for the log or stderr).
   */
  readonly notice?: string;
  dispose(): void;
}

export interface BackendChoiceOptions {
  readonly intraOpThreads?: number;
  /** Threads of the sparse kernels (1 default; see sparseThreads.ts for the per-architecture choice). */
  readonly sparseThreads?: number;
  /** One-line notices while the backend runs (a lost helper thread); default: standard error. */
  readonly onNotice?: (message: string) => void;
  /** The engine to try (tests hand in broken ones); default ONNX Runtime. */
  readonly loadEngine?: () => DenseEngine;
}

export function parseBackendChoice(value: string | undefined): BackendChoice {
  const v = (value ?? 'auto').trim().toLowerCase();
  if ((BACKEND_CHOICES as readonly string[]).includes(v)) return v as BackendChoice;
  throw new Error(`unknown backend "${value}" (expected ${BACKEND_CHOICES.join(', ')})`);
}

export function chooseBackend(choice: BackendChoice, options: BackendChoiceOptions = {}): ChosenBackend {
  if (choice === 'reference') return { backend: referenceBackend, dispose: () => undefined };
  let engine: DenseEngine | undefined;
  let fast: FastBackend | undefined;
  try {
    engine = (options.loadEngine ?? (() => createOrtDenseEngine({ intraOpThreads: options.intraOpThreads ?? 2 })))();
    const probe = createFastBackend(engine, { minEngineWork: 0 });
    try {
      selfCheck(probe);
    } finally {
      probe.dispose();
    }
    const loaded = engine;
    fast = createFastBackend(loaded, { sparseThreads: options.sparseThreads ?? 1, ...(options.onNotice ? { onNotice: options.onNotice } : {}) });
    const running = fast;
    return {
      backend: running,
      ...(running.kernelNotice ? { notice: running.kernelNotice } : {}),
      dispose: () => {
        running.dispose();
        loaded.dispose();
      },
    };
  } catch (err) {
    try {
      fast?.dispose();
      engine?.dispose();
    } catch {
      // already broken; the notice below says so
    }
    const why = (err instanceof Error ? err.message : String(err)).split('\n')[0];
    return {
      backend: referenceBackend,
      notice: `fast training backend unavailable (${why}); using the reference backend`,
      dispose: () => undefined,
    };
  }
}

/** A few small products through the engine path compared with the reference backend. */
function selfCheck(backend: NumericBackend): void {
  const a: Matrix = { data: Float32Array.from({ length: 6 * 5 }, (_, i) => Math.sin(i + 1)), rows: 6, cols: 5 };
  const b: Matrix = { data: Float32Array.from({ length: 5 * 7 }, (_, i) => Math.cos(2 * i + 1)), rows: 5, cols: 7 };
  const bias = Float32Array.from({ length: 7 }, (_, i) => i / 10 - 0.3);
  const got = backend.matmul(a, b, bias).data;
  const want = referenceBackend.matmul(a, b, bias).data;
  for (let i = 0; i < want.length; i++) {
    if (!(Math.abs(got[i] - want[i]) <= 1e-4 * (1 + Math.abs(want[i])))) throw new Error(`self-check failed: GEMM entry ${i} is ${got[i]}, expected ${want[i]}`);
  }
  const top = backend.matmulRowTopK(a, b, bias, 2);
  const topRef = referenceBackend.matmulRowTopK(a, b, bias, 2);
  if (top.colIdx.join() !== topRef.colIdx.join()) throw new Error('self-check failed: top-k selection differs');
  const lower = new Float32Array(7).fill(0.1);
  if (backend.matmulAbove(a, b, bias, lower).colIdx.join() !== referenceBackend.matmulAbove(a, b, bias, lower).colIdx.join()) {
    throw new Error('self-check failed: threshold selection differs');
  }
}
