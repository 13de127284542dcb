// The same text decomposed by two SAEs, token by token, with matched features (by decoder cosine) on the
// same row: a pair where both fire, then features only one side shows among its strongest. A's strongest
// features lead; a B feature whose partner fires in A (even below A's top rows) joins its partner's row.
import type { AnalysisResult } from '../../protocol/analysis';
import type { FeatureMatching, SideBySide, SideBySideRow } from '../../protocol/compare';

function activeAt(r: AnalysisResult, t: number): Map<number, number> {
  const m = new Map<number, number>();
  for (let k = r.active.rowStart[t]; k < r.active.rowStart[t + 1]; k++) m.set(r.active.featureIds[k], r.active.values[k]);
  return m;
}

export function sideBySide(
  a: AnalysisResult,
  b: AnalysisResult,
  matching: Pick<FeatureMatching, 'pairs'>,
  names: { a: { label: string; path: string }; b: { label: string; path: string } },
  options: { minCos: number; topK: number },
): SideBySide {
  if (a.tokens.length !== b.tokens.length) throw new Error(`the two SAEs saw ${a.tokens.length} and ${b.tokens.length} tokens: they must read the same model`);
  const partnerOfA = new Map<number, { b: number; cos: number }>();
  const partnerOfB = new Map<number, { a: number; cos: number }>();
  for (const p of matching.pairs) {
    if (p.cos < options.minCos) continue;
    partnerOfA.set(p.a, { b: p.b, cos: p.cos });
    partnerOfB.set(p.b, { a: p.a, cos: p.cos });
  }
  let aligned = 0;
  let total = 0;
  const tokens = a.tokens.map((ta, t) => {
    const tb = b.tokens[t];
    const activeA = activeAt(a, t);
    const activeB = activeAt(b, t);
    const usedA = new Set<number>();
    const usedB = new Set<number>();
    const pairs: SideBySideRow[] = [];
    const onlyA: SideBySideRow[] = [];
    const onlyB: SideBySideRow[] = [];
    for (const f of ta.features.slice(0, options.topK)) {
      const partner = partnerOfA.get(f.id);
      const bAct = partner ? activeB.get(partner.b) : undefined;
      usedA.add(f.id);
      if (partner && bAct !== undefined) {
        usedB.add(partner.b);
        pairs.push({ a: { feature: f.id, activation: f.activation }, b: { feature: partner.b, activation: bAct }, cos: partner.cos });
      } else {
        onlyA.push({ a: { feature: f.id, activation: f.activation } });
      }
    }
    for (const f of tb.features.slice(0, options.topK)) {
      if (usedB.has(f.id)) continue;
      const partner = partnerOfB.get(f.id);
      const aAct = partner ? activeA.get(partner.a) : undefined;
      usedB.add(f.id);
      if (partner && aAct !== undefined && !usedA.has(partner.a)) {
        usedA.add(partner.a);
        pairs.push({ a: { feature: partner.a, activation: aAct }, b: { feature: f.id, activation: f.activation }, cos: partner.cos });
      } else {
        onlyB.push({ b: { feature: f.id, activation: f.activation } });
      }
    }
    const strength = (r: SideBySideRow) => Math.max(r.a?.activation ?? 0, r.b?.activation ?? 0);
    pairs.sort((x, y) => strength(y) - strength(x));
    aligned += pairs.length;
    total += pairs.length + onlyA.length + onlyB.length;
    return { text: ta.text, start: ta.start, end: ta.end, rows: [...pairs, ...onlyA, ...onlyB] };
  });
  const side = (r: AnalysisResult, n: { label: string; path: string }) => ({ ...n, meanL0: r.meanL0, meanReconError: r.meanReconError });
  return { text: a.text, a: side(a, names.a), b: side(b, names.b), tokens, alignedRows: aligned, totalRows: total };
}
