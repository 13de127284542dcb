// Analysis results as they cross the worker → host → webview boundaries. Plain data only (numbers,
// strings, arrays, typed arrays), so structured clone carries them unchanged. These are the only
// definitions: src/core/analysis returns them (see docs/architecture.md, "One type per boundary").

export interface FeatureHit {
  readonly id: number;
  readonly activation: number;
  /** Projection of this feature's decoder contribution on the whole reconstruction (sums to 1 per token). */
  readonly share: number;
  readonly label?: string;
  /** 'auto' when the label comes from the feature index's automatic labels (a user label always wins). */
  readonly labelSource?: LabelSource;
  /** Fraction of indexed corpus tokens where the feature fires (known when the SAE has a feature index). */
  readonly density?: number;
}

export type LabelSource = 'user' | 'auto';

/** An automatic label with its rule and its scores on held-out text. */
export interface AutoLabelInfo {
  readonly label: string;
  readonly rule: string;
  /** Detection AUROC on held-out tokens of the full explanation (every indexed key), for reference. */
  readonly auroc?: number;
  /** Detection AUROC on held-out tokens of the label's rule: the label's score. */
  readonly ruleAuroc?: number;
  readonly balancedAccuracy?: number;
  /** Pearson correlation of simulated and actual activations on held-out tokens. */
  readonly correlation?: number;
  readonly heldoutFires: number;
  readonly heldoutTokens: number;
}

/** One feature found by Find Feature. */
export interface FeatureSearchHit {
  readonly feature: number;
  readonly label?: string;
  readonly labelSource?: LabelSource;
  readonly density: number;
  /** Ranking score of this search (higher first); its meaning depends on the search mode. */
  readonly score: number;
  /** Why it matched, in a few words (e.g. "fires on 4 of 9 tokens", "label match"). */
  readonly detail: string;
  readonly auroc?: number;
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
  /**
   * Rows to show per token. Set when more features per token were sent than asked for (so the token view
   * can re-rank them by share or surprise, or hide dense ones, and still fill its rows).
   */
  readonly displayTopK?: number;
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
  /** Where the label came from; the automatic label (with its scores) is given even when a user label wins. */
  readonly labelSource?: LabelSource;
  readonly autoLabel?: AutoLabelInfo;
  readonly maxActivation?: number;
  readonly meanActivation?: number;
  /** Samples from equal-width activation bands (band 0 = weakest), as SAEDashboard shows them. */
  readonly bandSamples?: readonly (FeatureExample & { readonly band: number; readonly bandFrom: number; readonly bandTo: number })[];
  /** Features firing at the same positions most often; share = co-firings / this feature's firings. */
  readonly coactivations?: readonly { readonly feature: number; readonly share: number; readonly label?: string }[];
  /** Histogram of the direct logit effect over the whole vocabulary (bins + 1 edges). */
  readonly logitHistogram?: Histogram;
  /** Tokens it fires on most: firings there and the fraction of that token's occurrences that fire. */
  readonly topTokens?: readonly { readonly token: string; readonly fires: number; readonly precision: number }[];
  /** Set when the dashboard was read from a feature index (built at that time). */
  readonly indexBuiltAt?: string;
  /**
   * Set when there is no current feature index yet: this dashboard comes from a quick scan of a few thousand
   * corpus tokens (no automatic label, band samples or co-firing features); says why, so the host can build the
   * index in the background and reopen the dashboard from it.
   */
  readonly indexPending?: string;
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
