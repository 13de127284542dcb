// What an automatic label may say about a token position: the "keys" of each kind of explanation
// (the token itself, its word form, the token before/after, the bigram, its character class, its position,
// whether it repeats earlier context). The index counts, per feature, how often it fires at each key; the
// explainer then picks the keys that pick out the firing positions best.

export const KEY_KINDS = ['token', 'word', 'prev', 'next', 'bigram', 'class', 'position', 'repeat'] as const;
export type KeyKind = (typeof KEY_KINDS)[number];
export const KIND_COUNT = KEY_KINDS.length;

export const CHAR_CLASSES = [
  'line breaks',
  'spaces/indentation',
  'numbers',
  'punctuation',
  'capitalised words after a space',
  'capitalised word starts without a space',
  'lowercase words after a space',
  'word pieces continuing a word',
  'mixed symbols',
] as const;

/** Lower bounds of the position buckets (position 0 is never indexed: it is the model's attention sink). */
export const POSITION_BUCKETS = [1, 2, 3, 4, 8, 16, 32, 64, 128] as const;

export const REPEAT_KEYS = ['first occurrence in the context', 'token repeated from earlier in the context', 'token and its predecessor repeated (copying a seen bigram)'] as const;

export function charClass(text: string): number {
  if (text.includes('\n')) return 0;
  if (/^\s+$/.test(text)) return 1;
  const t = text.trim();
  if (/^\p{N}+([.,]\p{N}+)*$/u.test(t)) return 2;
  if (/^[\p{P}\p{S}]+$/u.test(t)) return 3;
  const space = /^\s/.test(text);
  if (/^\p{Lu}\p{L}*$/u.test(t)) return space ? 4 : 5;
  if (/^\p{Ll}+$/u.test(t)) return space ? 6 : 7;
  return 8;
}

export function positionBucket(position: number): number {
  let b = 0;
  while (b + 1 < POSITION_BUCKETS.length && position >= POSITION_BUCKETS[b + 1]) b++;
  return b;
}

/** The word form of a token: case and surrounding spaces ignored, so " The" and "the" share it. */
export function wordForm(text: string): string {
  return text.trim().toLowerCase();
}

/** Interns word forms to small integers (stored in the index so held-out text maps to the same ids). */
export class WordTable {
  readonly ids = new Map<string, number>();
  readonly words: string[] = [];

  constructor(words: readonly string[] = []) {
    for (const w of words) this.intern(w);
  }

  intern(word: string): number {
    let id = this.ids.get(word);
    if (id === undefined) {
      id = this.words.length;
      this.words.push(word);
      this.ids.set(word, id);
    }
    return id;
  }
}

/** Per-token facts of one vocabulary, computed once per token id. */
export class TokenFacts {
  private readonly classes = new Map<number, number>();
  private readonly wordIds = new Map<number, number>();

  constructor(
    readonly tokenText: (id: number) => string,
    readonly words: WordTable,
  ) {}

  classOf(id: number): number {
    let c = this.classes.get(id);
    if (c === undefined) this.classes.set(id, (c = charClass(this.tokenText(id))));
    return c;
  }

  /** Interns new word forms (index build); `lookupOnly` gives -1 for forms the index never saw (scoring). */
  wordOf(id: number, lookupOnly = false): number {
    let w = this.wordIds.get(id);
    if (w === undefined) {
      const form = wordForm(this.tokenText(id));
      w = lookupOnly ? (this.words.ids.get(form) ?? -1) : this.words.intern(form);
      this.wordIds.set(id, w);
    }
    return w;
  }
}

/**
 * keys[kind][t] for each position of a window of token ids; -1 where a kind has no key (no next token at
 * the end). `vocab` sizes the bigram key space (prev·vocab + cur).
 */
export function windowKeys(ids: Int32Array, facts: TokenFacts, vocab: number, lookupOnly = false): Float64Array[] {
  const n = ids.length;
  const keys = KEY_KINDS.map(() => new Float64Array(n).fill(-1));
  const seenTokens = new Set<number>();
  const seenBigrams = new Set<number>();
  for (let t = 0; t < n; t++) {
    const id = ids[t];
    const prev = t > 0 ? ids[t - 1] : -1;
    const bigram = prev >= 0 ? prev * vocab + id : -1;
    keys[0][t] = id;
    keys[1][t] = facts.wordOf(id, lookupOnly);
    keys[2][t] = prev;
    keys[3][t] = t + 1 < n ? ids[t + 1] : -1;
    keys[4][t] = bigram;
    keys[5][t] = facts.classOf(id);
    keys[6][t] = positionBucket(t);
    keys[7][t] = bigram >= 0 && seenBigrams.has(bigram) ? 2 : seenTokens.has(id) ? 1 : 0;
    seenTokens.add(id);
    if (bigram >= 0) seenBigrams.add(bigram);
  }
  return keys;
}
