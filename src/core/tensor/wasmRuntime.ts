// The few WebAssembly JS-API members the kernels use (the core compiles without the DOM library's
// typings), and the compile of a committed base64 module, shared by the sparse kernels and Adam's passes.

export interface WasmMemory {
  readonly buffer: ArrayBufferLike;
  grow(pages: number): number;
}

export interface WasmApi {
  Memory: new (descriptor: { initial: number; maximum?: number; shared?: boolean }) => WasmMemory;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { readonly exports: unknown };
}

export const WASM_PAGE = 65536;

/** The runtime's WebAssembly object; throws where there is none (the callers then keep JavaScript). */
export function wasmApi(): WasmApi {
  const api = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
  if (!api) throw new Error('WebAssembly is not defined');
  return api;
}

const compiled = new Map<string, object>();

/** The module of a base64 string, compiled once per process (throws where SIMD is missing). */
export function moduleFromBase64(api: WasmApi, base64: string): object {
  let module = compiled.get(base64);
  if (!module) {
    module = new api.Module(Uint8Array.from(atob(base64), (c) => c.charCodeAt(0)));
    compiled.set(base64, module);
  }
  return module;
}
