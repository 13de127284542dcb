// The project's toy with a known dictionary, shared by the synthetic benches: its spec, its held-out
// evaluation stream, and the normalised sums of each correlated group's member directions.
import { SyntheticSource, type SyntheticSpec } from '../src/core/train/syntheticData';
import { ReconstructionAccumulator } from '../src/core/metrics/reconstruction';
import type { Matrix, SparseRows } from '../src/core/tensor';

export const TOY_SPEC = {
  dIn: 64,
  nFeatures: 512,
  firingProb: 0.01,
  groupCount: 16,
  groupSize: 4,
  groupProb: 0.02,
  memberProb: 0.75,
  magnitudeStd: 0.3,
  noiseStd: 0.02,
  seed: 1,
} satisfies SyntheticSpec;

/** Held-out rows: the same dictionary, a stream state the training runs never reach. */
export const EVAL_BATCHES = 8;
export const EVAL_BATCH_ROWS = 4096;

export function evalSource(spec: SyntheticSpec = TOY_SPEC): SyntheticSource {
  const s = new SyntheticSource(spec);
  s.setState([11, 22, 33, 44]);
  return s;
}

/** Unit vector along Σ of the given features' directions. */
export function normalisedSum(dictionary: Float32Array, dIn: number, features: readonly number[]): Float32Array {
  const v = new Float32Array(dIn);
  for (const f of features) for (let j = 0; j < dIn; j++) v[j] += dictionary[f * dIn + j];
  let s2 = 0;
  for (let j = 0; j < dIn; j++) s2 += v[j] * v[j];
  const inv = 1 / Math.sqrt(s2);
  for (let j = 0; j < dIn; j++) v[j] *= inv;
  return v;
}

/** [groupCount, dIn]: each group's normalised member sum. */
export function groupSumDirections(truth: SyntheticSource): Float32Array {
  const { groupCount = 0, groupSize = 0, dIn } = truth.spec;
  const out = new Float32Array(groupCount * dIn);
  for (let g = 0; g < groupCount; g++) {
    const members = Array.from({ length: groupSize }, (_, m) => g * groupSize + m);
    out.set(normalisedSum(truth.dictionary, dIn, members), g * dIn);
  }
  return out;
}

export interface HeldOutScore {
  readonly l0: number;
  readonly fvu: number;
  /** Latents that never fire on the held-out rows. */
  readonly dead: number;
  /** Latents firing on more than 10 % of them. */
  readonly dense: number;
}

/** L0, FVU, dead and dense of a trained SAE on the toy's held-out rows (the same rows for every run). */
export function heldOutScore(
  sae: { forward(x: Matrix): { features: SparseRows; reconstruction: Matrix } },
  dSae: number,
  spec: SyntheticSpec = TOY_SPEC,
): HeldOutScore {
  const heldOut = evalSource(spec);
  const acc = new ReconstructionAccumulator(spec.dIn);
  const fires = new Float64Array(dSae);
  let active = 0;
  let rows = 0;
  for (let b = 0; b < EVAL_BATCHES; b++) {
    const x = heldOut.nextBatch(EVAL_BATCH_ROWS);
    const { features, reconstruction } = sae.forward(x);
    acc.add(x, reconstruction);
    for (let e = 0; e < features.colIdx.length; e++) fires[features.colIdx[e]]++;
    active += features.colIdx.length;
    rows += x.rows;
  }
  return {
    l0: active / rows,
    fvu: acc.fvu(),
    dead: fires.filter((v) => v === 0).length,
    dense: fires.filter((v) => v / rows > 0.1).length,
  };
}
