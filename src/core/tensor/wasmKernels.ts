// The sparse products of sparseKernels.ts run as WebAssembly SIMD (assembly/sparseKernels.ts): the same
// sums with f32x4 arithmetic. Operands are copied into the module's memory for each call (measured in
// bench/sparse-kernels.ts: a few percent of the kernel time) and results copied back. Loading can fail
// (no WebAssembly SIMD, no shared memory): loadWasmSparseKernels throws and the caller keeps JavaScript.
import type { Matrix } from './matrix';
import type { SparseRows } from './sparse';
import { byColumn, type SparseKernelSet } from './sparseKernels';
import { SPARSE_KERNELS_WASM_BASE64 } from './wasm/sparseKernelsWasm';

interface KernelExports {
  gatherAxpy(ptr: number, idx: number, val: number, m: number, d: number, out: number, init: number, g0: number, g1: number): void;
  sampledDots(rowPtr: number, colIdx: number, a: number, b: number, d: number, out: number, r0: number, r1: number): void;
}

// The few WebAssembly JS-API members used here (the core compiles without the DOM library's typings).
interface WasmMemory {
  readonly buffer: ArrayBufferLike;
  grow(pages: number): number;
}
interface WasmApi {
  Memory: new (descriptor: { initial: number; maximum: number; shared: boolean }) => WasmMemory;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { readonly exports: unknown };
}

function wasmApi(): WasmApi {
  const api = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
  if (!api) throw new Error('WebAssembly is not defined');
  return api;
}

const PAGE = 65536;
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
    if (this.top > have) this.memory.grow(Math.ceil((this.top - have) / PAGE));
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

let compiled: object | undefined;

function kernelModule(api: WasmApi): object {
  if (!compiled) compiled = new api.Module(Uint8Array.from(atob(SPARSE_KERNELS_WASM_BASE64), (c) => c.charCodeAt(0)));
  return compiled;
}

/** An instance of the kernels on a fresh shared memory. Throws where WebAssembly SIMD or threads are missing. */
export function loadWasmSparseKernels(): SparseKernelSet {
  const api = wasmApi();
  const memory = new api.Memory({ initial: 16, maximum: MAX_PAGES, shared: true });
  const k = new api.Instance(kernelModule(api), { env: { memory } }).exports as KernelExports;
  const arena = new Arena(memory);

  return {
    name: 'WebAssembly SIMD',

    sparseTimesDense(s: SparseRows, b: Matrix, bias: Float32Array | undefined): Matrix {
      const d = b.cols;
      arena.reset();
      const ptr = arena.put(s.rowPtr);
      const idx = arena.put(s.colIdx);
      const val = arena.put(s.values);
      const m = arena.put(b.data);
      const init = bias ? arena.put(bias) : 0;
      const out = arena.alloc(s.rows * d * 4);
      if (!bias) arena.f32(out, s.rows * d).fill(0);
      k.gatherAxpy(ptr, idx, val, m, d, out, init, 0, s.rows);
      return { data: arena.f32(out, s.rows * d).slice(), rows: s.rows, cols: d };
    },

    sparseTransposeTimesDenseAcc(s: SparseRows, a: Matrix, out: Matrix): void {
      const d = a.cols;
      const { colPtr, rowOf, valueOf } = byColumn(s);
      arena.reset();
      const ptr = arena.put(colPtr);
      const idx = arena.put(rowOf);
      const val = arena.put(valueOf);
      const m = arena.put(a.data);
      const o = arena.put(out.data);
      k.gatherAxpy(ptr, idx, val, m, d, o, 0, 0, s.cols);
      out.data.set(arena.f32(o, out.data.length));
    },

    sampledDots(pattern: SparseRows, a: Matrix, b: Matrix, out: Float32Array): void {
      arena.reset();
      const rowPtr = arena.put(pattern.rowPtr);
      const colIdx = arena.put(pattern.colIdx);
      const pa = arena.put(a.data);
      const pb = arena.put(b.data);
      const po = arena.alloc(out.length * 4);
      k.sampledDots(rowPtr, colIdx, pa, pb, a.cols, po, 0, pattern.rows);
      out.set(arena.f32(po, out.length));
    },
  };
}
