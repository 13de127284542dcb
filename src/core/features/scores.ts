// How auto-interpretability scores a rule on held-out text: detection (does the rule's simulated activation
// rank firing tokens above the others: AUROC; does "the rule matches" separate them: balanced accuracy) and
// simulation (Pearson correlation of simulated and actual activations).

/** AUROC of scores against labels (actual > 0), ties counted half; undefined without both classes. */
export function auroc(scores: ArrayLike<number>, actual: ArrayLike<number>): number | undefined {
  // Scores take few distinct values here (one per rule key), so count per value instead of sorting ranks.
  const byValue = new Map<number, { pos: number; neg: number }>();
  let P = 0;
  let N = 0;
  for (let i = 0; i < scores.length; i++) {
    const on = actual[i] > 0;
    const c = byValue.get(scores[i]) ?? { pos: 0, neg: 0 };
    if (on) {
      c.pos++;
      P++;
    } else {
      c.neg++;
      N++;
    }
    byValue.set(scores[i], c);
  }
  if (P === 0 || N === 0) return undefined;
  let negBelow = 0;
  let wins = 0;
  for (const [, c] of [...byValue].sort((a, b) => a[0] - b[0])) {
    wins += c.pos * (negBelow + c.neg / 2);
    negBelow += c.neg;
  }
  return wins / (P * N);
}

/** (TPR + TNR) / 2 of a binary prediction (score > 0) of firing (actual > 0). */
export function balancedAccuracy(scores: ArrayLike<number>, actual: ArrayLike<number>): number | undefined {
  let tp = 0;
  let fn = 0;
  let tn = 0;
  let fp = 0;
  for (let i = 0; i < scores.length; i++) {
    const on = actual[i] > 0;
    const hit = scores[i] > 0;
    if (on && hit) tp++;
    else if (on) fn++;
    else if (hit) fp++;
    else tn++;
  }
  if (tp + fn === 0 || tn + fp === 0) return undefined;
  return (tp / (tp + fn) + tn / (tn + fp)) / 2;
}

/** Pearson correlation; undefined when either side is constant. */
export function pearson(a: ArrayLike<number>, b: ArrayLike<number>): number | undefined {
  const n = a.length;
  if (n === 0) return undefined;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i];
    mb += b[i];
  }
  ma /= n;
  mb /= n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    const da = a[i] - ma;
    const db = b[i] - mb;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  if (saa === 0 || sbb === 0) return undefined;
  return sab / Math.sqrt(saa * sbb);
}

export function median(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function quantile(values: readonly number[], q: number): number | undefined {
  if (values.length === 0) return undefined;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.round(q * (s.length - 1))))];
}

/**
 * AUROC of a sparse score (positions not in `scores` score 0) against firing positions, over `total`
 * positions; ties counted half. Cost grows with the matched and firing positions, not with `total`.
 */
export function sparseAuroc(scores: ReadonlyMap<number, number>, firing: ReadonlySet<number>, total: number): number | undefined {
  const P = firing.size;
  const N = total - P;
  if (P === 0 || N <= 0) return undefined;
  const groups = new Map<number, { pos: number; neg: number }>();
  const add = (s: number, pos: number, neg: number) => {
    const g = groups.get(s);
    if (g) {
      g.pos += pos;
      g.neg += neg;
    } else groups.set(s, { pos, neg });
  };
  let matchedNeg = 0;
  for (const [p, s] of scores) {
    if (firing.has(p)) continue;
    add(s, 0, 1);
    matchedNeg++;
  }
  for (const p of firing) add(scores.get(p) ?? 0, 1, 0);
  add(0, 0, N - matchedNeg);
  let negBelow = 0;
  let wins = 0;
  for (const [, c] of [...groups].sort((a, b) => a[0] - b[0])) {
    wins += c.pos * (negBelow + c.neg / 2);
    negBelow += c.neg;
  }
  return wins / (P * N);
}
