// How many threads the WebAssembly sparse kernels use in a training run: a helper thread takes half of
// each large sparse product. Measured idle on 2 cores (docs/performance.md, "Two threads for the sparse
// kernels" and "Idle re-measure, session 7"): idle, with the selection graphs split in two, JumpReLU,
// TopK and BatchTopK steps are faster with it, so 'auto' gives those two threads where the machine has two
// cores. Gated and ReLU stay on one: from initialisation their step is dense (no sparse kernels), and the
// idle A/B showed no gain.
import { availableParallelism } from 'node:os';
import type { SaeArchitecture } from '../../protocol/architectures';

const SPLIT_BY_DEFAULT: ReadonlySet<SaeArchitecture> = new Set(['jumprelu', 'topk', 'batchtopk']);

export type SparseThreadsChoice = 'auto' | 1 | 2;
export const SPARSE_THREADS_CHOICES: readonly string[] = ['auto', '1', '2'];

export function parseSparseThreads(value: string | number | undefined): SparseThreadsChoice {
  const v = String(value ?? 'auto').trim().toLowerCase();
  if (v === 'auto') return 'auto';
  if (v === '1' || v === '2') return Number(v) as 1 | 2;
  throw new Error(`unknown sparse thread count "${String(value)}" (expected ${SPARSE_THREADS_CHOICES.join(', ')})`);
}

/** The thread count a choice means for one architecture on a machine with `parallelism` cores. */
export function sparseThreadsFor(choice: SparseThreadsChoice, architecture: SaeArchitecture, parallelism: number = availableParallelism()): 1 | 2 {
  if (choice !== 'auto') return choice;
  return SPLIT_BY_DEFAULT.has(architecture) && parallelism >= 2 ? 2 : 1;
}
