// The real loaders behind an analysis session: the ONNX runtime, the SAE format readers, the runtime's
// GEMM for the SAE encoder.
import { statSync } from 'node:fs';
import { dirname } from 'node:path';
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
      const folder = statSync(loaded.source).isDirectory() ? loaded.source : dirname(loaded.source);
      return { weights: loaded.weights, warnings: loaded.warnings, folder };
    },
    encoderKernel: async (sae) => {
      const layer = await createDenseLayer({ data: sae.wEnc, rows: sae.dIn, cols: sae.dSae }, undefined, { intraOpThreads: options.intraOpThreads });
      return { kernel: (x) => layer.apply(x), dispose: () => layer.dispose() };
    },
    readLabels: (folder) => {
      const labels = new Map<number, string>();
      for (const [i, l] of readFeatureLabels(folder)) if (l.label) labels.set(i, l.label);
      return labels;
    },
    unembedding: (_lm, modelPath) => readUnembedding(modelPath),
  };
}

export async function writeFeatureLabel(folder: string, feature: number, label: string): Promise<string> {
  await setFeatureLabel(folder, feature, label);
  return labelsPath(folder);
}
