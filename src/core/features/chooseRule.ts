// Chooses the rule behind a feature's label. Candidates come from the index's key counts: per kind of key
// (token, word form, previous/next token, bigram, character class, position, repetition) the keys ranked by
// how reliably the feature fires there. A rule is a union of up to MAX_PARTS such key sets, each key scored
// by its expected activation, so the rule ranks tokens the way detection AUROC tests it. Parts are added
// greedily by AUROC on a validation sample of the indexed text whose counts are first taken out of the
// key counts, so the choice is tested on text the candidates were not ranked on. Features that barely fire
// in the sample fall back to the single part with the best AUROC computed from the counts themselves.
import type { PositionSample } from './positionSample';
import { sparseAuroc } from './scores';
import type { FeatureRecord, KeyStat, RulePart } from './types';

export interface ChosenRule {
  readonly parts: RulePart[];
  /** AUROC of the rule on the validation sample (undefined when chosen from counts alone). */
  readonly validationAuroc?: number;
}

const MAX_PARTS = 3;
const PREFIXES = [1, 2, 3, 4, 6, 8, 12, 16];
/** Each extra part must add at least this much AUROC; each extra key a little. Simpler labels win near-ties. */
const PART_COST = 0.01;
const KEY_COST = 0.0015;
/** A key joins a rule only where the feature fires at least this many times more often than on average. */
const MIN_LIFT = 2;
/** Pseudo-occurrences pulling a key's expected activation towards the feature's average (few counts, little trust). */
const SMOOTHING = 3;
/** Validation firings needed before the sample decides. */
const MIN_VALIDATION_FIRES = 4;

interface Counts {
  fires: number;
  total: number;
  sum: number;
}

interface Candidate {
  readonly kind: number;
  readonly keys: number[];
  /** Expected activation per key from the counts the candidate was ranked on. */
  readonly scores: number[];
}

export function chooseRule(record: Pick<FeatureRecord, 'id' | 'fires' | 'meanActivation' | 'keyStats'>, indexedTokens: number, sample?: PositionSample): ChosenRule | undefined {
  if (record.fires === 0 || record.keyStats.length === 0) return undefined;
  const full = (s: KeyStat): Counts => ({ fires: s.fires, total: s.total, sum: s.activationSum });
  const on = sample?.perFeature.get(record.id);
  const firing = new Set(on?.pos ?? []);
  if (sample && firing.size >= MIN_VALIDATION_FIRES) {
    // Take the sample's own counts out, so candidates are ranked without it.
    const actAt = new Map(on!.pos.map((p, i) => [p, on!.act[i]]));
    const train = (s: KeyStat): Counts => {
      const at = sample.positionsOf(s.kind, s.key);
      let fires = 0;
      let sum = 0;
      for (const p of at) {
        const a = actAt.get(p);
        if (a !== undefined) {
          fires++;
          sum += a;
        }
      }
      const f = Math.max(0, s.fires - fires);
      return { fires: f, total: Math.max(f, s.total - at.length), sum: Math.max(0, s.activationSum - sum) };
    };
    const trainFires = Math.max(1, record.fires - firing.size);
    const trainTokens = Math.max(trainFires + 1, indexedTokens - sample.tokens);
    const cands = candidates(record, train, trainFires, trainTokens);
    const chosen = forwardSelect(cands, sample, firing);
    if (chosen) return { parts: chosen.parts.map((c) => finalPart(c, record, full, indexedTokens)), validationAuroc: chosen.auroc };
  }
  const cands = candidates(record, full, record.fires, indexedTokens);
  let best: { c: Candidate; value: number } | undefined;
  for (const c of cands) {
    const value = countAuroc(c, record, full, indexedTokens) - KEY_COST * c.keys.length;
    if (!best || value > best.value) best = { c, value };
  }
  return best ? { parts: [finalPart(best.c, record, full, indexedTokens)] } : undefined;
}

/** Per kind, every prefix (of the lengths in PREFIXES) of its keys ranked by expected activation. */
function candidates(record: Pick<FeatureRecord, 'fires' | 'meanActivation' | 'keyStats'>, counts: (s: KeyStat) => Counts, fires: number, tokens: number): Candidate[] {
  const density = fires / tokens;
  const minFires = fires >= 20 ? 2 : 1;
  const byKind = new Map<number, { key: number; score: number; precision: number }[]>();
  for (const s of record.keyStats) {
    const c = counts(s);
    if (c.fires < minFires || c.total <= 0) continue;
    const precision = (c.fires + SMOOTHING * density) / (c.total + SMOOTHING);
    if (precision < MIN_LIFT * density) continue;
    const score = (c.sum + SMOOTHING * density * record.meanActivation) / (c.total + SMOOTHING);
    let list = byKind.get(s.kind);
    if (!list) byKind.set(s.kind, (list = []));
    list.push({ key: s.key, score, precision });
  }
  // Fallback so every live feature gets a rule: its most frequent token.
  if (byKind.size === 0) {
    const top = record.keyStats.filter((s) => s.kind === 0).sort((a, b) => b.fires - a.fires)[0] ?? record.keyStats[0];
    const c = counts(top);
    byKind.set(top.kind, [{ key: top.key, score: c.total > 0 ? c.sum / c.total : 0, precision: c.total > 0 ? c.fires / c.total : 0 }]);
  }
  const out: Candidate[] = [];
  for (const [kind, list] of byKind) {
    list.sort((a, b) => b.score - a.score || a.key - b.key);
    for (const n of PREFIXES) {
      if (n > list.length) break;
      out.push({ kind, keys: list.slice(0, n).map((k) => k.key), scores: list.slice(0, n).map((k) => k.score) });
    }
    if (list.length > PREFIXES[PREFIXES.length - 1] || !PREFIXES.includes(list.length)) out.push({ kind, keys: list.map((k) => k.key), scores: list.map((k) => k.score) });
  }
  return out;
}

function forwardSelect(cands: readonly Candidate[], sample: PositionSample, firing: ReadonlySet<number>): { parts: Candidate[]; auroc: number } | undefined {
  let parts: Candidate[] = [];
  let matched = new Map<number, number>();
  let value = -Infinity;
  let auroc = 0;
  while (parts.length < MAX_PARTS) {
    let best: { c: Candidate; value: number; auroc: number; matched: Map<number, number> } | undefined;
    for (const c of cands) {
      if (parts.some((p) => p.kind === c.kind)) continue;
      const m = new Map(matched);
      c.keys.forEach((key, i) => {
        for (const p of sample.positionsOf(c.kind, key)) if ((m.get(p) ?? 0) < c.scores[i]) m.set(p, c.scores[i]);
      });
      const a = sparseAuroc(m, firing, sample.tokens);
      if (a === undefined) continue;
      const keys = parts.reduce((s, p) => s + p.keys.length, 0) + c.keys.length;
      const v = a - PART_COST * parts.length - KEY_COST * keys;
      if (!best || v > best.value) best = { c, value: v, auroc: a, matched: m };
    }
    if (!best || best.value <= value) break;
    parts = [...parts, best.c];
    matched = best.matched;
    value = best.value;
    auroc = best.auroc;
  }
  return parts.length ? { parts, auroc } : undefined;
}

/** The part as stored: the same keys, scored from all of the index's counts, in display order. */
function finalPart(c: Candidate, record: Pick<FeatureRecord, 'fires' | 'meanActivation' | 'keyStats'>, counts: (s: KeyStat) => Counts, tokens: number): RulePart {
  const density = record.fires / tokens;
  const stat = new Map(record.keyStats.filter((s) => s.kind === c.kind).map((s) => [s.key, counts(s)]));
  const scored = c.keys.map((key) => {
    const s = stat.get(key)!;
    return { key, weight: (s.fires * s.fires) / Math.max(1, s.total), expected: (s.sum + SMOOTHING * density * record.meanActivation) / (s.total + SMOOTHING) };
  });
  // Listed (and shown in the label) by firings explained × how reliably it fires there, so a label names its
  // common, telling cases rather than rare keys or frequent tokens it seldom fires on.
  scored.sort((a, b) => b.weight - a.weight || b.expected - a.expected);
  return { kind: c.kind, keys: scored.map((k) => k.key), expected: scored.map((k) => k.expected) };
}

/** AUROC of a one-kind rule on the indexed text, exactly, from the key counts (keys of one kind do not overlap). */
function countAuroc(c: Candidate, record: Pick<FeatureRecord, 'fires' | 'keyStats'>, counts: (s: KeyStat) => Counts, tokens: number): number {
  const stat = new Map(record.keyStats.filter((s) => s.kind === c.kind).map((s) => [s.key, counts(s)]));
  const groups: { score: number; pos: number; neg: number }[] = [];
  let pos = 0;
  let neg = 0;
  c.keys.forEach((k, i) => {
    const s = stat.get(k)!;
    groups.push({ score: c.scores[i], pos: s.fires, neg: s.total - s.fires });
    pos += s.fires;
    neg += s.total - s.fires;
  });
  const P = record.fires;
  const N = tokens - P;
  groups.push({ score: 0, pos: Math.max(0, P - pos), neg: Math.max(0, N - neg) });
  groups.sort((a, b) => a.score - b.score);
  let below = 0;
  let wins = 0;
  for (const g of groups) {
    wins += g.pos * (below + g.neg / 2);
    below += g.neg;
  }
  return P > 0 && N > 0 ? wins / (P * N) : 0.5;
}
