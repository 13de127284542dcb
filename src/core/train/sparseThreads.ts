// How many threads the WebAssembly sparse kernels use in a training run: a helper thread takes half of
// each large sparse product. Measured idle on 2 cores (docs/performance.md, "Two threads for the sparse
// kernels"): JumpReLU steps got faster with it, TopK steps slower, so 'auto' gives JumpReLU two threads
// where the machine has two cores to spare for it and every other architecture one.
import { availableParallelism } from 'node:os';
import type { SaeArchitecture } from '../../protocol/architectures';

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
  return architecture === 'jumprelu' && parallelism >= 2 ? 2 : 1;
}
