// The real loaders behind an analysis session: the ONNX runtime, the checkpoint readers and the SAE models.
import { readSaeLensFolder } from '../checkpoints/saelens';
import { readFeatureLabels, setFeatureLabel, labelsPath } from '../checkpoints/labels';
import { loadModel } from '../runtime/model';
import { saeFromWeights } from '../sae/create';
import { withInputScaleFolded } from '../sae/fold';
import { canEncodeFast, fastEncode } from './fastEncode';
import type { Loaders } from './session';
import { readUnembedding } from './unembedding';

export function defaultLoaders(options: { cacheDir?: string; intraOpThreads?: number } = {}): Loaders {
  return {
    loadModel: (path) => loadModel(path, { cacheDir: options.cacheDir, intraOpThreads: options.intraOpThreads }),
    loadSae: (path) => {
      const loaded = readSaeLensFolder(path);
      return { weights: loaded.weights, warnings: loaded.warnings };
    },
    encoderFor: (stored) => {
      const weights = withInputScaleFolded(stored);
      if (canEncodeFast(weights)) return { weights, encode: (x) => fastEncode(weights, x) };
      const model = saeFromWeights(stored);
      return { weights, encode: (x) => model.encode(x) };
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
