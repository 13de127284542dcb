// Steering a feature in a text: next-token distribution after the last token, clean vs. with the
// feature clamped at every position of the site.
import { encodeText } from './analyzeText';
import { klDivergence, softmax, topIndices } from './nextToken';
import type { AnalysisModel, AnalysisSae } from './ports';
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
  const enc = await encodeText(model, sae, site, text, options.maxTokens, options.signal);
  if (enc.ids.length === 0) throw new Error('steering needs at least one token');
  const clean = softmax(await model.lastLogits(enc.ids, options.signal));
  // `value` is in the SAE's own (normalised) feature units, like the activations the token view shows.
  const edit = (acts: typeof enc.x) => clampFeature(acts, enc.features, sae.weights, feature, value);
  const steered = softmax(await model.lastLogits(enc.ids, options.signal, { site, edit }));
  const top = (p: Float64Array) => topIndices(p, options.topK).map((id) => ({ token: model.tokenText(id), probability: p[id] }));
  return { feature, value, text, before: top(clean), after: top(steered), kl: klDivergence(clean, steered) };
}
