// Steering a feature in a text: next-token distribution after the last token, clean vs. with the
// feature clamped at every position of the site (an intervention, the SAE's error kept).
import type { SteeringResult } from '../../protocol/analysis';
import { throwIfAborted } from '../util/abort';
import { cutForInterventions, intervene, validateInterventions, valueLimit, type Intervention } from './interventions';
import { klDivergence, softmax, topIndices } from './nextToken';
import { resolveSite, type AnalysisModel, type AnalysisSae } from './ports';

export async function steerText(
  model: AnalysisModel,
  sae: AnalysisSae,
  site: string,
  text: string,
  feature: number,
  value: number,
  options: { topK: number; maxTokens: number; signal?: AbortSignal },
): Promise<SteeringResult> {
  resolveSite(model, sae, site);
  const all = model.tokenize(text).ids;
  if (all.length === 0) throw new Error('steering needs at least one token');
  const ids = all.subarray(Math.max(0, all.length - Math.min(options.maxTokens, model.contextLength)));
  // A transcoder's features are read at `site` and the edit goes to its output site.
  const { cut, encoded } = await cutForInterventions(model, sae, site, ids, options.signal);
  throwIfAborted(options.signal);
  // `value` is in the token view's units (the site's, input scale folded in).
  const clamp: Intervention = { feature, op: { kind: 'clamp', value }, positions: { kind: 'all' } };
  validateInterventions([clamp], sae.weights.config.dSae, ids.length, valueLimit(cut.acts));
  const edited = intervene(cut.acts, encoded, sae.inference, [clamp]);
  const [cleanLogits, steeredLogits] = await cut.lastLogits([cut.acts, edited], options.signal);
  const clean = softmax(cleanLogits);
  const steered = softmax(steeredLogits);
  const top = (p: Float64Array) => topIndices(p, options.topK).map((id) => ({ token: model.tokenText(id), probability: p[id] }));
  return { feature, value, text, before: top(clean), after: top(steered), kl: klDivergence(clean, steered) };
}
