// The contract of the model runtime, used by the activation store, metrics (spliced ΔLM loss),
// the worker and the CLI. Only src/core/runtime imports onnxruntime-node; nothing else sees ORT types.
import type { Matrix } from '../tensor';

/** TransformerLens hook kinds. resid_mid (between the attention and MLP residual Adds) is exposed too. */
export type SiteKind = 'hook_resid_pre' | 'hook_resid_post' | 'hook_mlp_out' | 'hook_attn_out' | 'hook_resid_mid';

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

export interface ModelInfo {
  /** From config.json (`_name_or_path`/`name_or_path`/`model_type`) or the folder name. */
  readonly name: string;
  /** The .onnx file that was loaded. */
  readonly onnxFile: string;
  readonly layers: number;
  readonly dModel: number;
  readonly vocabSize: number;
  /** Longest sequence one forward pass accepts (config.json, else the position-embedding table, else 2048). */
  readonly contextLength: number;
  /** Id used for padding batches and as the end-of-text token, when the tokenizer has one. */
  readonly eosId?: number;
}

export interface LoadOptions {
  /** Threads ONNX Runtime may use inside one operator (default 2). */
  readonly intraOpThreads?: number;
  /**
   * Where edited models (with hook outputs, or cut for splicing) are cached, keyed by a hash of the model
   * file and the edit. Default os.tmpdir()/feature-lens-cache (the extension passes its global storage).
   * When the folder cannot be written the edited model is kept in memory only.
   */
  readonly cacheDir?: string;
  /**
   * Which weights to load when a folder holds several copies of one export (transformers.js layout:
   * onnx/model.onnx, model_fp16.onnx, model_quantized.onnx, model_q4.onnx…): fp32, fp16, int8, uint8, q4,
   * q4f16 or bnb4. Default: fp32, or the only copy.
   */
  readonly variant?: string;
  /**
   * Refuse (before loading) a model whose weights take more bytes than this. Default: 80% of the machine's
   * memory.
   */
  readonly maxWeightBytes?: number;
  /** ORT graph optimisation level (default 'all'). */
  readonly graphOptimization?: 'disabled' | 'basic' | 'extended' | 'all';
}

export interface TextTokenizer {
  readonly vocabSize: number;
  /** The end-of-text / end-of-sequence id, if the tokenizer defines one. */
  readonly eosId?: number;
  /** Token ids and [start, end) UTF-16 offsets into `text` for each token. No special tokens are added. */
  encode(text: string): TokenizedText;
  decode(ids: ArrayLike<number>): string;
  /** The text of one token, as it would appear on its own (may contain U+FFFD for a partial UTF-8 character). */
  tokenText(id: number): string;
}

export interface WindowOptions {
  /** Tokens per window (default: the model's context length). */
  readonly window?: number;
  /** Tokens between window starts (default: half a window). */
  readonly stride?: number;
  /** At most this many tokens are processed (default 8192); the rest is dropped with a message. */
  readonly maxTokens?: number;
  /** Windows run per forward pass (default 8). */
  readonly batchSize?: number;
}

export interface LongActivations {
  /** [tokensUsed, dim] per requested site. */
  readonly acts: Map<string, Matrix>;
  readonly tokensUsed: number;
  readonly tokensTotal: number;
  readonly truncated: boolean;
  /** Set when the input was truncated or windowed, for showing to the user. */
  readonly message?: string;
}

export interface SpliceResult {
  /** The site's activations as the unedited model computed them, [len_i, dim] per sequence. */
  readonly original: Matrix[];
  /** Logits after the edit, [len_i, vocab] per sequence. */
  readonly logits: Matrix[];
}

/** An edit applied at a site: receives the original activations of sequence `index`, returns replacements. */
export type SiteEdit = (acts: Matrix, index: number) => Matrix;

/**
 * One sequence run up to a site, once. The rest of the model then runs on any number of edited copies of
 * the site's activations as one batch, without running the part before the site again.
 */
export interface SiteCut {
  readonly site: string;
  /** The site's activations as the model computed them, [len, dim]. */
  readonly acts: Matrix;
  /** Logits at the last position for each variant of `acts` (each [len, dim]), in order. */
  lastLogits(variants: readonly Matrix[], signal?: AbortSignal): Promise<Float32Array[]>;
}

/** Next-token logits of a growing token sequence. */
export interface NextTokenStream {
  /** Logits after the last token so far. */
  readonly logits: Float32Array;
  /** Tokens so far (the prompt and every appended token). */
  readonly length: number;
  /** Appends one token and returns the logits after it. */
  append(id: number): Promise<Float32Array>;
}

export interface LanguageModel {
  readonly info: ModelInfo;
  /** Undefined for a bare .onnx without tokenizer.json. */
  readonly tokenizer: TextTokenizer | undefined;
  /** All hook sites, block by block in forward order. */
  sites(): HookSite[];
  /**
   * Activations at `sites` for each sequence (each ≤ contextLength tokens, batched with right padding).
   * Result: site name → one [len_i, dim] matrix per sequence.
   */
  activations(batch: readonly Int32Array[], sites: readonly string[]): Promise<Map<string, Matrix[]>>;
  /** Activations for one sequence of any length, by windows (see windowing.ts for the policy). */
  activationsLong(ids: Int32Array, sites: readonly string[], opts?: WindowOptions): Promise<LongActivations>;
  /** Logits, [len_i, vocab] per sequence. */
  logits(batch: readonly Int32Array[]): Promise<Matrix[]>;
  /** Logits with the activation at `site` replaced by `replacement` ([len, dim]). Exact: the graph is cut at the site. */
  runWithSplice(ids: Int32Array, site: string, replacement: Matrix): Promise<Matrix>;
  /** Batched splice: run up to the site, apply `edit` per sequence, run the rest. */
  spliced(batch: readonly Int32Array[], site: string, edit: SiteEdit): Promise<SpliceResult>;
  /** Run one sequence (≤ contextLength tokens) up to `site`; see SiteCut. */
  cutAtSite(ids: Int32Array, site: string): Promise<SiteCut>;
  /**
   * Greedy continuation of `ids` by `tokens` new tokens (window slides when the context is full), through
   * the KV cache when the model has one (`cache: false` recomputes every step, for comparison).
   */
  generate(ids: Int32Array, tokens: number, opts?: { cache?: boolean }): Promise<Int32Array>;
  /**
   * Next-token logits of `ids` as it grows token by token, through the model's KV cache (past_key_values
   * inputs or a merged decoder's cache branch); undefined when the model has none.
   */
  nextTokenStream?(ids: Int32Array): Promise<NextTokenStream | undefined>;
  dispose(): Promise<void>;
}
