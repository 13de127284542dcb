// The real loaders behind an analysis session: the ONNX runtime, the SAE format readers, the runtime's
// GEMM for the SAE encoder.
import { readFeatureLabels, setFeatureLabel, labelsPath } from '../checkpoints/labels';
import { loadSae } from '../formats/detect';
import { createDenseLayer } from '../runtime/dense';
import { loadModel } from '../runtime/model';
import type { Loaders } from './session';
import { readUnembedding } from './unembedding';

export function defaultLoaders(options: { cacheDir?: string; intraOpThreads?: number } = {}): Loaders {
  return {
    loadModel: (path) => loadModel(path, { cacheDir: options.cacheDir, intraOpThreads: options.intraOpThreads }),
    loadSae: (path, hook) => {
      const loaded = loadSae(path, hook === undefined ? {} : { hook });
      return { weights: loaded.weights, warnings: loaded.warnings };
    },
    encoderKernel: async (sae) => {
      const layer = await createDenseLayer({ data: sae.wEnc, rows: sae.dIn, cols: sae.dSae }, undefined, { intraOpThreads: options.intraOpThreads });
      return { kernel: (x) => layer.apply(x), dispose: () => layer.dispose() };
    },
    readLabels: (saePath) => {
      const labels = new Map<number, string>();
      for (const [i, l] of readFeatureLabels(saePath)) if (l.label) labels.set(i, l.label);
      return labels;
    },
    unembedding: (_lm, modelPath) => readUnembedding(modelPath),
  };
}

export async function writeFeatureLabel(saePath: string, feature: number, label: string): Promise<string> {
  await setFeatureLabel(saePath, feature, label);
  return labelsPath(saePath);
}
