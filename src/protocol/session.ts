// What the worker has loaded (model, SAE, hook site) and what the host asks it to load. The core's
// AnalysisSession produces these; the host, the status bar and the webview read them.

export interface LoadSelection {
  /** Model folder; undefined = bundled model. */
  readonly modelPath?: string;
  /**
   * Which weights of a model folder holding several copies (transformers.js onnx/model*.onnx): fp32, fp16,
   * int8, uint8, q4, q4f16 or bnb4; undefined = fp32, or the only copy.
   */
  readonly modelVariant?: string;
  /** SAE folder or file in any supported format; undefined = bundled SAE (if present). */
  readonly saePath?: string;
  /** Which SAE of a folder holding several (e.g. sparsify's one sub-folder per hook point). */
  readonly saeHook?: string;
  /** Hook site; undefined = the SAE's own site. */
  readonly site?: string;
  /** Transcoders: the site the output is compared with and spliced into; undefined = the transcoder's own. */
  readonly siteOut?: string;
}

export interface ModelInfo {
  readonly name: string;
  readonly path: string;
  /** The weight variant picked in a folder of several, and its .onnx file. */
  readonly variant?: string;
  readonly file?: string;
  readonly layers: number;
  readonly dModel: number;
}

export interface SaeInfo {
  readonly name: string;
  readonly path: string;
  readonly architecture: string;
  readonly hookName: string;
  readonly dIn: number;
  readonly dSae: number;
  /** Transcoders: the output site it is bound to and its width. */
  readonly siteOut?: string;
  readonly dOut?: number;
}

export interface SiteInfo {
  readonly name: string;
  readonly dim: number;
}

/** What the user must choose before a loaded SAE can be used. */
export type SaeChoice =
  /** The path holds several SAEs: pick one (then load again with saeHook). */
  | { readonly kind: 'hook'; readonly path: string; readonly hooks: readonly string[] }
  /** The SAE names no hook, or one the model lacks (or of another width): pick the site (then load again with site). */
  | { readonly kind: 'site'; readonly path: string; readonly name: string; readonly hookName?: string; readonly dIn: number; readonly dSae: number }
  /** A transcoder whose output site is unknown to the model: pick it (then load again with siteOut). */
  | { readonly kind: 'siteOut'; readonly path: string; readonly name: string; readonly hookNameOut?: string; readonly site: string; readonly dOut: number };

export interface LoadResult {
  readonly model: ModelInfo;
  readonly sites: readonly SiteInfo[];
  readonly site: string;
  readonly sae?: SaeInfo;
  /** Why no SAE is active (missing bundled SAE, …); shown to the user with an offer to load one. */
  readonly saeProblem?: string;
  readonly saeChoice?: SaeChoice;
  /** Things the user should know about what was loaded (format approximations, site overrides). */
  readonly warnings: readonly string[];
}
