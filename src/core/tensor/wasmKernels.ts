// The sparse products of sparseKernels.ts run as WebAssembly SIMD (assembly/sparseKernels.ts): the same
// sums with f32x4 arithmetic. Operands are copied into the module's memory for each call (measured in
// bench/sparse-kernels.ts: small against the kernel time) and results copied back. The memory is shared:
// with threads 2, a helper worker thread runs the same module on it and takes half of each product's
// output rows (the JavaScript half of a training step is otherwise single-threaded while the GEMM
// engine's threads wait). Every output element is computed by one thread in one order, so results do not
// depend on the split. Loading can fail (no WebAssembly SIMD, no shared memory): loadWasmSparseKernels
// throws and the caller keeps JavaScript; a helper thread that cannot start leaves one thread, and one
// lost later (sparseHelperThread.ts) costs a recomputed product and leaves one thread, never a hang.
import type { Matrix } from './matrix';
import type { SparseRows } from './sparse';
import type { SparseKernelSet } from './sparseKernels';
import { HelperLost, OP_GATHER_AXPY, OP_SAMPLED_DOTS, SparseHelperThread, type HelperFault } from './sparseHelperThread';
import { SPARSE_KERNELS_WASM_BASE64 } from './wasm/sparseKernelsWasm';
import { moduleFromBase64, wasmApi, WASM_PAGE, type WasmMemory } from './wasmRuntime';

interface KernelExports {
  gatherAxpy(ptr: number, idx: number, val: number, m: number, d: number, out: number, init: number, g0: number, g1: number): void;
  sampledDots(rowPtr: number, colIdx: number, a: number, b: number, d: number, out: number, r0: number, r1: number): void;
  sortCandidates(idx: number, val: number, score: number, k: number, r0: number, r1: number, outCols: number, outVals: number, count: number): void;
  byColumn(rows: number, cols: number, rowPtr: number, colIdx: number, values: number, colPtr: number, rowOf: number, valueOf: number, next: number): number;
  transpose(src: number, rows: number, cols: number, dst: number): void;
}

/** 2 GiB: the largest operand set (W_dec, the batch, the gradient) of any SAE trained here is far below. */
const MAX_PAGES = 32768;

/** Bump allocation of one call's operands in the module's memory (16-byte aligned, reset per call). */
class Arena {
  private top = 0;
  constructor(readonly memory: WasmMemory) {}

  reset(): void {
    this.top = 0;
  }

  alloc(bytes: number): number {
    const at = this.top;
    this.top = (at + bytes + 15) & ~15;
    const have = this.memory.buffer.byteLength;
    if (this.top > have) this.memory.grow(Math.ceil((this.top - have) / WASM_PAGE));
    return at;
  }

  put(src: Float32Array | Int32Array): number {
    const at = this.alloc(src.byteLength);
    new Uint8Array(this.memory.buffer, at, src.byteLength).set(new Uint8Array(src.buffer, src.byteOffset, src.byteLength));
    return at;
  }

  f32(at: number, length: number): Float32Array {
    return new Float32Array(this.memory.buffer, at, length);
  }
}


/** Below this many multiply-adds a product stays on one thread (waking the helper costs tens of µs). */
const MIN_SPLIT_WORK = 1 << 18;

/** The group g in [0, groups] where ptr (a CSR/CSC pointer array) passes half of the entries. */
function splitAt(ptr: Int32Array, groups: number): number {
  const half = ptr[groups] / 2;
  let lo = 0;
  let hi = groups;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (ptr[mid] < half) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export interface WasmKernelOptions {
  /**
   * 1 (default), or 2 to split every large product with a helper thread (the default per architecture is
   * chosen in core/train/backendChoice.ts from measurements in docs/performance.md).
   */
  readonly threads?: number;
  /** One line when the helper thread is lost and the kernels continue on one thread. */
  readonly onNotice?: (message: string) => void;
  /** How long a helper's half may take before it counts as lost (default 10 s; tests shorten it). */
  readonly helperDeadlineMs?: number;
  /** Tests of the recovery path: the helper fails this way on this claim. */
  readonly helperFault?: HelperFault;
}

export interface WasmSparseKernels extends SparseKernelSet {
  /** 2 while the helper thread takes half of each large product, else 1 (also after it was lost). */
  readonly threads: number;
  /** Stops the helper thread (it never keeps the process alive either way). */
  dispose(): void;
}

/** One module instance on its own shared memory, with its helper thread when two threads are wanted. */
interface Instance {
  readonly memory: WasmMemory;
  readonly arena: Arena;
  readonly wasm: KernelExports;
  readonly helper?: SparseHelperThread;
}

/** An instance of the kernels on a fresh shared memory. Throws where WebAssembly SIMD or threads are missing. */
export function loadWasmSparseKernels(options: WasmKernelOptions = {}): WasmSparseKernels {
  const api = wasmApi();
  const module = moduleFromBase64(api, SPARSE_KERNELS_WASM_BASE64);
  const instantiate = (threads: number): Instance => {
    const memory = new api.Memory({ initial: 16, maximum: MAX_PAGES, shared: true });
    const wasm = new api.Instance(module, { env: { memory } }).exports as KernelExports;
    let helper: SparseHelperThread | undefined;
    if (threads >= 2) {
      try {
        helper = new SparseHelperThread(module, memory, {
          ...(options.helperDeadlineMs !== undefined ? { deadlineMs: options.helperDeadlineMs } : {}),
          ...(options.helperFault ? { fault: options.helperFault } : {}),
        });
      } catch {
        helper = undefined; // one thread still computes everything
      }
    }
    return { memory, arena: new Arena(memory), wasm, ...(helper ? { helper } : {}) };
  };
  let inst = instantiate(options.threads ?? 1);
  let disposed = false;

  /**
   * Runs one product on the current instance. If its helper thread is lost (stopped, failed, overran),
   * the product is computed again from the caller's operands on a fresh one-thread instance with its own
   * memory (a helper that merely overran may still write into the old one) and the kernels stay on one
   * thread. Every output element is computed by one thread in one order, so the results are the same.
   * Nothing reaches the caller's arrays before a product completes, so the retry starts from clean inputs.
   */
  const guarded = <T>(product: (i: Instance) => T): T => {
    try {
      return product(inst);
    } catch (err) {
      if (!(err instanceof HelperLost)) throw err;
      inst.helper?.dispose();
      inst = instantiate(1);
      // Used after dispose: one thread, as asked for by disposing, and nothing to report.
      if (!disposed) options.onNotice?.(`sparse kernels: the helper thread was lost (${err.message}); continuing on one thread`);
      return product(inst);
    }
  };

  // out rows [0, groups) of gatherAxpy, split by entries when the product is large enough.
  const gatherAxpy = (i: Instance, ptrArr: Int32Array, groups: number, ptr: number, idx: number, val: number, m: number, d: number, out: number, init: number): void => {
    const { wasm, helper } = i;
    if (!helper || ptrArr[groups] * d < MIN_SPLIT_WORK) {
      wasm.gatherAxpy(ptr, idx, val, m, d, out, init, 0, groups);
      return;
    }
    const mid = splitAt(ptrArr, groups);
    helper.run(
      OP_GATHER_AXPY,
      [ptr, idx, val, m, d, out, init, mid, groups],
      () => wasm.gatherAxpy(ptr, idx, val, m, d, out, init, 0, mid),
      () => wasm.gatherAxpy(ptr, idx, val, m, d, out, init, mid, groups),
    );
  };

  // out (already in the module at byte offset o, [s.cols × a.cols]) += Sᵀ·A; the code grouped by column
  // (CSC) is built in the module from the CSR, as sparseKernels.ts byColumn. Allocates after o in the arena.
  const transposedProduct = (i: Instance, s: SparseRows, a: Matrix, o: number): void => {
    const { arena, memory, wasm } = i;
    const d = a.cols;
    const nnz = s.colIdx.length;
    const rowPtr = arena.put(s.rowPtr);
    const colIdx = arena.put(s.colIdx);
    const values = arena.put(s.values);
    const ptr = arena.alloc((s.cols + 1) * 4);
    new Int32Array(memory.buffer, ptr, s.cols + 1).fill(0);
    const idx = arena.alloc(nnz * 4);
    const val = arena.alloc(nnz * 4);
    const next = arena.alloc(s.cols * 4);
    wasm.byColumn(s.rows, s.cols, rowPtr, colIdx, values, ptr, idx, val, next);
    const m = arena.put(a.data);
    gatherAxpy(i, new Int32Array(memory.buffer, ptr, s.cols + 1), s.cols, ptr, idx, val, m, d, o, 0);
  };

  return {
    name: 'WebAssembly SIMD',
    get threads() {
      return inst.helper && !inst.helper.lost ? 2 : 1;
    },

    sparseTimesDense: (s: SparseRows, b: Matrix, bias: Float32Array | undefined): Matrix =>
      guarded((i) => {
        const { arena } = i;
        const d = b.cols;
        arena.reset();
        const ptr = arena.put(s.rowPtr);
        const idx = arena.put(s.colIdx);
        const val = arena.put(s.values);
        const m = arena.put(b.data);
        const init = bias ? arena.put(bias) : 0;
        const out = arena.alloc(s.rows * d * 4);
        if (!bias) arena.f32(out, s.rows * d).fill(0);
        gatherAxpy(i, s.rowPtr, s.rows, ptr, idx, val, m, d, out, init);
        return { data: arena.f32(out, s.rows * d).slice(), rows: s.rows, cols: d };
      }),

    sparseTransposeTimesDenseAcc: (s: SparseRows, a: Matrix, out: Matrix): void =>
      guarded((i) => {
        const { arena } = i;
        arena.reset();
        const o = arena.put(out.data);
        transposedProduct(i, s, a, o);
        out.data.set(arena.f32(o, out.data.length));
      }),

    sparseTransposeTimesDense: (s: SparseRows, a: Matrix, transposed: boolean): Float32Array =>
      guarded((i) => {
        // Fresh zeros in the module (no copy in); the transpose runs in the module too, one copy out.
        const { arena, wasm } = i;
        arena.reset();
        const len = s.cols * a.cols;
        const o = arena.alloc(len * 4);
        arena.f32(o, len).fill(0);
        transposedProduct(i, s, a, o);
        if (!transposed) return arena.f32(o, len).slice();
        const t = arena.alloc(len * 4);
        wasm.transpose(o, s.cols, a.cols, t);
        return arena.f32(t, len).slice();
      }),

    sampledDots: (pattern: SparseRows, a: Matrix, b: Matrix, out: Float32Array): void =>
      guarded((i) => {
        const { arena, wasm, helper } = i;
        arena.reset();
        const rowPtr = arena.put(pattern.rowPtr);
        const colIdx = arena.put(pattern.colIdx);
        const pa = arena.put(a.data);
        const pb = arena.put(b.data);
        const po = arena.alloc(out.length * 4);
        const d = a.cols;
        const rows = pattern.rows;
        if (!helper || out.length * d < MIN_SPLIT_WORK) {
          wasm.sampledDots(rowPtr, colIdx, pa, pb, d, po, 0, rows);
        } else {
          const mid = splitAt(pattern.rowPtr, rows);
          helper.run(
            OP_SAMPLED_DOTS,
            [rowPtr, colIdx, pa, pb, d, po, mid, rows],
            () => wasm.sampledDots(rowPtr, colIdx, pa, pb, d, po, 0, mid),
            () => wasm.sampledDots(rowPtr, colIdx, pa, pb, d, po, mid, rows),
          );
        }
        out.set(arena.f32(po, out.length));
      }),

    candidatesToRows(k: number, rows: number, cols: number, indices: Int32Array, values: Float32Array, scores: Float32Array): SparseRows {
      const { arena, memory, wasm } = inst;
      arena.reset();
      const idx = arena.put(indices);
      const val = arena.put(values);
      const score = arena.put(scores);
      const oc = arena.alloc(rows * k * 4);
      const ov = arena.alloc(rows * k * 4);
      const count = arena.alloc(rows * 4);
      wasm.sortCandidates(idx, val, score, k, 0, rows, oc, ov, count);
      const counts = new Int32Array(memory.buffer, count, rows);
      const rowPtr = new Int32Array(rows + 1);
      for (let r = 0; r < rows; r++) rowPtr[r + 1] = rowPtr[r] + counts[r];
      const nnz = rowPtr[rows];
      const c = new Int32Array(memory.buffer, oc, rows * k);
      const v = arena.f32(ov, rows * k);
      const colIdx = new Int32Array(nnz);
      const vals = new Float32Array(nnz);
      if (nnz === rows * k) {
        colIdx.set(c);
        vals.set(v);
      } else {
        for (let r = 0; r < rows; r++) {
          colIdx.set(c.subarray(r * k, r * k + counts[r]), rowPtr[r]);
          vals.set(v.subarray(r * k, r * k + counts[r]), rowPtr[r]);
        }
      }
      return { rows, cols, rowPtr, colIdx, values: vals };
    },

    dispose(): void {
      disposed = true;
      inst.helper?.dispose();
    },
  };
}
