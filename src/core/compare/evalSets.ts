// The evaluation sets Compare Checkpoints measures on: the first rows of an activations .npy
// (reconstruction and sparsity), or token windows of a corpus run through the model (adds ΔLM loss, loss
// recovered and KL). Each names itself exactly, which is the metrics cache's key.
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { LanguageModel } from '../runtime/types';
import { evaluateOnActivations, evaluateOnModel } from '../store/evaluateSae';
import { openNpySource } from '../store/sources';
import type { TokenWindows } from '../store/windows';
import type { EvalSet } from './compareCheckpoints';

export function activationsEvalSet(npyPath: string, rows: number): EvalSet {
  const file = resolve(npyPath);
  const st = statSync(file);
  return {
    key: `acts:${file}:${st.size}:${Math.round(st.mtimeMs)}:rows=${rows}`,
    async evaluate(opened) {
      const source = openNpySource(file, { shuffle: false });
      try {
        return evaluateOnActivations(opened.sae, source, Math.min(rows, source.rows));
      } finally {
        source.close();
      }
    },
  };
}

export interface ModelEvalSetOptions {
  readonly lm: LanguageModel;
  readonly modelPath: string;
  readonly corpusDir: string;
  readonly windows: TokenWindows;
  readonly seed: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (done: number, of: number) => void;
}

export function modelEvalSet(o: ModelEvalSetOptions): EvalSet {
  return {
    key: `model:${resolve(o.modelPath)}|corpus:${resolve(o.corpusDir)}|windows=${o.windows.count}x${o.windows.length}|seed=${o.seed}`,
    evaluate: (opened, site) => evaluateOnModel(opened.sae, o.lm, site, o.windows, { signal: o.signal, onProgress: o.onProgress }),
  };
}
