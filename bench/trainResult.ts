// The rows bench/train.ts measures (and writes with --json), shared with bench/run-all.ts's table.

/** Where in a run a step is timed: from initialisation, or at the operating point L0 ≈ OP_L0. */
export type Regime = 'init' | 'op';

export interface ArchResult {
  arch: string;
  /** Gated/ReLU: 'init' (L0 ≈ d_sae/2, the first steps) or 'op' (L0 ≈ train.ts's --op-l0); undefined for the others. */
  regime?: Regime;
  stepSeconds: number;
  actsPerSecond: number;
  l0: number;
  torchActsPerSecond?: number;
  torchL0?: number;
  referenceActsPerSecond?: number;
  /** Threads the fast backend's sparse kernels ran on (bench/train.ts's --sparse-threads, auto per architecture). */
  sparseThreads?: number;
}

export interface ScaleResult {
  dIn: number;
  dSae: number;
  batch: number;
  gemmSeconds: number;
  archs: ArchResult[];
}

/** "gated (init)", "gated (op)", or the architecture alone. */
export function archLabel(r: ArchResult): string {
  return r.regime ? `${r.arch} (${r.regime})` : r.arch;
}
