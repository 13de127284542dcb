// Which code of the toy is sparser at equal reconstruction: its true members, or one latent per group event?
// No training: each candidate dictionary is scored on the held-out rows with an ideal encoder that knows
// every row's true support (least squares on it), then made sparser per row by dropping the atoms that cost
// the least, so the dictionaries can be compared at equal L0 (per-row TopK budget, or the Lagrangian
// ‖x − x̂‖² + λ·L0 that a JumpReLU's L0 penalty trades against).
//
//   npx tsx bench/synthetic-optima.ts [--rows N]
//
// Dictionaries (the 448 independent directions are the same in all three; they differ in the 64 grouped):
//   members  — the true dictionary: a group event with j active members costs j atoms (512 atoms);
//   sums     — one atom per group along the normalised sum of all 4 members (448 + 16 = 464 atoms);
//   subsets  — one atom per group event along the normalised sum of exactly its active members
//              (448 + 16·15 = 688 atoms: fits in d_sae 1024, not in 512);
//   mixed    — members and subsets both (688 atoms): each row coded by whichever of the two is better at
//              its budget.
// Also the matched-filter TopK SAE made of the true dictionary (W_enc = W_decᵀ = D, no biases, k = 5):
// what the true dictionary reconstructs with an SAE's encoder rather than an ideal one.
// Results: docs/training.md, "The toy's optimum".
import { ReconstructionAccumulator } from '../src/core/metrics/reconstruction';
import { SyntheticSource, type TrueCode } from '../src/core/train/syntheticData';
import { EVAL_BATCH_ROWS, TOY_SPEC, evalSource, normalisedSum } from './syntheticToy';

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

const spec = TOY_SPEC;
const dIn = spec.dIn;
const groupSize = spec.groupSize ?? 0;
const grouped = (spec.groupCount ?? 0) * groupSize;
const truth = new SyntheticSource(spec);
const D = truth.dictionary;
const totalRows = Number(flag('rows', '32768'));

type Dictionary = 'members' | 'sums' | 'subsets';

/** The atoms (unit rows) one row's true code uses under each dictionary. */
function atomsFor(code: readonly TrueCode[], dict: Dictionary): Float32Array[] {
  const atoms: Float32Array[] = [];
  const byGroup = new Map<number, number[]>();
  for (const { feature } of code) {
    if (feature >= grouped || dict === 'members') atoms.push(D.subarray(feature * dIn, (feature + 1) * dIn));
    else {
      const g = Math.floor(feature / groupSize);
      byGroup.set(g, [...(byGroup.get(g) ?? []), feature]);
    }
  }
  for (const [g, active] of byGroup) {
    const all = Array.from({ length: groupSize }, (_, m) => g * groupSize + m);
    atoms.push(normalisedSum(D, dIn, dict === 'sums' ? all : active));
  }
  return atoms;
}

/** Least squares of x on the atoms (Cholesky of the Gram matrix); returns the reconstruction. */
function fit(x: Float32Array, atoms: readonly Float32Array[]): Float64Array {
  const n = atoms.length;
  const out = new Float64Array(dIn);
  if (n === 0) return out;
  const g = new Float64Array(n * n);
  const b = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k <= i; k++) {
      let s = 0;
      for (let j = 0; j < dIn; j++) s += atoms[i][j] * atoms[k][j];
      g[i * n + k] = s;
      g[k * n + i] = s;
    }
    let s = 0;
    for (let j = 0; j < dIn; j++) s += atoms[i][j] * x[j];
    b[i] = s;
  }
  for (let i = 0; i < n; i++) g[i * n + i] += 1e-9; // atoms of one row are never parallel; guard only
  // Cholesky G = L Lᵀ in place (lower triangle), then two triangular solves.
  for (let i = 0; i < n; i++) {
    for (let k = 0; k <= i; k++) {
      let s = g[i * n + k];
      for (let m = 0; m < k; m++) s -= g[i * n + m] * g[k * n + m];
      g[i * n + k] = i === k ? Math.sqrt(s) : s / g[k * n + k];
    }
  }
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = b[i];
    for (let m = 0; m < i; m++) s -= g[i * n + m] * y[m];
    y[i] = s / g[i * n + i];
  }
  const c = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    let s = y[i];
    for (let m = i + 1; m < n; m++) s -= g[m * n + i] * c[m];
    c[i] = s / g[i * n + i];
  }
  for (let i = 0; i < n; i++) for (let j = 0; j < dIn; j++) out[j] += c[i] * atoms[i][j];
  return out;
}

function residual2(x: Float32Array, atoms: readonly Float32Array[]): number {
  const xh = fit(x, atoms);
  let s = 0;
  for (let j = 0; j < dIn; j++) s += (x[j] - xh[j]) ** 2;
  return s;
}

/**
 * ‖x − x̂‖² after dropping 0, 1, 2, … atoms, greedily: each time the atom whose removal (with a refit)
 * costs least. Entry n = residual with n atoms dropped.
 */
function dropCurve(x: Float32Array, atoms: Float32Array[]): number[] {
  const curve = [residual2(x, atoms)];
  let kept = atoms;
  while (kept.length > 0) {
    let best = Infinity;
    let bestAt = 0;
    for (let i = 0; i < kept.length; i++) {
      const r = residual2(x, kept.filter((_, k) => k !== i));
      if (r < best) {
        best = r;
        bestAt = i;
      }
    }
    kept = kept.filter((_, k) => k !== bestAt);
    curve.push(best);
  }
  return curve;
}

// Held-out rows and, per dictionary, each row's drop curve.
const source = evalSource(spec);
const xs: Float32Array[] = [];
const curves: Record<Dictionary, number[][]> = { members: [], sums: [], subsets: [] };
const dicts: Dictionary[] = ['members', 'sums', 'subsets'];
const exact = new ReconstructionAccumulator(dIn); // for Σ‖x − x̄‖²
for (let done = 0; done < totalRows; done += EVAL_BATCH_ROWS) {
  const { x, codes } = source.nextBatchWithCodes(Math.min(EVAL_BATCH_ROWS, totalRows - done));
  exact.add(x, x); // zero error; only the variance is used
  for (let r = 0; r < x.rows; r++) {
    const row = x.data.slice(r * dIn, (r + 1) * dIn);
    xs.push(row);
    for (const d of dicts) curves[d].push(dropCurve(row, atomsFor(codes[r], d)));
  }
}
const variance = exact.variance();
const rows = xs.length;

type Code = Dictionary | 'mixed';

/** Atoms a row's full code uses, and its ‖x − x̂‖² when only `keep` of them are kept. */
function rowSize(d: Code, r: number): number {
  return curves[d === 'mixed' ? 'members' : d][r].length - 1;
}
function rowError(d: Code, r: number, keep: number): number {
  if (d === 'mixed') return Math.min(rowError('members', r, keep), rowError('subsets', r, keep));
  const c = curves[d][r];
  return c[Math.max(0, c.length - 1 - keep)];
}

/** Per-row budget k (an ideal TopK): keep the min(k, |S|) atoms that reconstruct best. */
function atBudget(d: Code, k: number): { l0: number; fvu: number } {
  let err = 0;
  let l0 = 0;
  for (let r = 0; r < rows; r++) {
    const keep = Math.min(k, rowSize(d, r));
    err += rowError(d, r, keep);
    l0 += keep;
  }
  return { l0: l0 / rows, fvu: err / variance };
}

/** Lagrangian: per row the number of atoms n minimising ‖x − x̂‖² + λ·n. */
function atLambda(d: Code, lambda: number): { l0: number; fvu: number } {
  let err = 0;
  let l0 = 0;
  for (let r = 0; r < rows; r++) {
    const size = rowSize(d, r);
    let best = Infinity;
    let bestKeep = 0;
    for (let keep = 0; keep <= size; keep++) {
      const v = rowError(d, r, keep) + lambda * keep;
      if (v < best) {
        best = v;
        bestKeep = keep;
      }
    }
    err += rowError(d, r, bestKeep);
    l0 += bestKeep;
  }
  return { l0: l0 / rows, fvu: err / variance };
}

/** FVU on the Lagrangian frontier at mean L0 = target (bisection on λ, linear between the two ends). */
function atL0(d: Code, target: number): number {
  let lo = 0; // λ = 0: every atom kept (highest L0)
  let hi = 100;
  for (let it = 0; it < 60; it++) {
    const mid = (lo + hi) / 2;
    if (atLambda(d, mid).l0 > target) lo = mid;
    else hi = mid;
  }
  const a = atLambda(d, lo);
  const b = atLambda(d, hi);
  if (a.l0 === b.l0) return a.fvu;
  return b.fvu + ((a.fvu - b.fvu) * (target - b.l0)) / (a.l0 - b.l0);
}

// The true dictionary as a tied TopK SAE (matched filter, no biases): an SAE encoder's view of it.
function matchedFilterTopK(k: number): { l0: number; fvu: number } {
  const acc = new ReconstructionAccumulator(dIn);
  const n = spec.nFeatures;
  const xhAll = new Float32Array(rows * dIn);
  const pre = new Float64Array(n);
  for (let r = 0; r < rows; r++) {
    const x = xs[r];
    for (let f = 0; f < n; f++) {
      let s = 0;
      for (let j = 0; j < dIn; j++) s += D[f * dIn + j] * x[j];
      pre[f] = s;
    }
    const top = Array.from(pre.keys()).sort((a, b) => pre[b] - pre[a]).slice(0, k);
    for (const f of top) if (pre[f] > 0) for (let j = 0; j < dIn; j++) xhAll[r * dIn + j] += pre[f] * D[f * dIn + j];
  }
  const xAll = new Float32Array(rows * dIn);
  xs.forEach((x, r) => xAll.set(x, r * dIn));
  acc.add({ data: xAll, rows, cols: dIn }, { data: xhAll, rows, cols: dIn });
  return { l0: k, fvu: acc.fvu() };
}

const trueL0 = truth.expectedL0;
const f4 = (v: number) => v.toFixed(4);
console.log(`toy: ${rows} held-out rows, true L0 ${trueL0.toFixed(2)} (expected), Σ‖x − x̄‖²/row ${(variance / rows).toFixed(3)}`);
console.log('| dictionary | atoms | ideal encoder: L0 | FVU | per-row k 5: L0 | FVU | frontier FVU at L0 4.5 | at 5.0 | at 5.37 |');
console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
const atomCount: Record<Dictionary, number> = { members: spec.nFeatures, sums: spec.nFeatures - grouped + (spec.groupCount ?? 0), subsets: spec.nFeatures - grouped + (spec.groupCount ?? 0) * (2 ** groupSize - 1) };
for (const d of [...dicts, 'mixed'] as const) {
  const full = atLambda(d, 0);
  const k5 = atBudget(d, 5);
  console.log(`| ${d} | ${atomCount[d === 'mixed' ? 'subsets' : d]} | ${full.l0.toFixed(2)} | ${f4(full.fvu)} | ${k5.l0.toFixed(2)} | ${f4(k5.fvu)} | ${f4(atL0(d, 4.5))} | ${f4(atL0(d, 5))} | ${f4(atL0(d, 5.37))} |`);
}
const mf = matchedFilterTopK(5);
console.log(`true dictionary as a tied TopK SAE (matched filter, k 5): L0 ${mf.l0}, FVU ${f4(mf.fvu)}`);
