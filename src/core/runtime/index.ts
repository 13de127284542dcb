// The model runtime's public surface. Only this folder imports onnxruntime-node.
export { loadModel, resolveModelFiles, listModelVariants, OnnxLanguageModel, type ModelFiles, type ModelVariant } from './model';
export { analyseGraph, findLogitsOutput, hookSites, siteName, SiteAnalysisError, SITE_KINDS, type GraphAnalysis } from './graph';
export { ModelFileError } from './onnxProto';
export { planWindows, truncationMessage, DEFAULT_MAX_TOKENS, type Window } from './windowing';
export { tokenCrossEntropy, crossEntropySum, meanCrossEntropy, rowKl, argmaxRow } from './loss';
export { defaultCacheDir } from './cache';
export { createDenseLayer, type DenseLayer } from './dense';
export type * from './types';
