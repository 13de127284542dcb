// The loaded runtime model seen through the analysis port.
import type { LanguageModel } from '../runtime/types';
import type { Matrix } from '../tensor';
import type { AnalysisModel } from './ports';
import type { Unembedding } from './logitEffects';

export function analysisModel(lm: LanguageModel, name: string, unembedding?: Unembedding): AnalysisModel {
  const tokenizer = lm.tokenizer;
  if (!tokenizer) throw new Error(`model ${name} has no tokenizer.json: text cannot be analysed`);
  const last = (m: Matrix): Float32Array => m.data.slice((m.rows - 1) * m.cols, m.rows * m.cols);
  // Next-token questions only need the last context window.
  const tail = (ids: Int32Array): Int32Array => ids.subarray(Math.max(0, ids.length - lm.info.contextLength));
  return {
    name,
    sites: lm.sites(),
    contextLength: lm.info.contextLength,
    tokenize: (text) => tokenizer.encode(text),
    tokenText: (id) => tokenizer.tokenText(id),
    decode: (ids) => tokenizer.decode(ids),
    async activations(ids, site) {
      const long = await lm.activationsLong(ids, [site], { maxTokens: ids.length });
      const acts = long.acts.get(site);
      if (!acts) throw new Error(`the runtime returned no activations for ${site}`);
      return acts;
    },
    async lastLogits(ids, _signal, splice) {
      const input = tail(ids);
      if (!splice) return last((await lm.logits([input]))[0]);
      const result = await lm.spliced([input], splice.site, (acts) => splice.edit(acts));
      return last(result.logits[0]);
    },
    async cutAtSite(ids, site, signal) {
      signal?.throwIfAborted();
      return lm.cutAtSite(ids, site);
    },
    unembedding: () => unembedding,
    async nextTokenStream(ids, signal) {
      signal?.throwIfAborted();
      return lm.nextTokenStream?.(ids);
    },
  };
}
