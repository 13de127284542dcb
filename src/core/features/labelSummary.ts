// Summary of a labelling run: coverage of live features and the distribution of held-out scores.
import { median, quantile } from './scores';
import type { AutoLabel } from './types';

export interface LabelSummary {
  readonly liveFeatures: number;
  readonly labelled: number;
  /** Labels whose feature fired on the held-out text (so detection could be scored). */
  readonly scored: number;
  readonly auroc: Distribution | undefined;
  readonly ruleAuroc: Distribution | undefined;
  readonly balancedAccuracy: Distribution | undefined;
  readonly correlation: Distribution | undefined;
  /** Counts of the label rule's held-out AUROC in bins [0,0.5), [0.5,0.6), …, [0.9,1.0]. */
  readonly aurocBins: { readonly from: number; readonly count: number }[];
  readonly byKind: Record<string, number>;
}

export interface Distribution {
  readonly median: number;
  readonly p10: number;
  readonly p25: number;
  readonly p75: number;
  readonly p90: number;
  readonly mean: number;
}

function distribution(values: number[]): Distribution | undefined {
  if (values.length === 0) return undefined;
  return {
    median: median(values)!,
    p10: quantile(values, 0.1)!,
    p25: quantile(values, 0.25)!,
    p75: quantile(values, 0.75)!,
    p90: quantile(values, 0.9)!,
    mean: values.reduce((s, v) => s + v, 0) / values.length,
  };
}

export function summarizeLabels(labels: readonly AutoLabel[], liveFeatures: number, kindNames: readonly string[]): LabelSummary {
  // The headline score is the label's own rule; the full explanation is reported beside it.
  const aucs = labels.flatMap((l) => (l.scores.ruleAuroc !== undefined ? [l.scores.ruleAuroc] : []));
  const edges = [0, 0.5, 0.6, 0.7, 0.8, 0.9];
  const byKind: Record<string, number> = {};
  for (const l of labels) {
    const name = l.parts.map((p) => kindNames[p.kind]).join('+');
    byKind[name] = (byKind[name] ?? 0) + 1;
  }
  return {
    liveFeatures,
    labelled: labels.length,
    scored: aucs.length,
    auroc: distribution(labels.flatMap((l) => (l.scores.auroc !== undefined ? [l.scores.auroc] : []))),
    ruleAuroc: distribution(aucs),
    balancedAccuracy: distribution(labels.flatMap((l) => (l.scores.balancedAccuracy !== undefined ? [l.scores.balancedAccuracy] : []))),
    correlation: distribution(labels.flatMap((l) => (l.scores.correlation !== undefined ? [l.scores.correlation] : []))),
    aurocBins: edges.map((from, i) => ({ from, count: aucs.filter((a) => a >= from && (i + 1 === edges.length || a < edges[i + 1])).length })),
    byKind,
  };
}

export function formatSummary(s: LabelSummary): string {
  const d = (x: Distribution | undefined) => (x ? `median ${x.median.toFixed(3)} (p10 ${x.p10.toFixed(3)}, p25 ${x.p25.toFixed(3)}, p75 ${x.p75.toFixed(3)}, p90 ${x.p90.toFixed(3)}; mean ${x.mean.toFixed(3)})` : 'n/a');
  return [
    `labelled ${s.labelled} of ${s.liveFeatures} live features (${s.liveFeatures ? ((100 * s.labelled) / s.liveFeatures).toFixed(1) : '0'} %); ${s.scored} fire on the held-out text and were scored`,
    `held-out detection AUROC of the label's rule: ${d(s.ruleAuroc)}`,
    `held-out detection AUROC of the full explanation (every indexed key, for reference): ${d(s.auroc)}`,
    `held-out balanced accuracy of the label's rule: ${d(s.balancedAccuracy)}`,
    `held-out simulation correlation: ${d(s.correlation)}`,
    `label rule AUROC bins: ${s.aurocBins.map((b) => `≥${b.from.toFixed(1)}: ${b.count}`).join(', ')}`,
    `rule parts: ${ruleParts(s.byKind)}`,
  ].join('\n');
}

function ruleParts(byKind: Record<string, number>): string {
  const sorted = Object.entries(byKind).sort((a, b) => b[1] - a[1]);
  const rest = sorted.slice(10).reduce((n, [, c]) => n + c, 0);
  return [...sorted.slice(0, 10).map(([k, n]) => `${k} ${n}`), ...(rest ? [`${sorted.length - 10} other combinations ${rest}`] : [])].join(', ');
}
