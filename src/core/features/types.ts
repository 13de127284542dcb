// The feature index as the core holds it in memory: what the builder produces, the database stores and
// dashboards, labels and search read. Plain data only.

/** Bumped whenever the stored layout or the meaning of a field changes: older indexes are rebuilt. */
export const INDEX_VERSION = 2;

export interface IndexFingerprints {
  /** SHA-256 prefix over the SAE's tensors (names, shapes, values). */
  readonly sae: string;
  /** SHA-256 prefix over the model files (weights and tokenizer), or the model's name when no file is known. */
  readonly model: string;
  /** SHA-256 prefix over the corpus documents. */
  readonly corpus: string;
}

export interface IndexMeta {
  readonly version: number;
  readonly fingerprints: IndexFingerprints;
  readonly saeName: string;
  readonly modelName: string;
  readonly site: string;
  readonly corpusName: string;
  readonly dSae: number;
  readonly vocabSize: number;
  readonly windowTokens: number;
  /** Indexed (explanation) positions; held-out positions are kept apart for scoring labels. */
  readonly explainTokens: number;
  readonly heldoutTokens: number;
  readonly histogramBins: number;
  readonly logitNote?: string;
  readonly createdAt: string;
  readonly buildSeconds: number;
}

export interface CorpusWindow {
  readonly source: string;
  /** 0 = explanation split (indexed), 1 = held-out split (only used to score labels). */
  readonly split: 0 | 1;
  readonly ids: Int32Array;
}

/** A stretch of one window around a firing position, with the feature's activation at each token. */
export interface IndexedContext {
  /** -1 = one of the top-activating contexts; 0…bands-1 = a sample from that activation band. */
  readonly band: number;
  readonly window: number;
  readonly start: number;
  /** Index of the firing token inside the context. */
  readonly peak: number;
  readonly maxActivation: number;
  readonly activations: Float32Array;
}

/** How often a feature fires at one key of one kind (see tokenKeys.ts), against how often the key occurs. */
export interface KeyStat {
  readonly kind: number;
  readonly key: number;
  readonly fires: number;
  readonly total: number;
  readonly activationSum: number;
}

export interface LogitTable {
  readonly promoted: { readonly token: number; readonly value: number }[];
  readonly suppressed: { readonly token: number; readonly value: number }[];
  /** Histogram of the feature's direct logit effect over the whole vocabulary. */
  readonly histogram: { readonly lo: number; readonly hi: number; readonly counts: number[] };
}

export interface FeatureRecord {
  readonly id: number;
  readonly fires: number;
  readonly maxActivation: number;
  readonly meanActivation: number;
  /** Counts of firing activations in `bins` equal bins over (0, maxActivation]. */
  readonly histogram: number[];
  readonly decoderNorm: number;
  readonly threshold?: number;
  readonly contexts: IndexedContext[];
  readonly coactivations: { readonly other: number; readonly count: number }[];
  readonly logits?: LogitTable;
  readonly keyStats: KeyStat[];
}

export interface BuiltIndex {
  readonly meta: IndexMeta;
  readonly windows: CorpusWindow[];
  readonly tokenTexts: Map<number, string>;
  readonly words: readonly string[];
  readonly features: FeatureRecord[];
}

/** One part of a label's rule: a kind of key (see tokenKeys.ts KEY_KINDS) and the keys it accepts. */
export interface RulePart {
  readonly kind: number;
  readonly keys: readonly number[];
  /** Expected activation at each key (the rule's score for a token with that key), parallel to keys. */
  readonly expected: readonly number[];
}

/** An automatic label: a short human phrase, the rule behind it, and its scores on held-out text. */
export interface AutoLabel {
  readonly feature: number;
  readonly label: string;
  /** The rule in words ("fires when the token is one of …"). */
  readonly rule: string;
  /** The rule: a token matches when it has a key of any part; its score is the largest expected activation. */
  readonly parts: readonly RulePart[];
  readonly scores: LabelScores;
}

export interface LabelScores {
  /** Detection AUROC of the rule on the validation sample of the indexed text it was chosen on. */
  readonly validationAuroc?: number;
  /** Detection AUROC on held-out tokens of the full explanation (every indexed key as a simulator). */
  readonly auroc?: number;
  /** Detection AUROC on held-out tokens of the label's rule: the score shown with the label. */
  readonly ruleAuroc?: number;
  /** Balanced accuracy of "the rule matches" as a firing detector on held-out tokens. */
  readonly balancedAccuracy?: number;
  /** Pearson correlation of the rule's predicted and actual activations on held-out tokens. */
  readonly correlation?: number;
  readonly heldoutFires: number;
  readonly heldoutTokens: number;
}
