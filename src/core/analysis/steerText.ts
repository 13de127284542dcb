// Steering a feature in a text: next-token distribution after the last token, clean vs. with the
// feature clamped at every position of the site.
import type { SteeringResult } from '../../protocol/analysis';
import type { Matrix } from '../tensor';
import { throwIfAborted } from '../util/abort';
import { klDivergence, softmax, topIndices } from './nextToken';
import { resolveSite, type AnalysisModel, type AnalysisSae } from './ports';
import { clampFeature } from './steer';

export async function steerText(
  model: AnalysisModel,
  sae: AnalysisSae,
  site: string,
  text: string,
  feature: number,
  value: number,
  options: { topK: number; maxTokens: number; signal?: AbortSignal },
): Promise<SteeringResult> {
  if (feature >= sae.weights.config.dSae) throw new Error(`feature ${feature} is outside 0..${sae.weights.config.dSae - 1}`);
  resolveSite(model, sae, site);
  const all = model.tokenize(text).ids;
  if (all.length === 0) throw new Error('steering needs at least one token');
  const ids = all.subarray(Math.max(0, all.length - Math.min(options.maxTokens, model.contextLength)));
  const clean = softmax(await model.lastLogits(ids, options.signal));
  throwIfAborted(options.signal);
  // The edit is worked out ahead (the encoder is asynchronous, a splice edit is not) on the activations
  // the splice will see: same tokens, same graph up to the site. `value` is in the token view's units.
  const x = await model.activations(ids, site, options.signal);
  const clamped = clampFeature(x, await sae.encode(x), sae.inference, feature, value);
  const edit = (acts: Matrix): Matrix => {
    if (acts.rows !== x.rows || acts.cols !== x.cols) throw new Error(`steering: the splice saw ${acts.rows}×${acts.cols} activations, expected ${x.rows}×${x.cols}`);
    const out = Float32Array.from(acts.data);
    for (let i = 0; i < out.length; i++) out[i] += clamped.data[i] - x.data[i];
    return { data: out, rows: acts.rows, cols: acts.cols };
  };
  const steered = softmax(await model.lastLogits(ids, options.signal, { site, edit }));
  const top = (p: Float64Array) => topIndices(p, options.topK).map((id) => ({ token: model.tokenText(id), probability: p[id] }));
  return { feature, value, text, before: top(clean), after: top(steered), kl: klDivergence(clean, steered) };
}
