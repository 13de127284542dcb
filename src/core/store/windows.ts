// Turning documents into context windows: the token stream of documents (in shuffled order, joined by
// the separator token) cut into windows of the model's context length, then the windows shuffled, so
// neighbouring rows of the store come from different documents.
import { Rng } from '../util/rng';

export interface TokenWindows {
  /** Row-major [count, length]. */
  readonly ids: Int32Array;
  readonly count: number;
  readonly length: number;
}

/** Collects tokens until `maxTokens`, then cuts whole windows (a short tail is dropped). */
export class WindowBuilder {
  private buffer: Int32Array;
  private used = 0;

  constructor(
    readonly length: number,
    private readonly maxTokens: number,
    private readonly separatorId?: number,
  ) {
    if (!Number.isInteger(length) || length < 2) throw new Error(`context length must be ≥ 2, got ${length}`);
    this.buffer = new Int32Array(Math.min(maxTokens, 1 << 16));
  }

  get full(): boolean {
    return this.used >= this.maxTokens;
  }

  get tokens(): number {
    return this.used;
  }

  addDocument(ids: Int32Array): void {
    const parts = this.separatorId === undefined || this.used === 0 ? [ids] : [Int32Array.of(this.separatorId), ids];
    for (const part of parts) {
      const take = Math.min(part.length, this.maxTokens - this.used);
      if (take <= 0) return;
      this.reserve(this.used + take);
      this.buffer.set(part.subarray(0, take), this.used);
      this.used += take;
    }
  }

  /** The windows, shuffled with `rng`. */
  build(rng: Rng): TokenWindows {
    const count = Math.floor(this.used / this.length);
    const order = new Int32Array(count);
    for (let i = 0; i < count; i++) order[i] = i;
    rng.shuffle(order);
    const ids = new Int32Array(count * this.length);
    for (let w = 0; w < count; w++) {
      const from = order[w] * this.length;
      ids.set(this.buffer.subarray(from, from + this.length), w * this.length);
    }
    return { ids, count, length: this.length };
  }

  private reserve(n: number): void {
    if (n <= this.buffer.length) return;
    const next = new Int32Array(Math.min(this.maxTokens, Math.max(n, this.buffer.length * 2)));
    next.set(this.buffer.subarray(0, this.used));
    this.buffer = next;
  }
}
