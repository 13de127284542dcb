// Where one feature fires in a text: the source ranges to decorate, with their activations.
import type { FeatureOccurrences } from '../../protocol/analysis';
import { encodeText } from './analyzeText';
import type { AnalysisModel, AnalysisSae } from './ports';
import { featureValue } from './decompose';

export async function featureOccurrences(
  model: AnalysisModel,
  sae: AnalysisSae,
  site: string,
  text: string,
  feature: number,
  maxTokens: number,
  signal?: AbortSignal,
): Promise<FeatureOccurrences> {
  if (feature >= sae.weights.config.dSae) throw new Error(`feature ${feature} is outside 0..${sae.weights.config.dSae - 1}`);
  const enc = await encodeText(model, sae, site, text, maxTokens, signal);
  const ranges: { start: number; end: number; activation: number }[] = [];
  let max = 0;
  const f = enc.encoded.features;
  for (let t = 0; t < f.rows; t++) {
    const a = featureValue(f, t, feature);
    if (a > 0) {
      ranges.push({ start: enc.offsets[2 * t], end: enc.offsets[2 * t + 1], activation: a });
      max = Math.max(max, a);
    }
  }
  return { feature, ranges, maxActivation: max };
}
