// Orders a token's features so its distinctive ones come first: by activation, by share of the
// reconstruction, or by surprise (activation weighted by rarity, −log of the indexed firing density), with
// dense features optionally left out. The CLI uses it; the token view has the same choices.
import type { FeatureHit, TokenAnalysis } from '../../protocol/analysis';
import { DENSE } from './explain';

export const RANKINGS = ['activation', 'share', 'surprise'] as const;
export type Ranking = (typeof RANKINGS)[number];

export function surpriseOfHit(hit: Pick<FeatureHit, 'activation' | 'density'>): number {
  return hit.activation * (hit.density !== undefined ? -Math.log(Math.max(hit.density, 1e-6)) : 1);
}

export function rankHits(features: readonly FeatureHit[], by: Ranking, hideDense: boolean, top: number): FeatureHit[] {
  const key = by === 'share' ? (h: FeatureHit) => h.share : by === 'surprise' ? surpriseOfHit : (h: FeatureHit) => h.activation;
  return features
    .filter((h) => !hideDense || h.density === undefined || h.density < DENSE)
    .sort((a, b) => key(b) - key(a) || a.id - b.id)
    .slice(0, top);
}

export function rankTokens(tokens: readonly TokenAnalysis[], by: Ranking, hideDense: boolean, top: number): TokenAnalysis[] {
  return tokens.map((t) => ({ ...t, features: rankHits(t.features, by, hideDense, top) }));
}
