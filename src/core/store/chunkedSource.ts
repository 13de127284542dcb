// Shuffled, resumable reading of float32 rows stored in files. The data is cut into chunks (a shard,
// or a slice of a .npy file); each epoch visits the chunks in a seeded order, loads `groupChunks` of
// them at a time and emits their rows in a seeded permutation, so rows from different shards mix while
// memory stays at one group. Everything random derives from (seed, epoch, group), which makes the
// position {epoch, group, offset} a complete state for bit-exact resume.
import { closeSync, openSync, readSync } from 'node:fs';
import { matrix, type Matrix } from '../tensor';
import { Rng } from '../util/rng';
import type { ActivationSource, SourceState } from './types';

export interface RowChunk {
  readonly file: string;
  readonly byteOffset: number;
  readonly rows: number;
}

export interface ChunkedSourceOptions {
  readonly seed?: number;
  /** Chunks mixed together in memory; more mixes better and costs more RAM. */
  readonly groupChunks?: number;
  /** Emit rows in file order (evaluation). */
  readonly shuffle?: boolean;
}

interface LoadedGroup {
  readonly epoch: number;
  readonly group: number;
  readonly data: Float32Array;
  readonly order: Int32Array;
}

export class ChunkedSource implements ActivationSource {
  readonly rows: number;
  private readonly seed: number;
  private readonly groupChunks: number;
  private readonly shuffle: boolean;
  private readonly fds = new Map<string, number>();
  private epoch = 0;
  private group = 0;
  private offset = 0;
  private loaded?: LoadedGroup;
  private chunkOrder?: { epoch: number; order: Int32Array };

  constructor(
    private readonly chunks: readonly RowChunk[],
    readonly dim: number,
    options: ChunkedSourceOptions = {},
  ) {
    if (chunks.length === 0) throw new Error('activation source has no data');
    this.rows = chunks.reduce((s, c) => s + c.rows, 0);
    if (this.rows === 0) throw new Error('activation source has no rows');
    this.seed = options.seed ?? 0;
    this.groupChunks = Math.max(1, Math.min(options.groupChunks ?? 4, chunks.length));
    this.shuffle = options.shuffle ?? true;
  }

  /** The trainer's DataSource name for the row width. */
  get dIn(): number {
    return this.dim;
  }

  get groups(): number {
    return Math.ceil(this.chunks.length / this.groupChunks);
  }

  nextBatch(batchSize: number): Matrix {
    if (!Number.isInteger(batchSize) || batchSize <= 0) throw new Error(`batch size must be a positive integer, got ${batchSize}`);
    const out = matrix(batchSize, this.dim);
    const d = this.dim;
    for (let r = 0; r < batchSize; ) {
      const g = this.current();
      const take = Math.min(batchSize - r, g.order.length - this.offset);
      for (let i = 0; i < take; i++) {
        const src = g.order[this.offset + i] * d;
        out.data.set(g.data.subarray(src, src + d), (r + i) * d);
      }
      r += take;
      this.offset += take;
      if (this.offset === g.order.length) this.advanceGroup();
    }
    return out;
  }

  getState(): SourceState {
    return { epoch: this.epoch, group: this.group, offset: this.offset };
  }

  setState(state: unknown): void {
    const { epoch, group, offset } = (state ?? {}) as Partial<SourceState>;
    if (
      !(typeof epoch === 'number' && typeof group === 'number' && typeof offset === 'number') ||
      ![epoch, group, offset].every((v) => Number.isInteger(v) && v >= 0) ||
      group >= this.groups
    ) {
      throw new Error(`invalid activation source state ${JSON.stringify(state)}`);
    }
    this.epoch = epoch;
    this.group = group;
    this.offset = offset;
    if (offset >= this.current().order.length) throw new Error(`source state offset ${offset} is past its group`);
  }

  close(): void {
    for (const fd of this.fds.values()) closeSync(fd);
    this.fds.clear();
    this.loaded = undefined;
  }

  private advanceGroup(): void {
    this.offset = 0;
    this.group++;
    if (this.group === this.groups) {
      this.group = 0;
      this.epoch++;
    }
  }

  private current(): LoadedGroup {
    const l = this.loaded;
    if (l && l.epoch === this.epoch && l.group === this.group) return l;
    this.loaded = this.load(this.epoch, this.group);
    return this.loaded;
  }

  private orderOfChunks(epoch: number): Int32Array {
    if (this.chunkOrder?.epoch === epoch) return this.chunkOrder.order;
    const order = Int32Array.from(this.chunks.keys());
    if (this.shuffle) new Rng(mix(this.seed, epoch, 0x5eed)).shuffle(order);
    this.chunkOrder = { epoch, order };
    return order;
  }

  private load(epoch: number, group: number): LoadedGroup {
    const order = this.orderOfChunks(epoch);
    const members = Array.from(order.subarray(group * this.groupChunks, (group + 1) * this.groupChunks), (i) => this.chunks[i]);
    const rows = members.reduce((s, c) => s + c.rows, 0);
    const data = new Float32Array(rows * this.dim);
    let at = 0;
    for (const c of members) {
      this.readRows(c, data.subarray(at * this.dim, (at + c.rows) * this.dim));
      at += c.rows;
    }
    const perm = Int32Array.from({ length: rows }, (_, i) => i);
    if (this.shuffle) new Rng(mix(this.seed, epoch, group + 1)).shuffle(perm);
    return { epoch, group, data, order: perm };
  }

  private readRows(chunk: RowChunk, into: Float32Array): void {
    let fd = this.fds.get(chunk.file);
    if (fd === undefined) {
      fd = openSync(chunk.file, 'r');
      this.fds.set(chunk.file, fd);
    }
    const bytes = new Uint8Array(into.buffer, into.byteOffset, into.byteLength);
    let done = 0;
    while (done < bytes.length) {
      const n = readSync(fd, bytes, done, bytes.length - done, chunk.byteOffset + done);
      if (n === 0) throw new Error(`${chunk.file} is shorter than its manifest says (truncated?)`);
      done += n;
    }
  }
}

function mix(seed: number, a: number, b: number): number {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  h = Math.imul(h ^ a, 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13) ^ b, 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}
