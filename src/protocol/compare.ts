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
