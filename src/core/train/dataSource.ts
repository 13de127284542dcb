// Where training batches come from. A source with getState/setState can be resumed exactly.
import type { Matrix } from '../tensor';
import { Rng, type RngState } from '../util/rng';

export interface DataSource {
  readonly dIn: number;
  /** The next `rows` activation rows (row-major [rows, dIn]). */
  nextBatch(rows: number): Matrix | Promise<Matrix>;
  getState?(): unknown;
  setState?(state: unknown): void;
}

interface ArraySourceState {
  readonly rng: RngState;
  readonly order: number[];
  readonly cursor: number;
  readonly epoch: number;
}

/** Rows of an in-memory matrix, reshuffled every epoch with its own seeded RNG. */
export class MatrixSource implements DataSource {
  readonly dIn: number;
  private readonly rng: Rng;
  private order: Uint32Array;
  private cursor = 0;
  epoch = 0;

  constructor(
    private readonly data: Matrix,
    seed: number,
    private readonly shuffle = true,
  ) {
    if (data.rows === 0) throw new Error('MatrixSource: no rows');
    this.dIn = data.cols;
    this.rng = new Rng(seed);
    this.order = this.newOrder();
  }

  private newOrder(): Uint32Array {
    const o = Uint32Array.from({ length: this.data.rows }, (_, i) => i);
    return this.shuffle ? this.rng.shuffle(o) : o;
  }

  nextBatch(rows: number): Matrix {
    const d = this.dIn;
    const out = new Float32Array(rows * d);
    for (let r = 0; r < rows; r++) {
      if (this.cursor === this.order.length) {
        this.order = this.newOrder();
        this.cursor = 0;
        this.epoch++;
      }
      const src = this.order[this.cursor++];
      out.set(this.data.data.subarray(src * d, (src + 1) * d), r * d);
    }
    return { data: out, rows, cols: d };
  }

  getState(): ArraySourceState {
    return { rng: this.rng.getState(), order: Array.from(this.order), cursor: this.cursor, epoch: this.epoch };
  }

  setState(state: unknown): void {
    const s = state as ArraySourceState;
    if (!s || !Array.isArray(s.order) || s.order.length !== this.data.rows) throw new Error('MatrixSource: state does not fit this data');
    this.rng.setState(s.rng);
    this.order = Uint32Array.from(s.order);
    this.cursor = s.cursor;
    this.epoch = s.epoch;
  }
}
