// Spliced language-model loss: how much worse the model predicts the next token when the activations at a
// hook site are replaced by a reconstruction (an SAE's, typically). Definitions (sae-methods.md §3):
//   CE over predicted positions: position t predicts token t+1, so the first token is never scored.
//   ΔLM loss       = CE(reconstruction spliced in) − CE(clean)
//   loss recovered = (CE_zero − CE_spliced) / (CE_zero − CE_clean), CE_zero with the site zero-ablated
//   KL(clean ‖ spliced) of the next-token distributions, averaged over the same positions.
// The reconstruction is applied to every position of each sequence; the callback decides what it does
// (e.g. keep row 0 to leave a BOS position alone). Cross-entropies are token-weighted means over all sequences.
import { crossEntropySum, rowKl } from '../runtime/loss';
import type { LanguageModel } from '../runtime/types';
import { matrix, type Matrix } from '../tensor';

export type Reconstruct = (acts: Matrix) => Matrix;

export interface SplicedLossOptions {
  /** Sequences per forward pass (default 8). */
  readonly batchSize?: number;
  readonly signal?: AbortSignal;
  /** Called after each batch with the number of sequences done. */
  readonly onProgress?: (done: number, total: number) => void;
}

export interface SplicedLossResult {
  readonly site: string;
  readonly sequences: number;
  /** Positions scored (Σ (len − 1)). */
  readonly predictedTokens: number;
  readonly ceClean: number;
  readonly ceSpliced: number;
  readonly ceZero: number;
  /** ceSpliced − ceClean (nats per token). */
  readonly deltaLoss: number;
  /** (ceZero − ceSpliced) / (ceZero − ceClean); NaN when zero-ablation does not change the loss. */
  readonly lossRecovered: number;
  /** Mean KL(clean ‖ spliced) per predicted position (nats). */
  readonly klCleanSpliced: number;
}

type SpliceModel = Pick<LanguageModel, 'logits' | 'spliced'>;

export async function splicedLoss(
  lm: SpliceModel,
  sequences: readonly Int32Array[],
  site: string,
  reconstruct: Reconstruct,
  opts: SplicedLossOptions = {},
): Promise<SplicedLossResult> {
  const batchSize = Math.max(1, opts.batchSize ?? 8);
  const scored = sequences.filter((s) => s.length >= 2);
  if (scored.length === 0) throw new Error('splicedLoss: no sequence has two or more tokens, so nothing is predicted');
  let clean = 0;
  let spliced = 0;
  let zero = 0;
  let kl = 0;
  let count = 0;
  for (let i = 0; i < scored.length; i += batchSize) {
    opts.signal?.throwIfAborted();
    const batch = scored.slice(i, i + batchSize);
    const cleanLogits = await lm.logits(batch);
    const withRecon = await lm.spliced(batch, site, (acts) => {
      const r = reconstruct(acts);
      if (r.rows !== acts.rows || r.cols !== acts.cols) {
        throw new Error(`splicedLoss: the reconstruction at ${site} is ${r.rows}×${r.cols}, the activations ${acts.rows}×${acts.cols}`);
      }
      return r;
    });
    const ablated = await lm.spliced(batch, site, (acts) => matrix(acts.rows, acts.cols));
    batch.forEach((ids, b) => {
      const c = crossEntropySum(cleanLogits[b], ids);
      clean += c.sum;
      count += c.count;
      spliced += crossEntropySum(withRecon.logits[b], ids).sum;
      zero += crossEntropySum(ablated.logits[b], ids).sum;
      // Rows 0..n−2 are the distributions over the predicted tokens 1..n−1.
      const rows = ids.length - 1;
      const klRows = rowKl(sliceRows(cleanLogits[b], rows), sliceRows(withRecon.logits[b], rows));
      for (const v of klRows) kl += v;
    });
    opts.onProgress?.(Math.min(i + batchSize, scored.length), scored.length);
  }
  const ceClean = clean / count;
  const ceSpliced = spliced / count;
  const ceZero = zero / count;
  const denom = ceZero - ceClean;
  return {
    site,
    sequences: scored.length,
    predictedTokens: count,
    ceClean,
    ceSpliced,
    ceZero,
    deltaLoss: ceSpliced - ceClean,
    lossRecovered: Math.abs(denom) < 1e-12 ? NaN : (ceZero - ceSpliced) / denom,
    klCleanSpliced: kl / count,
  };
}

function sliceRows(m: Matrix, rows: number): Matrix {
  return { data: m.data.subarray(0, rows * m.cols), rows, cols: m.cols };
}
