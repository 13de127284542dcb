// A feature's dashboard: where it fires most in a corpus, how often and how strongly, what it writes
// towards the output, and its decoder norm and threshold.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { FeatureDashboard } from '../../protocol/analysis';
import { throwIfAborted, yieldToEventLoop } from '../util/abort';
import { featureValue, tensorOf, type SparseFeatures } from './decompose';
import { activationHistogram, firingDensity, TopExamples } from './featureStats';
import { logitEffectNote, logitEffects } from './logitEffects';
import type { AnalysisModel, AnalysisSae } from './ports';

export interface CorpusDocument {
  readonly source: string;
  readonly text: string;
}

/** Documents of a text corpus: every .txt/.md file of a folder (or one file), split at blank lines. */
export function readCorpus(path: string, maxChars = 400_000): CorpusDocument[] {
  const files = statSync(path).isDirectory()
    ? readdirSync(path)
        .filter((n) => /\.(txt|md)$/i.test(n))
        .sort()
        .map((n) => join(path, n))
    : [path];
  const docs: CorpusDocument[] = [];
  let chars = 0;
  // Round-robin over files so a small budget still samples every file.
  const perFile = files.map((f) =>
    readFileSync(f, 'utf8')
      .split(/\n\s*\n|<\|endoftext\|>/)
      .map((t) => t.trim())
      .filter((t) => t.length > 20)
      .map((text) => ({ source: basename(f), text })),
  );
  for (let i = 0; chars < maxChars && perFile.some((p) => i < p.length); i++) {
    for (const p of perFile) {
      if (i < p.length && chars < maxChars) {
        docs.push(p[i]);
        chars += p[i].text.length;
      }
    }
  }
  return docs;
}

interface Window {
  readonly source: string;
  readonly tokens: string[];
  readonly features: SparseFeatures;
}

/** Features of every token of a corpus, computed once per (model, SAE, site, corpus). */
export class CorpusIndex {
  private constructor(
    readonly name: string,
    readonly windows: readonly Window[],
    readonly tokens: number,
  ) {}

  static async build(
    model: AnalysisModel,
    sae: AnalysisSae,
    site: string,
    name: string,
    docs: readonly CorpusDocument[],
    options: { maxTokens: number; windowTokens: number; signal?: AbortSignal },
  ): Promise<CorpusIndex> {
    const windows: Window[] = [];
    let total = 0;
    for (const doc of docs) {
      if (total >= options.maxTokens) break;
      throwIfAborted(options.signal);
      const tok = model.tokenize(doc.text);
      const n = Math.min(tok.ids.length, options.windowTokens, options.maxTokens - total);
      if (n < 2) continue;
      const ids = tok.ids.subarray(0, n);
      const x = await model.activations(ids, site, options.signal);
      windows.push({ source: doc.source, tokens: Array.from(ids, (id) => model.tokenText(id)), features: (await sae.encode(x)).features });
      total += n;
      await yieldToEventLoop();
    }
    return new CorpusIndex(name, windows, total);
  }

  activationsOf(feature: number): { perWindow: Float32Array[]; all: Float32Array } {
    const all = new Float32Array(this.tokens);
    let k = 0;
    const perWindow = this.windows.map((w) => {
      const a = new Float32Array(w.features.rows);
      for (let t = 0; t < w.features.rows; t++) a[t] = featureValue(w.features, t, feature);
      all.set(a, k);
      k += a.length;
      return a;
    });
    return { perWindow, all };
  }
}

export function featureDashboard(
  model: AnalysisModel,
  sae: AnalysisSae,
  site: string,
  index: CorpusIndex,
  feature: number,
  options: { examples: number; context: number; logitTokens: number },
): FeatureDashboard {
  const { dIn, dSae } = sae.weights.config;
  if (!Number.isInteger(feature) || feature < 0 || feature >= dSae) throw new Error(`feature ${feature} is outside 0..${dSae - 1}`);
  const { perWindow, all } = index.activationsOf(feature);
  const top = new TopExamples(options.examples);
  index.windows.forEach((w, i) => top.offer(w.source, w.tokens, perWindow[i], options.context));

  const wDec = tensorOf(sae.weights, 'W_dec');
  const dOut = sae.weights.config.dOut ?? dIn; // a transcoder's decoder rows are d_out wide
  let norm = 0;
  for (let d = 0; d < dOut; d++) norm += wDec[feature * dOut + d] ** 2;
  const threshold = sae.weights.tensors.get('threshold')?.data[feature];

  const unembed = model.unembedding();
  const effects = unembed ? logitEffects(sae.weights, feature, unembed, options.logitTokens) : undefined;
  const named = (list: readonly { id: number; value: number }[] | undefined) => (list ?? []).map((e) => ({ token: model.tokenText(e.id), value: e.value }));
  const label = sae.labels.get(feature);
  return {
    feature,
    ...(label ? { label } : {}),
    model: model.name,
    site,
    sae: sae.name,
    decoderNorm: Math.sqrt(norm),
    ...(threshold !== undefined ? { threshold } : {}),
    examples: top.examples(),
    histogram: activationHistogram(all, 30),
    density: firingDensity(all),
    corpusTokens: index.tokens,
    corpusName: index.name,
    promoted: named(effects?.promoted),
    suppressed: named(effects?.suppressed),
    logitNote: unembed ? logitEffectNote(unembed) : 'Logit effects are unavailable: the model file exposes no unembedding matrix we could read.',
  };
}
