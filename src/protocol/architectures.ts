// The SAE architectures Feature Lens trains and runs: the one list that the core's SaeConfig, the
// training job parser, the Train SAE… dialogue and `feature-lens train` all check against.
export const SAE_ARCHITECTURES = ['jumprelu', 'gated', 'topk', 'batchtopk', 'relu'] as const;
export type SaeArchitecture = (typeof SAE_ARCHITECTURES)[number];
