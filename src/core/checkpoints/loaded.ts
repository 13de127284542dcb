// What every reader returns: weights in the internal layout plus provenance and warnings.

import type { SaeWeights } from '../sae/weights';

export type SaeFormat = 'saelens' | 'gemma-scope' | 'sparsify' | 'dictionary-learning';

export interface LoadedSae {
  readonly weights: SaeWeights;
  readonly format: SaeFormat;
  /** The file or folder actually read. */
  readonly source: string;
  /** Things the user should know (approximations, ignored fields, non-finite values). */
  readonly warnings: readonly string[];
  /** log10 firing frequency per feature, when the checkpoint carries it (SAELens sparsity.safetensors). */
  readonly sparsity?: Float32Array;
}
