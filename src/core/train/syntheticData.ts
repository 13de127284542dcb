// Synthetic activations with a known dictionary: sparse, positive combinations of random unit directions
// (some firing in correlated groups) plus a little noise. Used to test that SAEs recover true features.
import type { Matrix } from '../tensor';
import { Rng, type RngState } from '../util/rng';
import type { DataSource } from './dataSource';

export interface SyntheticSpec {
  readonly dIn: number;
  readonly nFeatures: number;
  /** Mean firing probability of an independent feature (each gets 0.5×–1.5× of it). */
  readonly firingProb: number;
  /** The first groupCount·groupSize features fire in groups: a group event, then each member with memberProb. */
  readonly groupCount?: number;
  readonly groupSize?: number;
  readonly groupProb?: number;
  readonly memberProb?: number;
  /** Magnitudes ~ max(minMagnitude, 1 + magnitudeStd·N(0,1)). */
  readonly magnitudeStd?: number;
  readonly noiseStd?: number;
  readonly seed: number;
}

/** One active true feature of a synthetic row: its index and magnitude (the row is Σ magnitude·direction + noise). */
export interface TrueCode {
  readonly feature: number;
  readonly magnitude: number;
}

export class SyntheticSource implements DataSource {
  readonly dIn: number;
  /** True directions, [nFeatures, dIn], unit rows. */
  readonly dictionary: Float32Array;
  readonly probs: Float64Array;
  private readonly rng: Rng;
  private readonly pMax: number;
  private readonly grouped: number;

  constructor(readonly spec: SyntheticSpec) {
    this.dIn = spec.dIn;
    const setup = new Rng(spec.seed);
    const n = spec.nFeatures;
    this.dictionary = new Float32Array(n * spec.dIn);
    for (let f = 0; f < n; f++) {
      let s = 0;
      for (let j = 0; j < spec.dIn; j++) {
        const v = setup.normal();
        this.dictionary[f * spec.dIn + j] = v;
        s += v * v;
      }
      const inv = 1 / Math.sqrt(s);
      for (let j = 0; j < spec.dIn; j++) this.dictionary[f * spec.dIn + j] *= inv;
    }
    this.grouped = (spec.groupCount ?? 0) * (spec.groupSize ?? 0);
    if (this.grouped > n) throw new Error('synthetic: more grouped features than features');
    this.probs = new Float64Array(n);
    for (let f = 0; f < n; f++) {
      this.probs[f] = f < this.grouped ? (spec.groupProb ?? 0) * (spec.memberProb ?? 1) : spec.firingProb * (0.5 + setup.next());
    }
    this.pMax = spec.firingProb * 1.5;
    this.rng = new Rng(spec.seed ^ 0x5bd1e995);
  }

  /** Expected number of active true features per row. */
  get expectedL0(): number {
    let s = 0;
    for (const p of this.probs) s += p;
    return s;
  }

  private magnitude(): number {
    return Math.max(0.1, 1 + (this.spec.magnitudeStd ?? 0.3) * this.rng.normal());
  }

  nextBatch(rows: number): Matrix {
    return this.generate(rows);
  }

  /**
   * The next rows together with their true codes: which features are active in each row and with what
   * magnitude (before noise). Draws exactly what nextBatch would, so the stream is the same.
   */
  nextBatchWithCodes(rows: number): { x: Matrix; codes: TrueCode[][] } {
    const codes: TrueCode[][] = [];
    const x = this.generate(rows, codes);
    return { x, codes };
  }

  private generate(rows: number, codes?: TrueCode[][]): Matrix {
    const { dIn, nFeatures } = this.spec;
    const out = new Float32Array(rows * dIn);
    const noise = this.spec.noiseStd ?? 0;
    const groupSize = this.spec.groupSize ?? 0;
    const logQ = Math.log(1 - this.pMax);
    let rowCode: TrueCode[] = [];
    const addFeature = (base: number, f: number): void => {
      const m = this.magnitude();
      const d = f * dIn;
      for (let j = 0; j < dIn; j++) out[base + j] += m * this.dictionary[d + j];
      if (codes) rowCode.push({ feature: f, magnitude: m });
    };
    for (let r = 0; r < rows; r++) {
      const base = r * dIn;
      rowCode = [];
      for (let g = 0; g < (this.spec.groupCount ?? 0); g++) {
        if (this.rng.next() >= (this.spec.groupProb ?? 0)) continue;
        for (let i = 0; i < groupSize; i++) {
          if (this.rng.next() < (this.spec.memberProb ?? 1)) addFeature(base, g * groupSize + i);
        }
      }
      // Independent features: geometric skips at pMax, then thinning to each feature's own probability.
      let f = this.grouped - 1;
      for (;;) {
        f += 1 + Math.floor(Math.log(1 - this.rng.next()) / logQ);
        if (f >= nFeatures) break;
        if (this.rng.next() * this.pMax < this.probs[f]) addFeature(base, f);
      }
      if (noise > 0) for (let j = 0; j < dIn; j++) out[base + j] += noise * this.rng.normal();
      codes?.push(rowCode);
    }
    return { data: out, rows, cols: dIn };
  }

  getState(): RngState {
    return this.rng.getState();
  }

  setState(state: unknown): void {
    this.rng.setState(state as RngState);
  }
}

/**
 * For each true direction, the best cosine with any learned decoder row; returns the mean and the fraction
 * above `threshold`. learned: [dSae, dIn] rows (any norm); truth: [nTrue, dIn] unit rows.
 */
export function dictionaryRecovery(
  learned: Float32Array,
  dSae: number,
  truth: Float32Array,
  nTrue: number,
  dIn: number,
  threshold = 0.9,
): { meanMaxCos: number; fractionAbove: number; maxCos: Float64Array } {
  const norms = new Float64Array(dSae);
  for (let i = 0; i < dSae; i++) {
    let s = 0;
    for (let j = 0; j < dIn; j++) s += learned[i * dIn + j] ** 2;
    norms[i] = Math.sqrt(s) || 1;
  }
  const maxCos = new Float64Array(nTrue);
  for (let t = 0; t < nTrue; t++) {
    let best = -1;
    for (let i = 0; i < dSae; i++) {
      let dot = 0;
      for (let j = 0; j < dIn; j++) dot += learned[i * dIn + j] * truth[t * dIn + j];
      const c = dot / norms[i];
      if (c > best) best = c;
    }
    maxCos[t] = best;
  }
  let sum = 0;
  let above = 0;
  for (const c of maxCos) {
    sum += c;
    if (c > threshold) above++;
  }
  return { meanMaxCos: sum / nTrue, fractionAbove: above / nTrue, maxCos };
}
