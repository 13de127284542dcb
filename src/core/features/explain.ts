// The explainer: from a feature's indexed key counts alone, the rule that best picks out where it fires.
// For each kind of key (token, word form, previous/next token, bigram, character class, position, repetition)
// keys are added greedily in order of precision while F1 on the indexed split improves; the kind with the
// best F1 wins, simpler kinds on ties. The rule becomes a short label plus its statement in words.
import { CHAR_CLASSES, KEY_KINDS, POSITION_BUCKETS, REPEAT_KEYS } from './tokenKeys';
import type { FeatureRecord, KeyStat, LabelScores } from './types';

export interface Rule {
  readonly kind: number;
  readonly keys: number[];
  /** Expected activation at each key on the indexed split (activation sum / occurrences of the key). */
  readonly expected: number[];
  readonly f1: number;
  readonly precision: number;
  readonly recall: number;
}

export interface Vocabulary {
  token(id: number): string;
  word(id: number): string;
  /** Bigram keys are prev·vocabSize + cur. */
  readonly vocabSize: number;
}

const MAX_KEYS = 8;
/** Firing on at least this fraction of tokens makes a feature "dense" (its label says so). */
export const DENSE = 0.1;
/** A later (less simple) kind must beat the best F1 so far by this much to be chosen. */
const SIMPLER_MARGIN = 0.01;

export function bestRule(feature: Pick<FeatureRecord, 'fires' | 'keyStats'>): Rule | undefined {
  return rankedRules(feature)[0];
}

/** The best rule of each kind, best first (a later kind must beat an earlier one by SIMPLER_MARGIN). */
export function rankedRules(feature: Pick<FeatureRecord, 'fires' | 'keyStats'>): Rule[] {
  if (feature.fires === 0) return [];
  const rules: Rule[] = [];
  for (let kind = 0; kind < KEY_KINDS.length; kind++) {
    const rule = greedy(kind, feature.keyStats.filter((s) => s.kind === kind), feature.fires);
    if (rule) rules.push(rule);
  }
  const score = (r: Rule) => r.f1 - r.kind * (SIMPLER_MARGIN / KEY_KINDS.length);
  return rules.sort((a, b) => score(b) - score(a));
}

/**
 * The simulator of a feature's full explanation: for each kind, every indexed key it fired at more than once
 * (or once, for rare features) with its mean activation per occurrence. A token's simulated activation is the
 * largest value among its matching keys. The label states the best single rule; this is the explanation
 * behind it that detection and simulation scores test.
 */
export function simulator(feature: Pick<FeatureRecord, 'fires' | 'keyStats'>): Map<number, number>[] {
  const minFires = feature.fires >= 20 ? 2 : 1;
  const maps = KEY_KINDS.map(() => new Map<number, number>());
  for (const s of feature.keyStats) if (s.fires >= minFires && s.total > 0) maps[s.kind].set(s.key, s.activationSum / s.total);
  return maps;
}

function greedy(kind: number, stats: readonly KeyStat[], fires: number): Rule | undefined {
  // Keys seen firing once are noise unless the feature barely fires at all.
  const minFires = fires >= 20 ? 2 : 1;
  const ranked = stats.filter((s) => s.fires >= minFires && s.total > 0).sort((a, b) => b.fires / b.total - a.fires / a.total || b.fires - a.fires);
  let tp = 0;
  let fp = 0;
  let best: { n: number; f1: number; tp: number; fp: number } | undefined;
  for (let n = 0; n < Math.min(MAX_KEYS, ranked.length); n++) {
    tp += ranked[n].fires;
    fp += ranked[n].total - ranked[n].fires;
    const f1 = (2 * tp) / (2 * tp + fp + (fires - tp));
    if (!best || f1 > best.f1) best = { n: n + 1, f1, tp, fp };
  }
  if (!best) return undefined;
  const chosen = ranked.slice(0, best.n);
  return {
    kind,
    keys: chosen.map((s) => s.key),
    expected: chosen.map((s) => s.activationSum / s.total),
    f1: best.f1,
    precision: best.tp / (best.tp + best.fp),
    recall: best.tp / fires,
  };
}

/** A token as users see it in a label: quoted, with line breaks and tabs made visible. */
export function showToken(text: string): string {
  return `"${text.replace(/\n/g, '↵').replace(/\t/g, '⇥')}"`;
}

function list(items: string[], max: number): string {
  return items.length <= max ? items.join(' ') : `${items.slice(0, max).join(' ')} +${items.length - max}`;
}

function bucketText(b: number): string {
  const lo = POSITION_BUCKETS[b];
  const hi = b + 1 < POSITION_BUCKETS.length ? POSITION_BUCKETS[b + 1] - 1 : undefined;
  return hi === undefined ? `${lo}+` : hi === lo ? `${lo}` : `${lo}–${hi}`;
}

export function keyText(kind: number, key: number, vocab: Vocabulary): string {
  switch (KEY_KINDS[kind]) {
    case 'token':
    case 'prev':
    case 'next':
      return showToken(vocab.token(key));
    case 'word':
      return showToken(vocab.word(key));
    case 'bigram':
      return showToken(vocab.token(Math.floor(key / vocab.vocabSize)) + vocab.token(key % vocab.vocabSize));
    case 'class':
      return CHAR_CLASSES[key] ?? `class ${key}`;
    case 'position':
      return bucketText(key);
    case 'repeat':
      return REPEAT_KEYS[key] ?? `repeat ${key}`;
    default:
      return String(key);
  }
}

/** The short label and the rule in words. */
export function phrase(rule: Pick<Rule, 'kind' | 'keys' | 'precision' | 'recall'>, vocab: Vocabulary): { label: string; rule: string } {
  const items = rule.keys.map((k) => keyText(rule.kind, k, vocab));
  const kind = KEY_KINDS[rule.kind];
  const label = (() => {
    switch (kind) {
      case 'token':
        return list(items, 3);
      case 'word':
        return `word ${list(items, 3)} (any case)`;
      case 'prev':
        return `after ${list(items, 3)}`;
      case 'next':
        return `before ${list(items, 3)}`;
      case 'bigram':
        return `in ${list(items, 3)}`;
      case 'class':
      case 'repeat':
        return items.length <= 2 ? items.join(' or ') : `${items.slice(0, 2).join(' or ')} +${items.length - 2}`;
      case 'position': {
        const sorted = [...rule.keys].sort((a, b) => a - b);
        const contiguous = sorted.every((k, i) => i === 0 || k === sorted[i - 1] + 1);
        const from = keyText(rule.kind, sorted[0], vocab).split('–')[0];
        const to = keyText(rule.kind, sorted[sorted.length - 1], vocab).split('–').pop()!;
        return contiguous ? `context position ${from === to ? from : `${from}–${to}`}` : `context positions ${sorted.map((k) => keyText(rule.kind, k, vocab)).join(', ')}`;
      }
      default:
        return items.join(' ');
    }
  })();
  const what = {
    token: 'the token is one of',
    word: 'the token, ignoring case and spaces, is one of',
    prev: 'the previous token is one of',
    next: 'the next token is one of',
    bigram: 'the previous and current token form one of',
    class: 'the token is',
    position: 'the token sits at context position',
    repeat: 'the token is a',
  }[kind];
  return { label, rule: `${what} ${rule.keys.map((k) => keyText(rule.kind, k, vocab)).join(', ')} ${coverage(rule)}` };
}

function coverage(rule: Pick<Rule, 'precision' | 'recall'>): string {
  return `(indexed text: ${Math.round(rule.recall * 100)}% of firings match, ${Math.round(rule.precision * 100)}% of matches fire)`;
}

/** Label and rule of a feature from its ranked rules: the best one, plus the runner-up of another kind when it explains much too. */
export function describe(rules: readonly Rule[], vocab: Vocabulary, density = 0): { label: string; rule: string } {
  const first = phrase(rules[0], vocab);
  // A dense feature is named as such first: its rule is rarely what makes it useful.
  if (density >= DENSE) first.label = `dense ${Math.round(density * 100)}% · ${first.label}`;
  // The runner-up must add another view: the word form restates the token set and vice versa.
  const family = (r: Rule) => (KEY_KINDS[r.kind] === 'word' ? KEY_KINDS.indexOf('token') : r.kind);
  const next = rules.slice(1).find((r) => family(r) !== family(rules[0]));
  const second = next && next.f1 >= 0.5 * rules[0].f1 && next.f1 >= 0.2 ? phrase(next, vocab) : undefined;
  return { label: first.label, rule: `fires when ${first.rule}${second ? `; also when ${second.rule}` : ''}` };
}

export type { LabelScores };
