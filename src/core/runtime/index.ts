// The model runtime's public surface. Only this folder imports onnxruntime-node.
export { loadModel, resolveModelFiles, OnnxLanguageModel, type ModelFiles } from './model';
export { listModelVariants, VARIANT_ORDER, type ModelVariant } from './variants';
export { analyseGraph, findLogitsOutput, hookSites, siteName, SiteAnalysisError, SITE_KINDS, type GraphAnalysis } from './graph';
export { ModelFileError } from './onnxProto';
export { planWindows, truncationMessage, DEFAULT_MAX_TOKENS, type Window } from './windowing';
export { tokenCrossEntropy, crossEntropySum, meanCrossEntropy, rowKl, argmaxRow } from './loss';
export { defaultCacheDir } from './cache';
export { createDenseLayer, type DenseLayer } from './dense';
export type * from './types';
