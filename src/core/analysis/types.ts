// Results of the analysis, shaped so the worker can send them as they are (see src/protocol/analysis.ts).

export interface FeatureHitResult {
  readonly id: number;
  readonly activation: number;
  readonly share: number;
  readonly label?: string;
}

export interface TokenResult {
  readonly text: string;
  readonly start: number;
  readonly end: number;
  readonly maxActivation: number;
  readonly l0: number;
  readonly reconError: number;
  readonly features: readonly FeatureHitResult[];
}

export interface TextAnalysis {
  readonly text: string;
  readonly model: string;
  readonly site: string;
  readonly sae: string;
  readonly dSae: number;
  readonly tokens: readonly TokenResult[];
  readonly active: { readonly rowStart: Int32Array; readonly featureIds: Int32Array; readonly values: Float32Array };
  readonly meanL0: number;
  readonly meanReconError: number;
  readonly maxActivation: number;
  readonly truncatedFrom?: number;
  readonly elapsedMs: number;
}
