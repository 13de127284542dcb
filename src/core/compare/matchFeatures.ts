// Feature matching between two SAEs by the cosine of their decoder directions: two features that write the
// same direction into the site are the same feature, whatever their index. One-to-one and greedy: every
// A feature's best few B candidates are collected, then pairs are taken from the highest cosine down,
// each feature used at most once. (Hungarian is O(n³); for the pairs that matter, cos ≳ 0.5, the greedy
// and optimal assignments agree, and greedy scales to 16k-wide dictionaries.)
import type { FeatureMatching } from '../../protocol/compare';
import { matmulTransposed } from '../tensor';

export interface DecoderDirections {
  /** [dSae, d] row-major. */
  readonly wDec: Float32Array;
  readonly dSae: number;
  readonly d: number;
}

export const DEFAULT_THRESHOLDS = [0.5, 0.7, 0.9, 0.99] as const;
const CANDIDATES_PER_FEATURE = 8;
const HISTOGRAM_BINS = 20;
const BLOCK_ROWS = 256;

/** Decoder rows scaled to unit length, so their dot products are cosines. */
export function unitRows(m: DecoderDirections): Float32Array {
  const out = new Float32Array(m.wDec.length);
  for (let r = 0; r < m.dSae; r++) {
    let s = 0;
    for (let j = 0; j < m.d; j++) s += m.wDec[r * m.d + j] ** 2;
    // A zero row (a pruned feature) stays zero: cosine 0 with everything.
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let j = 0; j < m.d; j++) out[r * m.d + j] = m.wDec[r * m.d + j] * inv;
  }
  return out;
}

export function matchFeatures(
  a: DecoderDirections,
  b: DecoderDirections,
  names: { a: string; b: string },
  thresholds: readonly number[] = DEFAULT_THRESHOLDS,
): FeatureMatching {
  if (a.d !== b.d) throw new Error(`cannot match ${names.a} (d ${a.d}) with ${names.b} (d ${b.d}): different widths`);
  const d = a.d;
  const ua = unitRows(a);
  const ub = unitRows(b);
  const best = new Float32Array(a.dSae).fill(-1);
  const candidates: { a: number; b: number; cos: number }[] = [];
  const k = Math.min(CANDIDATES_PER_FEATURE, b.dSae);
  // Cosines a block of A rows at a time, so memory stays BLOCK_ROWS × dSae_B.
  for (let start = 0; start < a.dSae; start += BLOCK_ROWS) {
    const rows = Math.min(BLOCK_ROWS, a.dSae - start);
    const cos = matmulTransposed({ data: ua.subarray(start * d, (start + rows) * d), rows, cols: d }, ub, b.dSae).data;
    for (let i = 0; i < rows; i++) {
      const row = cos.subarray(i * b.dSae, (i + 1) * b.dSae);
      const top: number[] = [];
      for (let j = 0; j < b.dSae; j++) {
        if (top.length < k) {
          top.push(j);
          if (top.length === k) top.sort((x, y) => row[y] - row[x]);
        } else if (row[j] > row[top[k - 1]]) {
          let p = k - 1;
          while (p > 0 && row[top[p - 1]] < row[j]) {
            top[p] = top[p - 1];
            p--;
          }
          top[p] = j;
        }
      }
      if (top.length < k) top.sort((x, y) => row[y] - row[x]);
      best[start + i] = top.length > 0 ? row[top[0]] : 0;
      for (const j of top) candidates.push({ a: start + i, b: j, cos: row[j] });
    }
  }
  candidates.sort((x, y) => y.cos - x.cos || x.a - y.a || x.b - y.b);
  const usedA = new Uint8Array(a.dSae);
  const usedB = new Uint8Array(b.dSae);
  const pairs: { a: number; b: number; cos: number }[] = [];
  for (const c of candidates) {
    if (usedA[c.a] || usedB[c.b]) continue;
    usedA[c.a] = 1;
    usedB[c.b] = 1;
    pairs.push(c);
  }
  const lowest = Math.min(...thresholds);
  const partnered = pairs.filter((p) => p.cos >= lowest);
  const hasA = new Set(partnered.map((p) => p.a));
  const hasB = new Set(partnered.map((p) => p.b));
  const edges = Array.from({ length: HISTOGRAM_BINS + 1 }, (_, i) => -1 + (2 * i) / HISTOGRAM_BINS);
  const counts = new Array<number>(HISTOGRAM_BINS).fill(0);
  for (const v of best) counts[Math.min(HISTOGRAM_BINS - 1, Math.max(0, Math.floor(((v + 1) / 2) * HISTOGRAM_BINS)))]++;
  return {
    a: names.a,
    b: names.b,
    method: 'greedy',
    pairs,
    matchedAbove: [...thresholds].sort((x, y) => x - y).map((threshold) => ({ threshold, count: pairs.filter((p) => p.cos >= threshold).length })),
    bestCosHistogram: { edges, counts },
    unmatchedA: Array.from({ length: a.dSae }, (_, i) => i).filter((i) => !hasA.has(i)),
    unmatchedB: Array.from({ length: b.dSae }, (_, i) => i).filter((i) => !hasB.has(i)),
  };
}
