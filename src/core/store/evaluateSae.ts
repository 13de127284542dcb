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
  /** dOut: a transcoder's output width (its prediction is compared with another site). */
  readonly config: { readonly dIn: number; readonly dSae: number; readonly dOut?: number };
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

  /** Reconstructs `x` (a transcoder: predicts `target`), records its metrics and returns the output. */
  add(x: Matrix, target: Matrix = x): Matrix {
    const { features, reconstruction } = this.sae.forward(x);
    this.recon.add(target, reconstruction);
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
/**
 * Reconstruction and sparsity metrics over the first `rows` rows of a source. NaN/Inf rows are skipped.
 * A transcoder needs `target`: the output site's rows, in the same order, its prediction is compared with.
 */
export function evaluateOnActivations(sae: EvaluatedSae, source: ActivationSource, rows: number, batch = 4096, signal?: AbortSignal, target?: ActivationSource): SaeEvaluation {
  checkWidth(sae, source.dIn, 'the activation data');
  const outWidth = sae.config.dOut ?? sae.config.dIn;
  if (sae.config.dOut !== undefined && !target) throw new Error("a transcoder's prediction is compared with its output site: give that site's activations too");
  if (target && target.dIn !== outWidth) throw new Error(`the SAE writes width ${outWidth} but the output activations have width ${target.dIn}`);
  const tally = new Tally(outWidth, sae);
  for (let done = 0; done < rows; ) {
    throwIfAborted(signal);
    const n = Math.min(batch, rows - done);
    const x = source.nextBatch(n);
    if (target) {
      const y = target.nextBatch(n);
      const keep = finiteRows(x, y);
      tally.add(pickRows(x, keep), pickRows(y, keep));
    } else {
      tally.add(pickRows(x, finiteRows(x)));
    }
    done += n;
  }
  return tally.result();
}

/** Rows whose values are all finite in every matrix given. */
function finiteRows(...ms: Matrix[]): number[] {
  const keep: number[] = [];
  for (let r = 0; r < ms[0].rows; r++) {
    let ok = true;
    for (const m of ms) for (let j = 0; j < m.cols && ok; j++) ok = Number.isFinite(m.data[r * m.cols + j]);
    if (ok) keep.push(r);
  }
  return keep;
}

function pickRows(x: Matrix, keep: number[]): Matrix {
  if (keep.length === x.rows) return x;
  const d = x.cols;
  const data = new Float32Array(keep.length * d);
  keep.forEach((r, i) => data.set(x.data.subarray(r * d, (r + 1) * d), i * d));
  return { data, rows: keep.length, cols: d };
}


export interface ModelEvalOptions {
  /**
   * Transcoders: the site the SAE reads. Its activations are encoded, and the prediction is compared with
   * and spliced into `site` (the output site). Without it the SAE reads and writes `site`.
   */
  readonly inputSite?: string;
  readonly batchWindows?: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (windowsDone: number, windows: number) => void;
}

/** All metrics, including clean / spliced / zero-ablated cross-entropy and KL, over `windows`. */
export async function evaluateOnModel(sae: EvaluatedSae, lm: LanguageModel, site: string, windows: TokenWindows, options: ModelEvalOptions = {}): Promise<SaeEvaluation> {
  const dim = lm.sites().find((s) => s.name === site)?.dim;
  if (dim === undefined) throw new Error(`unknown hook site "${site}"`);
  const inputSite = options.inputSite ?? site;
  const inDim = lm.sites().find((s) => s.name === inputSite)?.dim;
  if (inDim === undefined) throw new Error(`unknown hook site "${inputSite}"`);
  checkWidth(sae, inDim, inputSite);
  const outWidth = sae.config.dOut ?? sae.config.dIn;
  if (outWidth !== dim) throw new Error(`the SAE writes width ${outWidth} but ${site} has width ${dim}`);
  const T = windows.length;
  const tally = new Tally(dim, sae);
  const sequences = Array.from({ length: windows.count }, (_, w) => windows.ids.subarray(w * T, (w + 1) * T));
  // A transcoder: each spliced batch first reads the input site of the same sequences.
  let inputs: Matrix[] = [];
  const spliceModel: Pick<LanguageModel, 'logits' | 'spliced'> =
    inputSite === site
      ? lm
      : {
          logits: (batch) => lm.logits(batch),
          spliced: async (batch, at, edit) => {
            inputs = (await lm.activations(batch, [inputSite])).get(inputSite)!;
            return lm.spliced(batch, at, (acts, index) => {
              current = inputs[index];
              return edit(acts, index);
            });
          },
        };
  let current: Matrix | undefined;
  const reconstruct = (acts: Matrix): Matrix => {
    if (inputSite === site) return tally.add(acts);
    // splicedLoss hands over the rows after the kept leading ones: take the same rows of the input.
    const x = current!;
    const from = x.rows - acts.rows;
    return tally.add({ data: x.data.subarray(from * x.cols), rows: acts.rows, cols: x.cols }, acts);
  };
  // Position 0 is BOS-like: left unspliced, and its prediction (identical in all three runs) is not scored.
  const loss = await splicedLoss(spliceModel, sequences, site, reconstruct, {
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
