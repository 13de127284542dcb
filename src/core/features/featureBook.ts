// What the worker knows about the features of the loaded SAE once its index is open: automatic labels
// (user labels win), firing densities, dashboards, search by label/token/text, and the features of a selection.
import type { AnalysisResult, FeatureDashboard, FeatureSearchHit, LabelSource } from '../../protocol/analysis';
import { dashboardFromIndex, type DashboardNames } from './indexDashboard';
import type { FeatureIndexDb } from './indexDb';
import { KEY_KINDS, wordForm } from './tokenKeys';
import type { AutoLabel } from './types';

export type SearchMode = 'text' | 'token';

export class FeatureBook {
  readonly autoLabels: Map<number, AutoLabel>;
  private readonly fires: Uint32Array;
  private byToken?: Map<string, { feature: number; fires: number; precision: number }[]>;

  constructor(
    readonly db: FeatureIndexDb,
    readonly path: string,
  ) {
    this.autoLabels = db.autoLabels();
    this.fires = db.fireCounts();
  }

  get dSae(): number {
    return this.db.meta.dSae;
  }

  density(feature: number): number {
    return this.db.meta.explainTokens > 0 ? (this.fires[feature] ?? 0) / this.db.meta.explainTokens : 0;
  }

  labelOf(feature: number, user: ReadonlyMap<number, string>): { label: string; source: LabelSource } | undefined {
    const u = user.get(feature);
    if (u) return { label: u, source: 'user' };
    const a = this.autoLabels.get(feature);
    return a ? { label: a.label, source: 'auto' } : undefined;
  }

  dashboard(feature: number, names: DashboardNames, user: ReadonlyMap<number, string>, examples: number): FeatureDashboard {
    return dashboardFromIndex(this.db, feature, names, user, this.autoLabels, examples);
  }

  /** Labels (automatic where the user gave none) and densities on every feature hit of an analysis. */
  annotate(result: AnalysisResult, user: ReadonlyMap<number, string>): AnalysisResult {
    return {
      ...result,
      tokens: result.tokens.map((t) => ({
        ...t,
        features: t.features.map((f) => {
          const l = this.labelOf(f.id, user);
          return { ...f, ...(l ? { label: l.label, labelSource: l.source } : {}), density: this.density(f.id) };
        }),
      })),
    };
  }

  private hit(feature: number, user: ReadonlyMap<number, string>, score: number, detail: string): FeatureSearchHit {
    const l = this.labelOf(feature, user);
    const auroc = this.autoLabels.get(feature)?.scores.ruleAuroc;
    return { feature, ...(l ? { label: l.label, labelSource: l.source } : {}), density: this.density(feature), score, detail, ...(auroc !== undefined ? { auroc } : {}) };
  }

  /**
   * 'text': user labels (substring), then the full-text index over automatic labels, top tokens and contexts;
   * "#123" or "123" finds that feature. 'token': features that fire most on tokens of that word form.
   */
  search(query: string, mode: SearchMode, user: ReadonlyMap<number, string>, limit = 50): FeatureSearchHit[] {
    const q = query.trim();
    if (!q) return [];
    if (mode === 'token') return this.searchToken(q, user, limit);
    const out = new Map<number, FeatureSearchHit>();
    const id = /^#?(\d+)$/.exec(q);
    if (id && Number(id[1]) < this.dSae) out.set(Number(id[1]), this.hit(Number(id[1]), user, Infinity, 'feature number'));
    const lower = q.toLowerCase();
    for (const [f, l] of user) if (l.toLowerCase().includes(lower) && !out.has(f)) out.set(f, this.hit(f, user, 1e6, 'your label'));
    for (const r of this.db.search(q, limit)) if (!out.has(r.feature)) out.set(r.feature, this.hit(r.feature, user, r.score, 'label, top tokens or contexts'));
    return [...out.values()].slice(0, limit);
  }

  private searchToken(q: string, user: ReadonlyMap<number, string>, limit: number): FeatureSearchHit[] {
    if (!this.byToken) {
      const texts = this.db.tokenTexts();
      const tokenKind = KEY_KINDS.indexOf('token');
      this.byToken = new Map();
      for (let f = 0; f < this.dSae; f++) {
        if (!this.fires[f]) continue;
        for (const s of this.db.feature(f)?.keyStats ?? []) {
          if (s.kind !== tokenKind) continue;
          const form = wordForm(texts.get(s.key) ?? '');
          let list = this.byToken.get(form);
          if (!list) this.byToken.set(form, (list = []));
          list.push({ feature: f, fires: s.fires, precision: s.total > 0 ? s.fires / s.total : 0 });
        }
      }
    }
    const list = this.byToken.get(wordForm(q)) ?? [];
    return list
      .map((e) => ({ e, score: e.precision * Math.log(1 + e.fires) }))
      .sort((a, b) => b.score - a.score || a.e.feature - b.e.feature)
      .slice(0, limit)
      .map(({ e, score }) => this.hit(e.feature, user, score, `fires on ${Math.round(e.precision * 100)}% of "${q}" (${e.fires}×)`));
  }

  /**
   * Features firing on an analysed selection, ranked by surprise: total activation weighted by rarity
   * (−log density), so distinctive features come before ones that fire everywhere.
   */
  featuresOn(result: AnalysisResult, user: ReadonlyMap<number, string>, limit = 50): FeatureSearchHit[] {
    const { rowStart, featureIds, values } = result.active;
    const total = new Map<number, { sum: number; tokens: number }>();
    for (let t = 0; t + 1 < rowStart.length; t++) {
      for (let e = rowStart[t]; e < rowStart[t + 1]; e++) {
        const c = total.get(featureIds[e]) ?? { sum: 0, tokens: 0 };
        c.sum += values[e];
        c.tokens++;
        total.set(featureIds[e], c);
      }
    }
    const n = Math.max(1, result.tokens.length);
    return [...total]
      .map(([f, c]) => ({ f, c, score: c.sum * surprise(this.density(f), this.db.meta.explainTokens) }))
      .sort((a, b) => b.score - a.score || a.f - b.f)
      .slice(0, limit)
      .map(({ f, c, score }) => this.hit(f, user, score, `fires on ${c.tokens} of ${n} tokens, total ${c.sum.toFixed(2)}`));
  }

  close(): void {
    this.db.close();
  }
}

/** −log of a density, with features never seen in the index treated as rarer than any seen once. */
export function surprise(density: number, indexedTokens: number): number {
  return -Math.log(Math.max(density, 0.5 / Math.max(1, indexedTokens)));
}
