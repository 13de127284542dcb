// The hypothesis workbench: the user states a rule over tokens (a regular expression over token texts, a
// list of words, or labelled examples in a text) and gets the features that best detect it, each with AUROC,
// precision and recall of "fires", plus the best sparse linear combination of a few features (a tiny
// logistic probe chosen greedily on the fitting split and scored on the held-out split).
import type { AnalysisResult } from '../../protocol/analysis';
import type { Detector, Hypothesis, HypothesisResult, Probe } from '../../protocol/hypothesis';
import { throwIfAborted, yieldToEventLoop } from '../util/abort';
import type { IndexEncoder } from './buildIndex';
import type { FeatureIndexDb } from './indexDb';
import { auroc } from './scores';
import { wordForm } from './tokenKeys';

export type { Detector, Hypothesis, HypothesisResult, Probe };

/** A rule over token texts (the regex and token-list hypotheses). */
export type TokenRule = Extract<Hypothesis, { kind: 'regex' | 'tokens' }>;

export interface HypothesisOptions {
  readonly top?: number;
  readonly probeSize?: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: { phase: string; done: number; total: number }) => void;
}

export function hypothesisMatcher(h: TokenRule): (tokenText: string) => boolean {
  if (h.kind === 'regex') {
    let re: RegExp;
    try {
      re = new RegExp(h.pattern, 'u');
    } catch (err) {
      throw new Error(`invalid regular expression ${JSON.stringify(h.pattern)}: ${err instanceof Error ? err.message : String(err)}`);
    }
    return (t) => re.test(t);
  }
  const words = new Set(h.tokens.map(wordForm).filter((w) => w.length > 0));
  if (words.size === 0) throw new Error('the token list is empty');
  return (t) => words.has(wordForm(t));
}

interface Split {
  readonly y: Uint8Array;
  /** Per feature: positions and activations where it fires. */
  readonly firing: Map<number, { pos: number[]; act: number[] }>;
}

async function encodeSplit(db: FeatureIndexDb, encoder: Pick<IndexEncoder, 'encode'>, split: 0 | 1, match: (t: string) => boolean, options: HypothesisOptions): Promise<Split> {
  const { signal } = options;
  const texts = db.tokenTexts();
  const windows = db.windows(split);
  const phase = split === 0 ? 'encoding the indexed text' : 'encoding the held-out text';
  const y = new Uint8Array(windows.reduce((s, w) => s + w.ids.length - 1, 0));
  const firing = new Map<number, { pos: number[]; act: number[] }>();
  let g = 0;
  for (const w of windows) {
    throwIfAborted(signal);
    const f = await encoder.encode(w.ids, signal);
    for (let t = 1; t < w.ids.length; t++, g++) {
      y[g] = match(texts.get(w.ids[t]) ?? '') ? 1 : 0;
      for (let e = f.rowPtr[t]; e < f.rowPtr[t + 1]; e++) {
        if (!(f.values[e] > 0)) continue;
        let l = firing.get(f.colIdx[e]);
        if (!l) firing.set(f.colIdx[e], (l = { pos: [], act: [] }));
        l.pos.push(g);
        l.act.push(f.values[e]);
      }
    }
    options.onProgress?.({ phase, done: g, total: y.length });
    await yieldToEventLoop();
  }
  return { y, firing };
}

function dense(split: Split, feature: number): Float32Array {
  const out = new Float32Array(split.y.length);
  const l = split.firing.get(feature);
  if (l) for (let e = 0; e < l.pos.length; e++) out[l.pos[e]] = l.act[e];
  return out;
}

/**
 * Logistic regression on log(1 + activation) of the chosen features by Newton's method (IRLS), with a small
 * ridge penalty so perfectly separable data (a feature that is exactly the rule) still converges.
 */
function fitLogistic(xs: Float32Array[], y: Uint8Array, iterations = 25, ridge = 1e-2): { w: number[]; b: number; loss: number } {
  const n = y.length;
  const k = xs.length;
  const d = k + 1; // bias last
  const beta = new Array<number>(d).fill(0);
  let prior = 0;
  for (let i = 0; i < n; i++) prior += y[i];
  prior = Math.min(Math.max(prior / n, 1e-6), 1 - 1e-6);
  beta[k] = Math.log(prior / (1 - prior));
  const row = new Float64Array(d);
  const lossOf = () => {
    let loss = 0;
    for (let i = 0; i < n; i++) {
      let s = beta[k];
      for (let j = 0; j < k; j++) s += beta[j] * xs[j][i];
      loss += y[i] ? Math.log1p(Math.exp(-s)) : Math.log1p(Math.exp(s));
    }
    let pen = 0;
    for (let j = 0; j < k; j++) pen += beta[j] * beta[j];
    return loss / n + (ridge / 2) * pen;
  };
  for (let it = 0; it < iterations; it++) {
    const grad = new Float64Array(d);
    const hess = Array.from({ length: d }, () => new Float64Array(d));
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < k; j++) row[j] = xs[j][i];
      row[k] = 1;
      let s = 0;
      for (let j = 0; j < d; j++) s += beta[j] * row[j];
      const p = 1 / (1 + Math.exp(-s));
      const wgt = Math.max(p * (1 - p), 1e-9);
      for (let a = 0; a < d; a++) {
        grad[a] += ((p - y[i]) * row[a]) / n;
        for (let c = 0; c <= a; c++) hess[a][c] += (wgt * row[a] * row[c]) / n;
      }
    }
    for (let a = 0; a < d; a++) for (let c = 0; c < a; c++) hess[c][a] = hess[a][c];
    for (let j = 0; j < k; j++) {
      grad[j] += ridge * beta[j];
      hess[j][j] += ridge;
    }
    hess[k][k] += 1e-9;
    const step = solve(hess, grad);
    let change = 0;
    for (let j = 0; j < d; j++) {
      beta[j] -= step[j];
      change = Math.max(change, Math.abs(step[j]));
    }
    if (change < 1e-6) break;
  }
  return { w: beta.slice(0, k), b: beta[k], loss: lossOf() };
}

/** Solves A x = b (A symmetric positive definite, small) by Gaussian elimination with partial pivoting. */
function solve(A: Float64Array[], b: Float64Array): Float64Array {
  const n = b.length;
  const m = A.map((r, i) => [...r, b[i]]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r][c]) > Math.abs(m[p][c])) p = r;
    [m[c], m[p]] = [m[p], m[c]];
    const piv = m[c][c] || 1e-12;
    for (let r = c + 1; r < n; r++) {
      const f = m[r][c] / piv;
      for (let q = c; q <= n; q++) m[r][q] -= f * m[c][q];
    }
  }
  const x = new Float64Array(n);
  for (let r = n - 1; r >= 0; r--) {
    let s = m[r][n];
    for (let q = r + 1; q < n; q++) s -= m[r][q] * x[q];
    x[r] = s / (m[r][r] || 1e-12);
  }
  return x;
}

/** Tests a rule over token texts on the index's corpus: fitted on the indexed split, checked on the held-out one. */
export async function testHypothesis(db: FeatureIndexDb, encoder: Pick<IndexEncoder, 'encode'>, hypothesis: TokenRule, options: HypothesisOptions = {}): Promise<Omit<HypothesisResult, 'description'>> {
  const match = hypothesisMatcher(hypothesis);
  const train = await encodeSplit(db, encoder, 0, match, options);
  const test = await encodeSplit(db, encoder, 1, match, options);
  return { source: `the indexed corpus (${db.meta.corpusName})`, ...(await rankAndProbe(train, test, 'indexed corpus', options)) };
}

/**
 * Tests labelled examples: the tokens of an analysed text overlapping `ranges` are positive, the others
 * negative. Every other token (and every other positive) is held out; neighbours are alike, so the held-out score
 * is optimistic.
 */
export async function testExamples(analysed: AnalysisResult, ranges: readonly (readonly [number, number])[], options: HypothesisOptions = {}): Promise<Omit<HypothesisResult, 'description' | 'source'>> {
  if (ranges.length === 0) throw new Error('select the examples where the rule holds first');
  const splits: Split[] = [0, 1].map(() => ({ y: new Uint8Array(0), firing: new Map() }));
  const ys: number[][] = [[], []];
  const { rowStart, featureIds, values } = analysed.active;
  let marked = 0;
  analysed.tokens.forEach((tok, t) => {
    const y = ranges.some(([a, b]) => tok.start < b && tok.end > a) ? 1 : 0;
    // Positives alternate between the halves (so both get some), the other tokens go by position.
    const part = y ? marked++ % 2 : t % 2;
    const g = ys[part].length;
    ys[part].push(y);
    for (let e = rowStart[t]; e < rowStart[t + 1]; e++) {
      if (!(values[e] > 0)) continue;
      const firing = splits[part].firing as Map<number, { pos: number[]; act: number[] }>;
      let l = firing.get(featureIds[e]);
      if (!l) firing.set(featureIds[e], (l = { pos: [], act: [] }));
      l.pos.push(g);
      l.act.push(values[e]);
    }
  });
  const [train, test] = splits.map((sp, i) => ({ y: Uint8Array.from(ys[i]), firing: sp.firing }));
  return rankAndProbe(train, test, 'examples text', options);
}

async function rankAndProbe(train: Split, test: Split, where: string, options: HypothesisOptions): Promise<Omit<HypothesisResult, 'description' | 'source'>> {
  const positives = train.y.reduce((s, v) => s + v, 0);
  const heldoutPositives = test.y.reduce((s, v) => s + v, 0);
  if (positives === 0) throw new Error(`the hypothesis marks no token of the ${where}`);
  if (positives === train.y.length) throw new Error(`the hypothesis marks every token of the ${where}`);
  const scored: Detector[] = [];
  for (const [feature, l] of train.firing) {
    const a = auroc(dense(train, feature), train.y);
    if (a === undefined) continue;
    let hit = 0;
    for (const p of l.pos) hit += train.y[p];
    const h = auroc(dense(test, feature), test.y);
    scored.push({ feature, auroc: a, ...(h !== undefined ? { heldoutAuroc: h } : {}), precision: hit / l.pos.length, recall: hit / positives });
  }
  scored.sort((a, b) => b.auroc - a.auroc || a.feature - b.feature);
  const detectors = scored.slice(0, options.top ?? 10);

  // Greedy forward selection among the 12 best single detectors, by training log-loss.
  const pool = scored.slice(0, 12).map((d) => d.feature);
  const x = (split: Split, f: number) => dense(split, f).map((v) => Math.log1p(v));
  const chosen: number[] = [];
  let fit: ReturnType<typeof fitLogistic> | undefined;
  for (let step = 0; step < (options.probeSize ?? 3) && pool.length > 0; step++) {
    let best: { f: number; fit: ReturnType<typeof fitLogistic> } | undefined;
    for (const f of pool) {
      if (chosen.includes(f)) continue;
      const trial = fitLogistic([...chosen, f].map((c) => x(train, c)), train.y, 12);
      if (!best || trial.loss < best.fit.loss) best = { f, fit: trial };
    }
    if (!best || (fit && best.fit.loss > fit.loss - 1e-4)) break;
    chosen.push(best.f);
    fit = fitLogistic(chosen.map((c) => x(train, c)), train.y);
    throwIfAborted(options.signal);
    await yieldToEventLoop();
  }
  let probe: Probe | undefined;
  if (fit && chosen.length > 0) {
    const score = (split: Split) => {
      const xs = chosen.map((c) => x(split, c));
      return Float32Array.from({ length: split.y.length }, (_, i) => xs.reduce((s, col, j) => s + fit!.w[j] * col[i], fit!.b));
    };
    const a = auroc(score(train), train.y) ?? 0.5;
    const h = auroc(score(test), test.y);
    probe = { features: chosen.map((feature, j) => ({ feature, weight: fit!.w[j] })), bias: fit.b, auroc: a, ...(h !== undefined ? { heldoutAuroc: h } : {}) };
  }
  return { positives, tokens: train.y.length, heldoutPositives, heldoutTokens: test.y.length, detectors, ...(probe ? { probe } : {}) };
}
