// A training source that cycles through batches made once, so a profile times the step and not the data.
import type { Matrix } from '../src/core/tensor';
import type { DataSource } from '../src/core/train/dataSource';

export class PoolSource implements DataSource {
  private i = 0;
  constructor(
    readonly dIn: number,
    private readonly pool: Matrix[],
  ) {}
  nextBatch(): Matrix {
    return this.pool[this.i++ % this.pool.length];
  }
}
