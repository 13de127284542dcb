// Spliced language-model loss: how much worse the model predicts the next token when the activations at a
// hook site are replaced by a reconstruction (an SAE's, typically). Definitions:
//   CE over predicted positions: position t predicts token t+1, so the first token is never scored.
//   ΔLM loss       = CE(reconstruction spliced in) − CE(clean)
//   loss recovered = (CE_zero − CE_spliced) / (CE_zero − CE_clean), CE_zero with the site zero-ablated
//   KL(clean ‖ spliced) of the next-token distributions at every spliced position (the last position has no
//   label for CE but still has a next-token distribution).
// `keepLeading` positions of each sequence (e.g. a BOS-like first token) are neither spliced nor ablated, and
// their predictions are not scored. Cross-entropies are token-weighted means over all sequences.
// This is the one implementation used by the CLI, the worker and the UI (through evaluateOnModel).
import { rowKl, tokenCrossEntropy } from '../runtime/loss';
import type { LanguageModel } from '../runtime/types';
import type { Matrix } from '../tensor';
import { throwIfAborted } from '../util/abort';

/** Maps the site's activations (rows of the spliced positions) to what replaces them (same shape). */
export type Reconstruct = (acts: Matrix) => Matrix;

export interface SplicedLossOptions {
  /** Sequences per forward pass (default 8). */
  readonly batchSize?: number;
  /** Leading positions of each sequence left as they are and not scored (default 0). */
  readonly keepLeading?: number;
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
  /** Mean KL(clean ‖ spliced) per spliced position (nats). */
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
  const keep = Math.max(0, opts.keepLeading ?? 0);
  const scored = sequences.filter((s) => s.length >= keep + 2);
  if (scored.length === 0) throw new Error('splicedLoss: no sequence has two or more scored tokens, so nothing is predicted');
  const spliceFrom = (acts: Matrix, replace: (tail: Matrix) => Matrix): Matrix => {
    const tail = replace(tailRows(acts, keep));
    if (tail.rows !== acts.rows - keep || tail.cols !== acts.cols) {
      throw new Error(`splicedLoss: the reconstruction at ${site} is ${tail.rows}×${tail.cols}, the activations ${acts.rows - keep}×${acts.cols}`);
    }
    if (keep === 0) return tail;
    const out = acts.data.slice();
    out.set(tail.data, keep * acts.cols);
    return { data: out, rows: acts.rows, cols: acts.cols };
  };
  let clean = 0;
  let spliced = 0;
  let zero = 0;
  let kl = 0;
  let count = 0;
  let klCount = 0;
  for (let i = 0; i < scored.length; i += batchSize) {
    throwIfAborted(opts.signal);
    const batch = scored.slice(i, i + batchSize);
    const cleanLogits = await lm.logits(batch);
    const withRecon = await lm.spliced(batch, site, (acts) => spliceFrom(acts, reconstruct));
    const ablated = await lm.spliced(batch, site, (acts) => spliceFrom(acts, (t) => ({ data: new Float32Array(t.data.length), rows: t.rows, cols: t.cols })));
    batch.forEach((ids, b) => {
      // Entry t of the per-token CE is the prediction made at position t.
      const c = tokenCrossEntropy(cleanLogits[b], ids);
      const s = tokenCrossEntropy(withRecon.logits[b], ids);
      const z = tokenCrossEntropy(ablated.logits[b], ids);
      for (let t = keep; t < c.length; t++) {
        clean += c[t];
        spliced += s[t];
        zero += z[t];
        count++;
      }
      for (const v of rowKl(cleanLogits[b], withRecon.logits[b], keep)) {
        kl += v;
        klCount++;
      }
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
    klCleanSpliced: kl / klCount,
  };
}

function tailRows(m: Matrix, from: number): Matrix {
  return from === 0 ? m : { data: m.data.subarray(from * m.cols), rows: m.rows - from, cols: m.cols };
}
