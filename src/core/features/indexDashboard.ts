// A feature's dashboard read from its index: no model run, so it opens at once.
import type { AutoLabelInfo, FeatureDashboard, FeatureExample } from '../../protocol/analysis';
import type { FeatureIndexDb } from './indexDb';
import { KEY_KINDS } from './tokenKeys';
import type { AutoLabel, IndexedContext } from './types';

export interface DashboardNames {
  readonly model: string;
  readonly site: string;
  readonly sae: string;
}

export function autoLabelInfo(l: AutoLabel): AutoLabelInfo {
  const s = l.scores;
  return {
    label: l.label,
    rule: l.rule,
    ...(s.auroc !== undefined ? { auroc: s.auroc } : {}),
    ...(s.ruleAuroc !== undefined ? { ruleAuroc: s.ruleAuroc } : {}),
    ...(s.balancedAccuracy !== undefined ? { balancedAccuracy: s.balancedAccuracy } : {}),
    ...(s.correlation !== undefined ? { correlation: s.correlation } : {}),
    heldoutFires: s.heldoutFires,
    heldoutTokens: s.heldoutTokens,
  };
}

/** Reads everything a dashboard shows for one feature. `userLabels` win over automatic ones. */
export function dashboardFromIndex(
  db: FeatureIndexDb,
  feature: number,
  names: DashboardNames,
  userLabels: ReadonlyMap<number, string>,
  autoLabels: ReadonlyMap<number, AutoLabel>,
  maxExamples = 10,
): FeatureDashboard {
  const { meta } = db;
  if (!Number.isInteger(feature) || feature < 0 || feature >= meta.dSae) throw new Error(`feature ${feature} is outside 0..${meta.dSae - 1}`);
  const record = db.feature(feature);
  if (!record) throw new Error(`the feature index has no record of feature ${feature}`);
  const texts = db.tokenTexts();
  const token = (id: number) => texts.get(id) ?? `<${id}>`;
  const windows = new Map<number, { ids: Int32Array; source: string }>();
  const example = (c: IndexedContext): FeatureExample => {
    let w = windows.get(c.window);
    if (!w) windows.set(c.window, (w = { ids: db.windowTokens(c.window), source: db.windowSource(c.window) }));
    return {
      source: w.source,
      tokens: Array.from(w.ids.subarray(c.start, c.start + c.activations.length), token),
      activations: Array.from(c.activations),
      peak: c.peak,
      maxActivation: c.maxActivation,
    };
  };
  const bins = record.histogram.length;
  const bandCount = 10;
  const user = userLabels.get(feature);
  const auto = autoLabels.get(feature);
  const label = user ?? auto?.label;
  const tokenKind = KEY_KINDS.indexOf('token');
  const logits = record.logits;
  const labelOf = (f: number) => userLabels.get(f) ?? autoLabels.get(f)?.label;
  return {
    feature,
    ...(label ? { label, labelSource: user ? 'user' : 'auto' } : {}),
    ...(auto ? { autoLabel: autoLabelInfo(auto) } : {}),
    model: names.model,
    site: names.site,
    sae: names.sae,
    decoderNorm: record.decoderNorm,
    ...(record.threshold !== undefined ? { threshold: record.threshold } : {}),
    examples: record.contexts.filter((c) => c.band < 0).slice(0, maxExamples).map(example),
    histogram: { edges: Array.from({ length: bins + 1 }, (_, i) => (record.maxActivation * i) / bins), counts: record.histogram },
    density: meta.explainTokens > 0 ? record.fires / meta.explainTokens : 0,
    corpusTokens: meta.explainTokens,
    corpusName: meta.corpusName,
    promoted: (logits?.promoted ?? []).map((e) => ({ token: token(e.token), value: e.value })),
    suppressed: (logits?.suppressed ?? []).map((e) => ({ token: token(e.token), value: e.value })),
    logitNote: logits ? (meta.logitNote ?? 'Direct path only: the decoder direction read out by the unembedding.') : 'Logit effects are unavailable: the model file exposes no unembedding matrix we could read.',
    maxActivation: record.maxActivation,
    meanActivation: record.meanActivation,
    bandSamples: record.contexts
      .filter((c) => c.band >= 0)
      .map((c) => ({ ...example(c), band: c.band, bandFrom: (record.maxActivation * c.band) / bandCount, bandTo: (record.maxActivation * (c.band + 1)) / bandCount })),
    coactivations: record.coactivations.map((c) => {
      const l = labelOf(c.other);
      return { feature: c.other, share: record.fires > 0 ? c.count / record.fires : 0, ...(l ? { label: l } : {}) };
    }),
    ...(logits
      ? {
          logitHistogram: {
            edges: Array.from({ length: logits.histogram.counts.length + 1 }, (_, i) => logits.histogram.lo + ((logits.histogram.hi - logits.histogram.lo) * i) / logits.histogram.counts.length),
            counts: logits.histogram.counts,
          },
        }
      : {}),
    topTokens: record.keyStats
      .filter((s) => s.kind === tokenKind)
      .map((s) => ({ token: token(s.key), fires: s.fires, precision: s.total > 0 ? s.fires / s.total : 0 })),
    indexBuiltAt: meta.createdAt,
  };
}
