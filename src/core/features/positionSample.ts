// Encoded windows of the index's corpus as the labeller needs them: for every position (position 0 of each
// window skipped, as in the index) its key of each kind, and each feature's firings there. Used twice: a
// validation sample of the indexed split (to choose among candidate rules) and the held-out split (to score
// the chosen one).
import { throwIfAborted, yieldToEventLoop } from '../util/abort';
import type { IndexEncoder } from './buildIndex';
import type { FeatureIndexDb } from './indexDb';
import { KIND_COUNT, TokenFacts, WordTable, windowKeys } from './tokenKeys';

export interface PositionSample {
  readonly tokens: number;
  /** keys[kind][g]: the key of position g (-1 when the kind has none there). */
  readonly keys: Float64Array[];
  readonly perFeature: Map<number, { pos: number[]; act: number[] }>;
  /** Positions of each key, per kind (built on first use). */
  positionsOf(kind: number, key: number): readonly number[];
}

export async function encodeSample(
  db: FeatureIndexDb,
  encoder: Pick<IndexEncoder, 'encode'>,
  windows: readonly { ids: Int32Array }[],
  onProgress?: (done: number, total: number) => void,
  signal?: AbortSignal,
): Promise<PositionSample> {
  const texts = db.tokenTexts();
  const facts = new TokenFacts((id) => texts.get(id) ?? '', new WordTable(db.words()));
  const total = windows.reduce((s, w) => s + Math.max(0, w.ids.length - 1), 0);
  const keys = Array.from({ length: KIND_COUNT }, () => new Float64Array(total).fill(-1));
  const perFeature = new Map<number, { pos: number[]; act: number[] }>();
  let g = 0;
  for (const w of windows) {
    throwIfAborted(signal);
    const f = await encoder.encode(w.ids, signal);
    const wk = windowKeys(w.ids, facts, db.meta.vocabSize, true);
    for (let t = 1; t < w.ids.length; t++, g++) {
      for (let k = 0; k < KIND_COUNT; k++) keys[k][g] = wk[k][t];
      for (let e = f.rowPtr[t]; e < f.rowPtr[t + 1]; e++) {
        if (!(f.values[e] > 0)) continue;
        let list = perFeature.get(f.colIdx[e]);
        if (!list) perFeature.set(f.colIdx[e], (list = { pos: [], act: [] }));
        list.pos.push(g);
        list.act.push(f.values[e]);
      }
    }
    onProgress?.(g, total);
    await yieldToEventLoop();
  }
  const inverted: (Map<number, number[]> | undefined)[] = new Array(KIND_COUNT);
  return {
    tokens: total,
    keys,
    perFeature,
    positionsOf(kind, key) {
      let map = inverted[kind];
      if (!map) {
        map = new Map();
        const k = keys[kind];
        for (let p = 0; p < total; p++) {
          if (k[p] < 0) continue;
          let list = map.get(k[p]);
          if (!list) map.set(k[p], (list = []));
          list.push(p);
        }
        inverted[kind] = map;
      }
      return map.get(key) ?? [];
    },
  };
}

/** Every n-th window of the indexed split (at least every third, so most counts stay for ranking), at most maxTokens positions: the validation sample. */
export function validationWindows<W extends { ids: Int32Array }>(explain: readonly W[], maxTokens: number): W[] {
  const total = explain.reduce((s, w) => s + w.ids.length, 0);
  const every = Math.max(3, Math.ceil(total / maxTokens));
  const out: W[] = [];
  let n = 0;
  for (let i = 0; i < explain.length && n < maxTokens; i += every) {
    out.push(explain[i]);
    n += explain[i].ids.length;
  }
  return out;
}
