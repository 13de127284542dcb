// The ONNX Runtime boundary: session creation, feeds for the Optimum-style decoder interface, and
// conversion of ORT tensors to the core's Matrix. ORT types do not leave src/core/runtime.
import * as ort from 'onnxruntime-node';
import { floatToHalf, halfDataToFloat32, matrix, type Matrix } from '../tensor';
import { ModelFileError, onnx } from './onnxProto';

export interface SessionConfig {
  readonly intraOpThreads: number;
  readonly graphOptimization: 'disabled' | 'basic' | 'extended' | 'all';
  /**
   * Let idle intra-op threads spin for the next operator (ORT's default). Off unless asked: every session
   * has its own pool, and spinning pools take the cores from each other and from the editor (measured on
   * 2 cores: half the CPU time and about half the latency with spinning off).
   */
  readonly allowSpinning?: boolean;
}

export type OrtTensor = ort.Tensor;

/** One ORT inference session over a (possibly edited) model. */
export class OrtSession {
  /** Sessions created and not yet released, process-wide: each holds native memory until released. */
  static live = 0;
  private released = false;

  private constructor(
    private readonly session: ort.InferenceSession,
    readonly label: string,
  ) {
    OrtSession.live++;
  }

  /** A session on model bytes, or on a model file (needed when its weights are external data beside it). */
  static async create(model: Uint8Array | string, label: string, config: SessionConfig): Promise<OrtSession> {
    try {
      const options: ort.InferenceSession.SessionOptions = {
        executionProviders: ['cpu'],
        graphOptimizationLevel: config.graphOptimization,
        intraOpNumThreads: config.intraOpThreads,
        interOpNumThreads: 1,
        executionMode: 'sequential',
        logSeverityLevel: 3,
        extra: { session: { intra_op: { allow_spinning: config.allowSpinning ? '1' : '0' } } },
      };
      const session = typeof model === 'string' ? await ort.InferenceSession.create(model, options) : await ort.InferenceSession.create(model, options);
      return new OrtSession(session, label);
    } catch (err) {
      throw new ModelFileError(label, `ONNX Runtime cannot load the model: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  get inputNames(): readonly string[] {
    return this.session.inputNames;
  }

  get outputNames(): readonly string[] {
    return this.session.outputNames;
  }

  inputMeta(name: string): { type?: string; shape: readonly (number | string)[] } {
    const m = this.session.inputMetadata.find((x) => x.name === name);
    if (!m || !m.isTensor) return { shape: [] };
    return { type: m.type, shape: m.shape };
  }

  async run(feeds: Record<string, ort.Tensor>, fetches: readonly string[]): Promise<Record<string, ort.Tensor>> {
    const wanted: Record<string, ort.Tensor> = {};
    for (const name of this.session.inputNames) {
      const t = feeds[name];
      if (!t) throw new Error(`${this.label}: no value for model input "${name}"`);
      wanted[name] = t;
    }
    try {
      return (await this.session.run(wanted, fetches)) as Record<string, ort.Tensor>;
    } catch (err) {
      throw new Error(`${this.label}: inference failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    OrtSession.live--;
    await this.session.release();
  }
}

/** A padded batch of token sequences (right padding; pads are never seen by real tokens in a causal model). */
export interface PaddedBatch {
  readonly lengths: readonly number[];
  readonly T: number;
  readonly B: number;
}

/**
 * Feeds for every input the session declares: input_ids, attention_mask, position_ids (int64 or int32),
 * token_type_ids (zeros), past_key_values.* (empty: past length 0), use_cache_branch (false).
 */
export function buildFeeds(session: OrtSession, batch: readonly Int32Array[], padId: number): { feeds: Record<string, ort.Tensor>; padded: PaddedBatch } {
  const B = batch.length;
  const lengths = batch.map((s) => s.length);
  const T = Math.max(...lengths);
  const feeds: Record<string, ort.Tensor> = {};
  const intTensor = (type: string | undefined, fill: (b: number, t: number) => number, dims: number[]): ort.Tensor => {
    const n = dims.reduce((a, c) => a * c, 1);
    const cols = dims[dims.length - 1];
    if (type === 'int32') {
      const data = new Int32Array(n);
      for (let i = 0; i < n; i++) data[i] = fill(Math.floor(i / cols), i % cols);
      return new ort.Tensor('int32', data, dims);
    }
    const data = new BigInt64Array(n);
    for (let i = 0; i < n; i++) data[i] = BigInt(fill(Math.floor(i / cols), i % cols));
    return new ort.Tensor('int64', data, dims);
  };
  const names = session.inputNames;
  const idsName = names.includes('input_ids') ? 'input_ids' : names.find((n) => !/mask|position|past|cache|token_type/.test(n));
  for (const name of names) {
    const meta = session.inputMeta(name);
    if (name === idsName) {
      feeds[name] = intTensor(meta.type, (b, t) => (t < lengths[b] ? batch[b][t] : padId), [B, T]);
    } else if (name === 'attention_mask') {
      feeds[name] = intTensor(meta.type, (b, t) => (t < lengths[b] ? 1 : 0), [B, T]);
    } else if (name === 'position_ids') {
      feeds[name] = intTensor(meta.type, (_b, t) => t, [B, T]);
    } else if (name === 'token_type_ids') {
      feeds[name] = intTensor(meta.type, () => 0, [B, T]);
    } else if (name.startsWith('past_key_values') || name.startsWith('past.')) {
      const dims = meta.shape.map((d, i) => (i === 0 ? B : typeof d === 'number' ? d : 0));
      feeds[name] = new ort.Tensor((meta.type as 'float32') ?? 'float32', new Float32Array(0), dims);
    } else if (name === 'use_cache_branch') {
      feeds[name] = new ort.Tensor('bool', Uint8Array.of(0), [1]);
    } else {
      throw new ModelFileError(session.label, `unsupported model input "${name}" (supported: input_ids, attention_mask, position_ids, token_type_ids, past_key_values.*, use_cache_branch)`);
    }
  }
  return { feeds, padded: { lengths, T, B } };
}

/** Rows [0, len) of sequence b of a [B, T, D] float tensor, copied into a float32 Matrix (fp16 converted). */
export function sequenceRows(t: ort.Tensor, b: number, len: number): Matrix {
  const dims = t.dims;
  if (t.type !== 'float32' && t.type !== 'float16') throw new Error(`expected a float32 or float16 tensor, got ${t.type}`);
  const copy = (start: number, end: number): Float32Array =>
    t.type === 'float16' ? halfDataToFloat32(t.data as Uint16Array, start, end) : (t.data as Float32Array).slice(start, end);
  if (dims.length === 3) {
    const [, T, D] = dims;
    return matrix(len, D, copy(b * T * D, (b * T + len) * D));
  }
  if (dims.length === 2 && b === 0) {
    // [T, D] (a graph without a batch axis).
    const D = dims[1];
    return matrix(len, D, copy(0, len * D));
  }
  throw new Error(`expected a [batch, tokens, dim] tensor, got [${dims.join(', ')}]`);
}

/**
 * A [B, T, D] tensor holding `rows[b]` in sequence b (pads copied from `base`, or zero), float16 when
 * `base` is (a splice into an fp16 model), else float32.
 */
export function batchTensor(rows: readonly Matrix[], T: number, D: number, base?: ort.Tensor): ort.Tensor {
  const dims = base ? base.dims : [rows.length, T, D];
  if (base?.type === 'float16') {
    const bits = new Uint16Array(base.data as Uint16Array);
    rows.forEach((m, b) => {
      for (let i = 0; i < m.data.length; i++) bits[b * T * D + i] = floatToHalf(m.data[i]);
    });
    return new ort.Tensor('float16', bits, dims);
  }
  const data = base ? new Float32Array(base.data as Float32Array) : new Float32Array(rows.length * T * D);
  rows.forEach((m, b) => data.set(m.data, b * T * D));
  return new ort.Tensor('float32', data, dims);
}

const ORT_TO_ONNX: Record<string, number> = {
  float32: onnx.TensorProto.DataType.FLOAT,
  float64: onnx.TensorProto.DataType.DOUBLE,
  float16: onnx.TensorProto.DataType.FLOAT16,
  int64: onnx.TensorProto.DataType.INT64,
  int32: onnx.TensorProto.DataType.INT32,
  int16: onnx.TensorProto.DataType.INT16,
  int8: onnx.TensorProto.DataType.INT8,
  uint8: onnx.TensorProto.DataType.UINT8,
  uint16: onnx.TensorProto.DataType.UINT16,
  uint32: onnx.TensorProto.DataType.UINT32,
  uint64: onnx.TensorProto.DataType.UINT64,
  bool: onnx.TensorProto.DataType.BOOL,
};

export function onnxElemType(t: ort.Tensor): number {
  const e = ORT_TO_ONNX[t.type];
  if (e === undefined) throw new Error(`tensor type ${t.type} cannot cross a graph cut`);
  return e;
}
