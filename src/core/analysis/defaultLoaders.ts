// The real loaders behind an analysis session: the ONNX runtime, the SAE format readers, the runtime's
// GEMM for the SAE encoder.
import { readFeatureLabels, setFeatureLabel, labelsPath } from '../checkpoints/labels';
import { openSae } from '../formats/open-sae';
import { createDenseLayer } from '../runtime/dense';
import { loadModel } from '../runtime/model';
import type { Loaders } from './session';
import { readUnembedding } from './unembedding';

export function defaultLoaders(options: { cacheDir?: string; intraOpThreads?: number } = {}): Loaders {
  return {
    loadModel: (path, variant) => loadModel(path, { cacheDir: options.cacheDir, intraOpThreads: options.intraOpThreads, ...(variant ? { variant } : {}) }),
    loadSae: (path, hook) => {
      const opened = openSae(path, hook === undefined ? {} : { hook });
      return { sae: opened.sae, warnings: opened.warnings, folder: opened.folder };
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
