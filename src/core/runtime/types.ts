// The contract of the model runtime, used by the activation store, metrics (spliced ΔLM loss),
// the worker and the CLI. Only src/core/runtime imports onnxruntime-node; nothing else sees ORT types.
import type { Matrix } from '../tensor';

export type SiteKind = 'hook_resid_pre' | 'hook_resid_post' | 'hook_mlp_out' | 'hook_attn_out';

export interface HookSite {
  /** TransformerLens name, e.g. blocks.2.hook_resid_post. */
  readonly name: string;
  readonly layer: number;
  readonly kind: SiteKind;
  /** Width of the activation vector at this site. */
  readonly dim: number;
}

export interface TokenizedText {
  readonly ids: Int32Array;
  /** Character offsets into the source string (UTF-16 code units, JS string indexing): [start, end) per token. */
  readonly offsets: Int32Array; // length 2·n
}
