// Phrasing of a label's rule (see chooseRule.ts) as a short human label plus the rule in words, and the
// simulator of a feature's full explanation used as a reference score.
import { CHAR_CLASSES, KEY_KINDS, POSITION_BUCKETS, REPEAT_KEYS } from './tokenKeys';
import type { FeatureRecord, LabelScores, RulePart } from './types';

export interface Vocabulary {
  token(id: number): string;
  word(id: number): string;
  /** Bigram keys are prev·vocabSize + cur. */
  readonly vocabSize: number;
}

/** Firing on at least this fraction of tokens makes a feature "dense" (its label says so). */
export const DENSE = 0.1;

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

/** One part as a short label (at most `maxItems` keys listed) and as a clause of the rule. */
export function phrasePart(part: Pick<RulePart, 'kind' | 'keys'>, vocab: Vocabulary, maxItems = 3): { label: string; rule: string } {
  const items = part.keys.map((k) => keyText(part.kind, k, vocab));
  const kind = KEY_KINDS[part.kind];
  const label = (() => {
    switch (kind) {
      case 'token':
        return list(items, maxItems);
      case 'word':
        return `word ${list(items, maxItems)} (any case)`;
      case 'prev':
        return `after ${list(items, maxItems)}`;
      case 'next':
        return `before ${list(items, maxItems)}`;
      case 'bigram':
        return `in ${list(items, maxItems)}`;
      case 'class':
      case 'repeat':
        return items.length <= 2 ? items.join(' or ') : `${items.slice(0, 2).join(' or ')} +${items.length - 2}`;
      case 'position': {
        const sorted = [...part.keys].sort((a, b) => a - b);
        const contiguous = sorted.every((k, i) => i === 0 || k === sorted[i - 1] + 1);
        const from = keyText(part.kind, sorted[0], vocab).split('–')[0];
        const to = keyText(part.kind, sorted[sorted.length - 1], vocab).split('–').pop()!;
        return contiguous ? `context position ${from === to ? from : `${from}–${to}`}` : `context positions ${sorted.map((k) => keyText(part.kind, k, vocab)).join(', ')}`;
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
  const single = { token: 'the token is', word: 'the token, ignoring case and spaces, is', prev: 'the previous token is', next: 'the next token is', bigram: 'the previous and current token form' }[kind as string];
  return { label, rule: items.length === 1 && single ? `${single} ${items[0]}` : `${what} ${items.join(', ')}` };
}

/**
 * The short label and the rule in words: the parts in the order they were chosen (the first explains
 * most), joined by "·" in the label and "or" in the rule. Keys are listed by firings explained × precision.
 */
export function describe(parts: readonly Pick<RulePart, 'kind' | 'keys'>[], vocab: Vocabulary, density = 0): { label: string; rule: string } {
  const phrased = parts.map((p) => phrasePart(p, vocab, parts.length === 1 ? 3 : 2));
  let label = phrased.map((p) => p.label).join(' · ');
  // A dense feature is named as such first: its rule is rarely what makes it useful.
  if (density >= DENSE) label = `dense ${Math.round(density * 100)}% · ${label}`;
  const listed = parts.some((p) => p.keys.length > 1);
  return { label, rule: `fires when ${phrased.map((p) => p.rule).join('; or when ')}${listed ? ' (keys listed by firings explained × precision)' : ''}` };
}

export type { LabelScores };
