// What the analysis needs from a loaded language model and SAE. The worker and the CLI adapt the
// runtime and the SAE models to these; tests can hand in small exact ones.
import type { EncodedRows, InferenceSae } from '../inference/inferenceSae';
import type { HookSite, NextTokenStream, SiteCut, TokenizedText } from '../runtime/types';
import type { SaeWeights } from '../sae/weights';
import type { Matrix } from '../tensor';
import type { Unembedding } from './logitEffects';

export interface AnalysisModel {
  readonly name: string;
  readonly sites: readonly HookSite[];
  /** Longest input of one forward pass; next-token questions use the last this many tokens. */
  readonly contextLength: number;
  tokenize(text: string): TokenizedText;
  /** The text of a token sequence, decoded together (a character split over two tokens comes out whole). */
  decode(ids: ArrayLike<number>): string;
  /** The text of one token as the tokenizer decodes it alone. */
  tokenText(id: number): string;
  /** Site activations for every token, [n, dim]; the runtime owns the windowing of long inputs. */
  activations(ids: Int32Array, site: string, signal?: AbortSignal): Promise<Matrix>;
  /** Logits after the last token (of the last context window), with the site activations optionally edited (a splice). */
  lastLogits(ids: Int32Array, signal?: AbortSignal, splice?: { site: string; edit: (acts: Matrix) => Matrix }): Promise<Float32Array>;
  /** Runs `ids` (at most contextLength tokens) up to `site` once; the rest then runs on edited copies as a batch. */
  cutAtSite(ids: Int32Array, site: string, signal?: AbortSignal): Promise<SiteCut>;
  /** Undefined when the runtime cannot expose the output head. */
  unembedding(): Unembedding | undefined;
  /**
   * Next-token logits of `ids` growing token by token through the model's KV cache (merged decoders, past
   * inputs); absent or undefined when the model has no cache: generation then reruns the context each step.
   */
  nextTokenStream?(ids: Int32Array, signal?: AbortSignal): Promise<NextTokenStream | undefined>;
}

export interface AnalysisSae {
  readonly name: string;
  /** The SAE prepared once for inference (input scale folded in, so features are in the site's units). */
  readonly inference: InferenceSae;
  /** = inference.weights. */
  readonly weights: SaeWeights;
  /**
   * Transcoders: the site the output predicts. Features are read at the input site; the reconstruction
   * error is against this site, and ΔLM / steering splice here.
   */
  readonly outputSite?: string;
  /** Raw site activations → features, by the fastest encoder at hand (same result as inference.encode). */
  encode(x: Matrix): Promise<EncodedRows>;
  readonly labels: ReadonlyMap<number, string>;
}

export class AnalysisError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
    this.name = 'AnalysisError';
  }
}

/** The SAE must read the site it is applied to: a width mismatch is named precisely. */
export function resolveSite(model: AnalysisModel, sae: AnalysisSae, site: string): HookSite {
  const found = model.sites.find((s) => s.name === site);
  if (!found) {
    throw new AnalysisError(`model ${model.name} has no hook site "${site}" (it has ${model.sites.map((s) => s.name).join(', ')})`, 'unknownSite');
  }
  if (found.dim !== sae.weights.config.dIn) {
    throw new AnalysisError(
      `SAE ${sae.name} has d_in ${sae.weights.config.dIn}, but site ${site} of model ${model.name} has width ${found.dim}`,
      'saeMismatch',
    );
  }
  return found;
}
