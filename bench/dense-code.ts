// How much of an SAE's reconstruction its dense latents carry (docs/training.md §5e): on held-out
// activation rows, the latents firing on more than --dense of the rows, the L0 they take, the share of
// the variance in their summed decoder contributions (the "dense part"), how many principal components
// that part spans, and the FVU when it is zeroed or replaced by its mean (folded into b_dec).
//
//   npx tsx bench/dense-code.ts --sae <folder> --acts heldout.npy [--tokens 120000] [--dense 0.1] [--json]
//
// Any format `feature-lens eval` reads. The plain FVU printed here is the one `feature-lens eval --acts`
// gives on the same rows.
import { openSae } from '../src/core/formats/open-sae';
import { openNpySource } from '../src/core/store/sources';
import type { Matrix } from '../src/core/tensor';
import { withValues } from '../src/core/tensor';
import { flag, required } from './cliFlags';


/** Eigenvalues of a symmetric n×n matrix (row-major, overwritten) by cyclic Jacobi rotations. */
export function symmetricEigenvalues(a: Float64Array, n: number): number[] {
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += a[p * n + q] * a[p * n + q];
    let diag = 0;
    for (let p = 0; p < n; p++) diag += a[p * n + p] * a[p * n + p];
    if (off <= 1e-24 * diag) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q];
        if (apq === 0) continue;
        const theta = (a[q * n + q] - a[p * n + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          // columns p and q
          const akp = a[k * n + p];
          const akq = a[k * n + q];
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          // rows p and q
          const apk = a[p * n + k];
          const aqk = a[q * n + k];
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
      }
    }
  }
  return Array.from({ length: n }, (_, i) => a[i * n + i]);
}

const saePath = required('sae');
const actsPath = required('acts');
const tokens = Number(flag('tokens', '120000'));
const denseRate = Number(flag('dense', '0.1'));
const batch = 4096;

const { sae } = openSae(saePath);
const source = openNpySource(actsPath, { shuffle: false });
const n = Math.min(tokens, source.rows);
const d = sae.dIn;
if (sae.isTranscoder) throw new Error('dense-code: SAEs only (a transcoder predicts another site)');

// Pass 1: encode every row once (kept: 120 k rows × d 128 is 61 MB), firing counts and the data's variance.
const batches: { x: Matrix; encoded: ReturnType<typeof sae.encode> }[] = [];
const fires = new Float64Array(sae.dSae);
const sum = new Float64Array(d);
let sumSq = 0;
for (let done = 0; done < n; ) {
  const x = source.nextBatch(Math.min(batch, n - done));
  const encoded = sae.encode(x);
  for (const j of encoded.features.colIdx) fires[j]++;
  for (let i = 0; i < x.data.length; i++) {
    sum[i % d] += x.data[i];
    sumSq += x.data[i] * x.data[i];
  }
  batches.push({ x, encoded });
  done += x.rows;
}
source.close();
let meanSq = 0;
for (let i = 0; i < d; i++) meanSq += (sum[i] / n) ** 2;
const totalVariance = sumSq - n * meanSq;
const isDense = Array.from(fires, (f) => f / n > denseRate);

// Pass 2: the full reconstruction and the one without the dense latents; their difference is the dense part.
let sse = 0;
let sseZeroed = 0;
const sumResidual = new Float64Array(d); // Σ (x − x̂ without the dense latents)
const sumDense = new Float64Array(d);
const cross = new Float64Array(d * d); // Σ D Dᵀ
let l0 = 0;
let l0Dense = 0;
for (const { x, encoded } of batches) {
  const f = encoded.features;
  const sparseOnly = f.values.slice();
  for (let e = 0; e < f.colIdx.length; e++) {
    if (isDense[f.colIdx[e]]) {
      sparseOnly[e] = 0;
      l0Dense++;
    }
  }
  l0 += f.colIdx.length;
  const full = sae.decode(encoded, x).data;
  const without = sae.decode({ ...encoded, features: withValues(f, sparseOnly) }, x).data;
  const dense = new Float64Array(d);
  for (let r = 0; r < x.rows; r++) {
    for (let i = 0; i < d; i++) {
      const k = r * d + i;
      sse += (x.data[k] - full[k]) ** 2;
      const res = x.data[k] - without[k];
      sseZeroed += res * res;
      sumResidual[i] += res;
      dense[i] = full[k] - without[k];
      sumDense[i] += dense[i];
    }
    for (let i = 0; i < d; i++) for (let j = i; j < d; j++) cross[i * d + j] += dense[i] * dense[j];
  }
}
// Dense part replaced by its mean c: Σ‖r − c‖² = Σ‖r‖² − 2c·Σr + n‖c‖², r = x − x̂ without the dense latents.
let sseConstant = sseZeroed;
const cov = new Float64Array(d * d);
for (let i = 0; i < d; i++) {
  const c = sumDense[i] / n;
  sseConstant += -2 * c * sumResidual[i] + n * c * c;
  for (let j = i; j < d; j++) cov[i * d + j] = cov[j * d + i] = cross[i * d + j] - (sumDense[i] * sumDense[j]) / n;
}
const eig = symmetricEigenvalues(cov, d)
  .map((v) => Math.max(0, v))
  .sort((a, b) => b - a);
const denseVariance = eig.reduce((a, b) => a + b, 0);
let acc = 0;
const cumulative = eig.map((v) => (acc += v) / (denseVariance || 1));
const componentsFor = (share: number): number => cumulative.findIndex((c) => c >= share) + 1;
const rates = fires
  .map((f) => f / n)
  .filter((r) => r > denseRate)
  .sort((a, b) => b - a);

const result = {
  sae: saePath,
  rows: n,
  fvu: sse / totalVariance,
  l0: l0 / n,
  dead: fires.filter((f) => f === 0).length,
  dense: rates.length,
  denseRates: rates.map((r) => +r.toFixed(3)),
  l0OnDense: l0Dense / n,
  denseVarianceShare: denseVariance / totalVariance,
  denseComponentsFor90: rates.length > 0 ? componentsFor(0.9) : 0,
  denseComponentsFor99: rates.length > 0 ? componentsFor(0.99) : 0,
  fvuDenseAsConstant: sseConstant / totalVariance,
  fvuDenseZeroed: sseZeroed / totalVariance,
};
if (process.argv.includes('--json')) {
  process.stdout.write(JSON.stringify(result, null, 2) + '\n');
} else {
  const f = (v: number) => v.toFixed(4);
  process.stdout.write(
    [
      `${saePath}: ${n} rows, FVU ${f(result.fvu)}, L0 ${result.l0.toFixed(2)}, dead ${result.dead}, dense (> ${100 * denseRate} %) ${result.dense}`,
      `dense latents' firing rates: ${result.denseRates.join(', ') || '–'}`,
      `L0 on dense latents ${result.l0OnDense.toFixed(2)}; variance share of the dense part ${(100 * result.denseVarianceShare).toFixed(1)} %, ` +
        `${result.denseComponentsFor90} principal components for 90 % of it (${result.denseComponentsFor99} for 99 %)`,
      `FVU with the dense part as a constant ${f(result.fvuDenseAsConstant)}, zeroed ${f(result.fvuDenseZeroed)}`,
    ].join('\n') + '\n',
  );
}
