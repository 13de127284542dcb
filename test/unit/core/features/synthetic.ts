// A synthetic model + SAE whose features have known meanings, for testing the index and the labels:
// tokens are space-separated words of a small vocabulary; each feature fires by a rule written here.
import type { SparseFeatures } from '../../../../src/core/analysis/decompose';
import type { IndexEncoder } from '../../../../src/core/features/buildIndex';
import type { CorpusDocument } from '../../../../src/core/features/corpusFiles';
import { Rng } from '../../../../src/core/util/rng';

export const WORDS = ['the', 'a', 'cat', 'dog', 'sat', 'ran', 'on', 'mat', 'big', 'small', 'red', 'blue', 'and', 'then', 'it', 'was', '42', '7', '.', ',', 'house', 'tree', 'bird', 'sun', 'moon', 'fast', 'slow', 'old', 'new', 'green'];

export const FEATURES = {
  cat: 0, // fires on the token "cat"
  afterThe: 1, // fires on any token right after "the"
  random: 2, // fires at random (10 %)
  dead: 3, // never fires
  numbers: 4, // fires on digit tokens
  withCat: 5, // fires wherever "cat" fires (co-activation)
  dogOrAfterRed: 6, // fires on "dog" and on any token right after "red": needs a rule of two parts
} as const;

export function syntheticCorpus(docs: number, seed = 7): CorpusDocument[] {
  const r = new Rng(seed);
  return Array.from({ length: docs }, (_, d) => ({
    source: `doc${d % 3}.txt`,
    text: Array.from({ length: 60 }, () => WORDS[r.int(WORDS.length)]).join(' '),
  }));
}

export function syntheticEncoder(seed = 3): IndexEncoder {
  const r = new Rng(seed);
  const id = new Map(WORDS.map((w, i) => [w, i]));
  return {
    vocabSize: WORDS.length,
    dSae: 7,
    tokenize: (text) => Int32Array.from(text.split(/\s+/).filter(Boolean), (w) => id.get(w) ?? 0),
    tokenText: (i) => (i === 0 ? WORDS[0] : ` ${WORDS[i]}`),
    encode: async (ids) => {
      const rowPtr = new Int32Array(ids.length + 1);
      const cols: number[] = [];
      const vals: number[] = [];
      for (let t = 0; t < ids.length; t++) {
        const on: [number, number][] = [];
        const w = WORDS[ids[t]];
        if (w === 'cat') on.push([FEATURES.cat, 2 + 0.1 * (t % 5)]);
        if (t > 0 && WORDS[ids[t - 1]] === 'the') on.push([FEATURES.afterThe, 1.5]);
        if (r.next() < 0.1) on.push([FEATURES.random, 0.5 + r.next()]);
        if (/^\d+$/.test(w)) on.push([FEATURES.numbers, 1]);
        if (w === 'cat') on.push([FEATURES.withCat, 0.7]);
        if (w === 'dog' || (t > 0 && WORDS[ids[t - 1]] === 'red')) on.push([FEATURES.dogOrAfterRed, 1.2]);
        on.sort((a, b) => a[0] - b[0]);
        for (const [c, v] of on) {
          cols.push(c);
          vals.push(v);
        }
        rowPtr[t + 1] = cols.length;
      }
      const f: SparseFeatures = { rows: ids.length, cols: 7, rowPtr, colIdx: Int32Array.from(cols), values: Float32Array.from(vals) };
      return f;
    },
  };
}
