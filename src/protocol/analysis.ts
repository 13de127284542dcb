// Analysis results as they cross the worker → host → webview boundaries. Plain data only (numbers,
// strings, arrays, typed arrays), so structured clone carries them unchanged. These are the only
// definitions: src/core/analysis returns them (see docs/architecture.md, "One type per boundary").

export interface FeatureHit {
  readonly id: number;
  readonly activation: number;
  /** Projection of this feature's decoder contribution on the whole reconstruction (sums to 1 per token). */
  readonly share: number;
  readonly label?: string;
}

export interface TokenAnalysis {
  readonly text: string;
  /** UTF-16 offsets into the analysed text: [start, end). */
  readonly start: number;
  readonly end: number;
  /** Strongest feature activation at this token (0 when nothing fires). */
  readonly maxActivation: number;
  readonly l0: number;
  /** ‖x − x̂‖² / ‖x‖² at this token. */
  readonly reconError: number;
  readonly features: readonly FeatureHit[];
}

/** Every active (token, feature) pair, compressed row-wise: token t owns entries rowStart[t]..rowStart[t+1]. */
export interface SparseActivations {
  readonly rowStart: Int32Array;
  readonly featureIds: Int32Array;
  readonly values: Float32Array;
}

export interface AnalysisResult {
  readonly text: string;
  readonly model: string;
  readonly site: string;
  readonly sae: string;
  readonly dSae: number;
  readonly tokens: readonly TokenAnalysis[];
  readonly active: SparseActivations;
  readonly meanL0: number;
  readonly meanReconError: number;
  readonly maxActivation: number;
  /** Set when the input was cut to the token cap. */
  readonly truncatedFrom?: number;
  readonly elapsedMs: number;
}

export interface FeatureExample {
  readonly source: string;
  /** Tokens around the peak; `peak` indexes into them. */
  readonly tokens: readonly string[];
  readonly activations: readonly number[];
  readonly peak: number;
  readonly maxActivation: number;
}

/** Equal-width bins of non-zero activations: bin edges (bins + 1) and counts. */
export interface Histogram {
  readonly edges: readonly number[];
  readonly counts: readonly number[];
}

export interface LogitEffect {
  readonly token: string;
  readonly value: number;
}

export interface FeatureDashboard {
  readonly feature: number;
  readonly label?: string;
  readonly model: string;
  readonly site: string;
  readonly sae: string;
  readonly decoderNorm: number;
  /** JumpReLU threshold; undefined for architectures without one. */
  readonly threshold?: number;
  readonly examples: readonly FeatureExample[];
  /** Histogram of non-zero activations over the corpus. */
  readonly histogram: Histogram;
  /** Fraction of corpus tokens where the feature fires. */
  readonly density: number;
  readonly corpusTokens: number;
  readonly corpusName: string;
  readonly promoted: readonly LogitEffect[];
  readonly suppressed: readonly LogitEffect[];
  /** How the logit effects were computed (the final LayerNorm caveat). */
  readonly logitNote: string;
}

export interface NextToken {
  readonly token: string;
  readonly probability: number;
}

export interface SteeringResult {
  readonly feature: number;
  /** Activation the feature was clamped to at every position (0 = ablated). */
  readonly value: number;
  readonly text: string;
  readonly before: readonly NextToken[];
  readonly after: readonly NextToken[];
  /** KL(before ‖ after) of the next-token distribution after the last token, in nats. */
  readonly kl: number;
}

export interface FeatureOccurrences {
  readonly feature: number;
  readonly ranges: readonly { readonly start: number; readonly end: number; readonly activation: number }[];
  readonly maxActivation: number;
}
