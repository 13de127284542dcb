// The public surface of the core, for code outside src/core that wants one entry point (scripts,
// other tools). Inside the project, callers import the module they need directly: esbuild then
// keeps each bundle small (the webview never sees any of this).
export type { Matrix } from './tensor';
export type { SaeArchitecture, SaeConfig, SaeWeights } from './sae/weights';
export type { HookSite, LanguageModel } from './runtime/types';
export { loadModel } from './runtime';
export { loadTokenizer } from './tokenizer';
export { loadSae, detectSaeFormat, MultipleSaesError } from './formats/detect';
export { saveCheckpoint, loadCheckpoint } from './checkpoints/checkpoint';
export { createSae, saeFromWeights } from './sae/create';
export { SaeTrainer } from './train/trainer';
export { train, trainToEnd } from './train/driver';
export { analyzeText } from './analysis/analyzeText';
export { splicedLoss } from './metrics/splicedLoss';
export { readNpyMatrix, writeNpyMatrix } from './npy';
