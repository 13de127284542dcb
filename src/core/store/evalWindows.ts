// Evaluation windows of a corpus for a loaded model. The eval and compare commands and the worker's
// Compare Checkpoints measure on windows made this one way, so their numbers stay comparable.
import type { LanguageModel } from '../runtime/types';
import { listCorpus } from './corpus';
import { collectWindows } from './harvest';
import type { TokenWindows } from './windows';

export interface EvalWindowOptions {
  /** Tokens wanted; rounded up to whole windows of the model's context length. */
  readonly tokens: number;
  readonly seed: number;
  readonly maxFileBytes?: number;
  readonly signal?: AbortSignal;
}

export async function corpusEvalWindows(lm: LanguageModel, modelPath: string, corpusDir: string, options: EvalWindowOptions): Promise<TokenWindows> {
  const tokenizer = lm.tokenizer;
  if (!tokenizer) throw new Error(`${modelPath} has no tokenizer.json`);
  const T = lm.info.contextLength;
  const windows = await collectWindows({
    corpus: listCorpus(corpusDir, options.maxFileBytes !== undefined ? { maxFileBytes: options.maxFileBytes } : {}),
    tokenize: (text) => tokenizer.encode(text).ids,
    contextLength: T,
    separatorId: tokenizer.eosId ?? lm.info.eosId,
    maxTokens: Math.ceil(options.tokens / (T - 1)) * T,
    seed: options.seed,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  if (windows.count === 0) throw new Error(`${corpusDir} holds fewer than ${T} tokens`);
  return windows;
}
