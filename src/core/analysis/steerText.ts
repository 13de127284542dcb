// Steering a feature in a text: next-token distribution after the last token, clean vs. with the
// feature clamped at every position of the site.
import type { Matrix } from '../tensor';
import { throwIfAborted } from '../util/abort';
import { scaleRows } from './analyzeText';
import { klDivergence, softmax, topIndices } from './nextToken';
import { resolveSite, type AnalysisModel, type AnalysisSae } from './ports';
import { clampFeature } from './steer';

export interface Steering {
  readonly feature: number;
  readonly value: number;
  readonly text: string;
  readonly before: { token: string; probability: number }[];
  readonly after: { token: string; probability: number }[];
  readonly kl: number;
}

export async function steerText(
  model: AnalysisModel,
  sae: AnalysisSae,
  site: string,
  text: string,
  feature: number,
  value: number,
  options: { topK: number; maxTokens: number; signal?: AbortSignal },
): Promise<Steering> {
  if (feature >= sae.weights.config.dSae) throw new Error(`feature ${feature} is outside 0..${sae.weights.config.dSae - 1}`);
  resolveSite(model, sae, site);
  const all = model.tokenize(text).ids;
  if (all.length === 0) throw new Error('steering needs at least one token');
  const ids = all.subarray(Math.max(0, all.length - Math.min(options.maxTokens, model.contextLength)));
  const clean = softmax(await model.lastLogits(ids, options.signal));
  throwIfAborted(options.signal);
  // The splice hands over the site's own activations; `value` is in the units the token view shows.
  const scale = sae.weights.config.inputScale ?? 1;
  const edit = (acts: Matrix) => clampFeature(acts, sae.encode(scaleRows(acts, 1 / scale)), sae.weights, feature, value);
  const steered = softmax(await model.lastLogits(ids, options.signal, { site, edit }));
  const top = (p: Float64Array) => topIndices(p, options.topK).map((id) => ({ token: model.tokenText(id), probability: p[id] }));
  return { feature, value, text, before: top(clean), after: top(steered), kl: klDivergence(clean, steered) };
}
