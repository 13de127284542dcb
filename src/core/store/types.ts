// What the activation store needs from a language model, and what it hands to the trainer.
// The runtime adapter (modelAdapter.ts) fills the first; tests use a small fake.
import type { Matrix } from '../tensor';

export interface ActivationModel {
  /** Identity of the weights (e.g. a content hash): part of the cache key. */
  readonly id: string;
  /** Tokens per window: the model's context length. */
  readonly contextLength: number;
  /** Token placed between documents in the token stream, if the tokenizer has one. */
  readonly separatorId?: number;
  /** Width of the activation vector at a site; throws for an unknown site. */
  siteDim(site: string): number;
  tokenize(text: string): Int32Array;
  /**
   * Activations at `site` for `batch` windows of `contextLength` tokens each (`ids` is row-major
   * [batch, contextLength]); the result is [batch·contextLength, dim], row (b·T + t).
   */
  activations(ids: Int32Array, batch: number, site: string, signal?: AbortSignal): Promise<Matrix>;
}

export interface SourceState {
  readonly epoch: number;
  readonly group: number;
  readonly offset: number;
}

/**
 * A stream of activation rows for training, looping over its data in epochs. Deterministic for a
 * seed, and resumable: setState(getState()) continues with exactly the rows that would have followed.
 * It fits the trainer's DataSource (train/dataSource.ts) by shape, so the store does not import train/.
 */
export interface ActivationSource {
  /** Width of a row (the same as dim: the name the trainer reads). */
  readonly dIn: number;
  readonly dim: number;
  /** Rows in one epoch. */
  readonly rows: number;
  nextBatch(batchSize: number): Matrix;
  getState(): SourceState;
  setState(state: unknown): void;
  close(): void;
}
