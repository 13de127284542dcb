// The tensor room: the core's dense and sparse matrices, the numeric backend interface the SAEs compute
// through, its plain-TypeScript reference implementation, and the encoder GEMM kernel. Everything else in
// the core imports these from here; nothing in this room imports the rest of the core.
export { matrix, row, type Matrix } from './matrix';
export { SparseBuilder, sparseColumnSums, sparseToDense, withValues, type SparseRows } from './sparse';
export type { NumericBackend } from './backend';
export { referenceBackend } from './referenceBackend';
export { matmulTransposed, transpose } from './gemm';
export { transposeInto } from './transposeInto';
export { floatToHalf, halfDataToFloat32, halfToFloat } from './half';
export { pickRows, replaceRows, selectAbove, selectRowTopK } from './select';
export { createFastBackend, NonFiniteError, type FastBackend, type FastBackendOptions } from './fastBackend';
export type { AboveEntries, DenseEngine, GemmOptions, RowTopK, SaeDenseStepInputs, SaeDenseStepResult } from './denseEngine';
export { SwitchableBackend } from './switchableBackend';
export { loadWasmAdam, type AdamUpdate, type WasmAdam } from './wasmAdam';
