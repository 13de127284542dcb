// Evaluating an SAE with the shared metrics: reconstruction (MSE, FVU, explained variance), sparsity
// (L0, dead, dense, density histogram) over activation rows, and — given the model and token windows —
// the spliced next-token loss: the SAE's reconstruction put in place of the site's activation.
// Position 0 of each window is left unspliced and unscored, as in training (it is BOS-like). The LM-loss
// numbers come from metrics/splicedLoss, the same code everywhere.
import { ReconstructionAccumulator } from '../metrics/reconstruction';
import { densityHistogram, denseFraction, FiringTracker, type DensityHistogram } from '../metrics/sparsity';
import { splicedLoss } from '../metrics/splicedLoss';
import type { LanguageModel } from '../runtime/types';
import type { Matrix, SparseRows } from '../tensor';
import { throwIfAborted } from '../util/abort';
import type { ActivationSource } from './types';
import type { TokenWindows } from './windows';

export interface SaeEvaluation {
  readonly tokens: number;
  readonly mse: number;
  readonly perDimMse: number;
  readonly fvu: number;
  readonly explainedVariance: number;
  readonly l0: number;
  readonly deadFeatures: number;
  readonly denseFeatures: number;
  readonly dSae: number;
  readonly densityHistogram: DensityHistogram;
  /** Present when evaluated through the model. CE in nats per predicted token. */
  readonly lm?: {
    readonly ceClean: number;
    readonly ceSpliced: number;
    readonly ceZeroAblated: number;
    readonly deltaLoss: number;
    readonly lossRecovered: number;
    readonly klCleanSpliced: number;
    readonly predictedTokens: number;
  };
}

/**
 * What evaluation needs of an SAE: its sizes and one forward pass. Both a training model (src/core/sae) and
 * a loaded SAE (InferenceSae, from src/core/formats/open-sae.ts) provide it.
 */
export interface EvaluatedSae {
  readonly config: { readonly dIn: number; readonly dSae: number };
  forward(x: Matrix): { readonly features: SparseRows; readonly reconstruction: Matrix };
}

class Tally {
  readonly recon: ReconstructionAccumulator;
  readonly firing: FiringTracker;
  private activeSum = 0;

  constructor(
    dIn: number,
    private readonly sae: EvaluatedSae,
  ) {
    this.recon = new ReconstructionAccumulator(dIn);
    this.firing = new FiringTracker(sae.config.dSae);
  }

  /** Reconstructs `x`, records its metrics and returns x̂. */
  add(x: Matrix): Matrix {
    const { features, reconstruction } = this.sae.forward(x);
    this.recon.add(x, reconstruction);
    this.firing.add(features);
    for (let e = 0; e < features.values.length; e++) if (features.values[e] > 0) this.activeSum++;
    return reconstruction;
  }

  result(): Omit<SaeEvaluation, 'lm'> {
    const freqs = this.firing.frequencies();
    let dead = 0;
    for (const f of freqs) if (!(f > 0)) dead++;
    const n = this.recon.count;
    return {
      tokens: n,
      mse: this.recon.mse(),
      perDimMse: this.recon.perDimMse(),
      fvu: this.recon.fvu(),
      explainedVariance: this.recon.explainedVariance(),
      l0: n > 0 ? this.activeSum / n : Number.NaN,
      deadFeatures: dead,
      denseFeatures: Math.round(denseFraction(freqs) * freqs.length),
      dSae: this.sae.config.dSae,
      densityHistogram: densityHistogram(freqs),
    };
  }
}

function checkWidth(sae: EvaluatedSae, d: number, where: string): void {
  if (sae.config.dIn !== d) throw new Error(`the SAE reads d_in ${sae.config.dIn} but ${where} has width ${d}`);
}

/** Reconstruction and sparsity metrics over the first `rows` rows of a source. NaN/Inf rows are skipped. */
export function evaluateOnActivations(sae: EvaluatedSae, source: ActivationSource, rows: number, batch = 4096, signal?: AbortSignal): SaeEvaluation {
  checkWidth(sae, source.dIn, 'the activation data');
  const tally = new Tally(source.dIn, sae);
  for (let done = 0; done < rows; ) {
    throwIfAborted(signal);
    const n = Math.min(batch, rows - done);
    tally.add(finiteOnly(source.nextBatch(n)));
    done += n;
  }
  return tally.result();
}

function finiteOnly(x: Matrix): Matrix {
  const d = x.cols;
  const keep: number[] = [];
  for (let r = 0; r < x.rows; r++) {
    let ok = true;
    for (let j = 0; j < d && ok; j++) ok = Number.isFinite(x.data[r * d + j]);
    if (ok) keep.push(r);
  }
  if (keep.length === x.rows) return x;
  const data = new Float32Array(keep.length * d);
  keep.forEach((r, i) => data.set(x.data.subarray(r * d, (r + 1) * d), i * d));
  return { data, rows: keep.length, cols: d };
}

export interface ModelEvalOptions {
  readonly batchWindows?: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (windowsDone: number, windows: number) => void;
}

/** All metrics, including clean / spliced / zero-ablated cross-entropy and KL, over `windows`. */
export async function evaluateOnModel(sae: EvaluatedSae, lm: LanguageModel, site: string, windows: TokenWindows, options: ModelEvalOptions = {}): Promise<SaeEvaluation> {
  const dim = lm.sites().find((s) => s.name === site)?.dim;
  if (dim === undefined) throw new Error(`unknown hook site "${site}"`);
  checkWidth(sae, dim, site);
  const T = windows.length;
  const tally = new Tally(dim, sae);
  const sequences = Array.from({ length: windows.count }, (_, w) => windows.ids.subarray(w * T, (w + 1) * T));
  // Position 0 is BOS-like: left unspliced, and its prediction (identical in all three runs) is not scored.
  const loss = await splicedLoss(lm, sequences, site, (acts) => tally.add(acts), {
    batchSize: options.batchWindows,
    keepLeading: 1,
    signal: options.signal,
    onProgress: options.onProgress,
  });
  return {
    ...tally.result(),
    lm: {
      ceClean: loss.ceClean,
      ceSpliced: loss.ceSpliced,
      ceZeroAblated: loss.ceZero,
      deltaLoss: loss.deltaLoss,
      lossRecovered: loss.lossRecovered,
      klCleanSpliced: loss.klCleanSpliced,
      predictedTokens: loss.predictedTokens,
    },
  };
}
