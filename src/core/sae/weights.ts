// Plain SAE parameters as they are stored: the contract between checkpoint/format readers and the
// architectures. Layout follows SAELens: W_enc [d_in, d_sae], W_dec [d_sae, d_in], row-major.
// The architecture names are the protocol's list (a job or a loaded SAE carries them across boundaries).
import type { SaeArchitecture } from '../../protocol/architectures';

export type { SaeArchitecture };

export interface SaeConfig {
  readonly architecture: SaeArchitecture;
  readonly dIn: number;
  readonly dSae: number;
  /** TopK / BatchTopK: active latents per token (BatchTopK: on average). */
  readonly k?: number;
  /** Subtract b_dec from the input before encoding (SAELens apply_b_dec_to_input). */
  readonly applyBDecToInput: boolean;
  /**
   * Fixed input scale folded into the weights? If set, inputs are divided by it before encoding and
   * outputs multiplied after decoding (SAELens normalize_activations "expected_average_only_in").
   */
  readonly inputScale?: number;
  /**
   * Per-token input normalisation applied at run time (SAELens normalize_activations). Absent or 'none':
   * nothing. 'constant_norm_rescale': x ← x·√d_in/‖x‖ before encoding, x̂ ← x̂·‖x‖/√d_in after decoding.
   * 'layer_norm': x ← (x − mean(x))/(std(x) + 1e-5) (std unbiased), x̂ ← x̂·std + mean. SAELens applies
   * nothing at run time for 'expected_average_only_in' (the factor is folded in or lives outside the file);
   * it is kept only as information. See src/core/formats/activation-normalization.ts.
   */
  readonly normalizeActivations?: ActivationNormalization;
  /** Site the SAE reads, in TransformerLens naming (e.g. blocks.2.hook_resid_post). */
  readonly hookName?: string;
  /**
   * Transcoders only: the width of the site the decoder writes (W_dec [d_sae, d_out], b_dec [d_out],
   * W_skip [d_out, d_in]). Absent for an SAE, which reconstructs its own input (d_out = d_in).
   */
  readonly dOut?: number;
  /** Transcoders only: the site the decoder's output predicts (e.g. blocks.2.hook_mlp_out). */
  readonly hookNameOut?: string;
  readonly modelName?: string;
  /** Anything else a format carried that we keep for round trips. */
  readonly extra?: Readonly<Record<string, unknown>>;
}

export type ActivationNormalization = 'none' | 'expected_average_only_in' | 'constant_norm_rescale' | 'layer_norm';

/**
 * Named float32 tensors: W_enc, W_dec, b_enc, b_dec, threshold (jumprelu), b_gate/b_mag/r_mag (gated).
 * Optional W_skip [d_out, d_in] (sparsify skip connection, SAELens skip transcoders): x̂ += W_skip·x,
 * with x the raw input (before b_dec subtraction), i.e. x̂_j += Σ_k W_skip[j, k]·x_k.
 */
export interface SaeWeights {
  readonly config: SaeConfig;
  readonly tensors: ReadonlyMap<string, { readonly shape: readonly number[]; readonly data: Float32Array }>;
}
