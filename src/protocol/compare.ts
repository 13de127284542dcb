// Comparing checkpoints: what `featureLens.compareCheckpoints` and `feature-lens compare` produce, and what
// the compare panel draws. Plain data, so it crosses the worker → host → webview boundaries unchanged.

/** The metrics of one SAE on one evaluation set (LM fields only when evaluated through the model). */
export interface CheckpointMetrics {
  readonly tokens: number;
  readonly l0: number;
  readonly fvu: number;
  readonly mse: number;
  readonly deadFeatures: number;
  readonly denseFeatures: number;
  readonly deltaLoss?: number;
  readonly lossRecovered?: number;
  readonly kl?: number;
}

export interface ComparedCheckpoint {
  readonly path: string;
  /** Short name for tables and legends (folder name, with its parent when two would collide). */
  readonly label: string;
  readonly architecture: string;
  readonly dSae: number;
  readonly metrics: CheckpointMetrics;
  /** True when the metrics came from the cache beside the checkpoint. */
  readonly cached: boolean;
  /** The training run folder this checkpoint belongs to, and its step: the plots join a run's checkpoints in order. */
  readonly run?: string;
  readonly step?: number;
}

/** Feature matching between the first two checkpoints by decoder-direction cosine. */
export interface FeatureMatching {
  readonly a: string;
  readonly b: string;
  readonly method: 'greedy';
  /** Features of A (rows) given a one-to-one partner in B, sorted by cosine, highest first. */
  readonly pairs: readonly { readonly a: number; readonly b: number; readonly cos: number }[];
  /** How many one-to-one pairs reach each cosine threshold. */
  readonly matchedAbove: readonly { readonly threshold: number; readonly count: number }[];
  /** Histogram of each A feature's best cosine to any B feature: `counts[i]` for [edges[i], edges[i+1]). */
  readonly bestCosHistogram: { readonly edges: readonly number[]; readonly counts: readonly number[] };
  /** Features without a partner at the lowest threshold. */
  readonly unmatchedA: readonly number[];
  readonly unmatchedB: readonly number[];
}

export interface CheckpointComparison {
  readonly site: string;
  readonly dIn: number;
  /** What the metrics were measured on (the cache key). */
  readonly evalSet: string;
  readonly checkpoints: readonly ComparedCheckpoint[];
  readonly matching?: FeatureMatching;
}

/** One checkpoint of a genealogy, in training order. */
export interface GenealogyCheckpoint {
  readonly path: string;
  readonly label: string;
  readonly step?: number;
  readonly dSae: number;
}

/**
 * What happened to features between checkpoint `from` and `from + 1`. Feature ids are the indices in
 * each checkpoint. `cos` values are decoder-direction cosines; `fit` is the cosine between a split
 * parent (merge child) and its best reconstruction from the other side's features in the event.
 */
export type GenealogyEvent =
  | { readonly kind: 'birth'; readonly feature: number; readonly nearest?: { readonly feature: number; readonly cos: number } }
  | { readonly kind: 'death'; readonly feature: number; readonly nearest?: { readonly feature: number; readonly cos: number } }
  | { readonly kind: 'split'; readonly parent: number; readonly children: readonly number[]; readonly cos: readonly number[]; readonly fit: number }
  | { readonly kind: 'merge'; readonly parents: readonly number[]; readonly child: number; readonly cos: readonly number[]; readonly fit: number };

export interface GenealogyTransition {
  /** Index of the earlier checkpoint (the later one is from + 1). */
  readonly from: number;
  /** Features that stayed themselves: [earlier id, later id, cosine]. */
  readonly continued: readonly (readonly [number, number, number])[];
  readonly events: readonly GenealogyEvent[];
}

export interface Genealogy {
  readonly checkpoints: readonly GenealogyCheckpoint[];
  /** Cosine at or above which a mutual best match is the same feature. */
  readonly sameAbove: number;
  /** Cosine at or above which features are related (split, merge). */
  readonly relatedAbove: number;
  readonly transitions: readonly GenealogyTransition[];
}

/** One feature's row in a timeline: its id at each checkpoint (null where it does not exist) and what happened. */
export interface FeatureTimeline {
  readonly checkpoints: readonly GenealogyCheckpoint[];
  readonly ids: readonly (number | null)[];
  /** At checkpoint i (i ≥ 1): what happened between i - 1 and i along this line, if anything. */
  readonly marks: readonly { readonly at: number; readonly text: string }[];
}

/** One row of a token in the side-by-side decomposition: a feature of A, of B, or a matched pair of both. */
export interface SideBySideRow {
  readonly a?: { readonly feature: number; readonly activation: number };
  readonly b?: { readonly feature: number; readonly activation: number };
  /** Decoder cosine of a matched pair (both sides present and matched to each other). */
  readonly cos?: number;
}

export interface SideBySideToken {
  readonly text: string;
  readonly start: number;
  readonly end: number;
  readonly rows: readonly SideBySideRow[];
}

/** The same text decomposed by two SAEs, per token, matched features on the same row. */
export interface SideBySide {
  readonly text: string;
  readonly a: { readonly label: string; readonly path: string; readonly meanL0: number; readonly meanReconError: number };
  readonly b: { readonly label: string; readonly path: string; readonly meanL0: number; readonly meanReconError: number };
  readonly tokens: readonly SideBySideToken[];
  /** Rows holding a matched pair, and all rows. */
  readonly alignedRows: number;
  readonly totalRows: number;
}
