// The fast backend's dense GEMM engine: small ONNX graphs built here and run through ONNX Runtime's
// synchronous native session (MLAS GEMM, intra-op threads). The public InferenceSession.run only wraps
// this same call in a promise; the SAE step is synchronous, so the binding is used directly.
import * as ort from 'onnxruntime-node';
import { binding, initOrt } from 'onnxruntime-node/dist/binding';
import type { AboveEntries, DenseEngine, GemmOptions, RowTopK, SaeDenseStepInputs, SaeDenseStepResult } from '../tensor/denseEngine';
import type { Matrix } from '../tensor';
import { encodeModel, onnx } from './onnxProto';
import { transposeInto } from '../sae/model';
import { OrtHelperThread, type HelperTensor } from './ortHelperThread';

type NativeSession = InstanceType<typeof binding.InferenceSession>;

const FLOAT = onnx.TensorProto.DataType.FLOAT;
const INT32 = onnx.TensorProto.DataType.INT32;
const INT64 = onnx.TensorProto.DataType.INT64;

function io(name: string, dims: (number | string)[], elemType: number = FLOAT): onnx.IValueInfoProto {
  return {
    name,
    type: { tensorType: { elemType, shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) } } },
  };
}

function model(
  name: string,
  node: onnx.INodeProto[],
  input: onnx.IValueInfoProto[],
  output: onnx.IValueInfoProto[],
  initializer: onnx.ITensorProto[] = [],
): Uint8Array {
  return encodeModel({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    producerName: 'feature-lens',
    graph: { name, node, input, output, initializer },
  });
}

const intAttr = (name: string, i: number): onnx.IAttributeProto => ({ name, type: onnx.AttributeProto.AttributeType.INT, i });

function int64Init(name: string, values: readonly number[]): onnx.ITensorProto {
  const raw = new Uint8Array(8 * values.length);
  const view = new DataView(raw.buffer);
  values.forEach((v, i) => view.setBigInt64(8 * i, BigInt(v), true));
  return { name, dataType: INT64, dims: [values.length], rawData: raw };
}

/** A graph node (opType, inputs, one output, optional attributes). */
const op = (opType: string, input: string[], output: string, attribute: onnx.IAttributeProto[] = []): onnx.INodeProto => ({ opType, input, output: [output], attribute });
/** Σ over the batch (axis 0) of a [B × n] tensor, [n]. */
const sumRows = (input: string, output: string): onnx.INodeProto => op('ReduceSum', [input, 'axis0'], output, [intAttr('keepdims', 0)]);
const sumAll = (input: string, output: string): onnx.INodeProto => op('ReduceSum', [input], output, [intAttr('keepdims', 0)]);
/**
 * Σ over the rows of a [rows × n] tensor as the product ones[1 × rows]·input, [1 × n]: MLAS reads the
 * tensor once at memory speed, where ReduceSum over axis 0 took 2–4× as long (bench/dense-step-profile.ts).
 */
const sumRowsByProduct = (input: string, output: string): onnx.INodeProto => op('MatMul', ['ones', input], output);
/** 1 where input > 0, else 0, as float: Greater + Cast, both vectorised (Sign over floats is not, 3–4× slower). */
const positive = (input: string, output: string): onnx.INodeProto[] => [
  op('Greater', [input, 'zero'], `${output}_b`),
  op('Cast', [`${output}_b`], output, [intAttr('to', FLOAT)]),
];

/**
 * The nodes of a dense ReLU / Gated step (DenseEngine.saeDenseStep). Inputs x, xin [B×d], w_enc [d×n],
 * w_dec [n×d], b_dec [d], bias, penalty [n] (gated also b_mag, scale [n]), k2 [1] = 2/B, ones [1×B], zero [].
 * Masks are 0/1 floats (Greater + Cast). Every GEMM runs in MLAS; only [d×n], [n×d], [n] and [B×d]
 * tensors leave the graph.
 *
 * The order is chosen for memory: each [B×n] tensor is consumed as soon as possible (the checksum and the
 * firing bits right after their input exists, the gate path before the magnitude path), so that fewer
 * [B×n] buffers are alive at once. Σ over rows of dL/dpre comes out of the W_enc-gradient GEMM as one
 * more row, from xin extended by a column of ones, instead of another pass over [B×n].
 * The weight gradients add onto acc_w_enc [d+1 × n] and acc_w_dec_t [d × n] (or a [1 × n] row of zeros,
 * broadcast, for the first slice).
 */
function saeDenseStepNodes(kind: 'relu' | 'gated'): onnx.INodeProto[] {
  // x̂ = code·W_dec + b_dec, Σ‖x̂ − x‖², dL/dx̂ (`out` names x̂, the rest are prefixed with `tag`).
  const decode = (code: string, out: string, tag: string): onnx.INodeProto[] => [
    op('Gemm', [code, 'w_dec', 'b_dec'], out),
    op('Sub', [out, 'x'], `${tag}r`),
    op('Mul', [`${tag}r`, `${tag}r`], `${tag}r2`),
    sumAll(`${tag}r2`, `${tag}sq_err`),
    op('Mul', [`${tag}r`, 'k2'], `${tag}dxhat`),
  ];
  // The code's firing as bit masks: `fire` (0/1) reshaped to [B/blk, blk, n] and multiplied by the powers
  // of two 2^0..2^(blk−1) gives, per block of rows and latent, an integer whose bits are the rows that
  // fired (exact in float32 for blk ≤ 24): one cheap read of the mask instead of a strided ReduceMax.
  const fireBits = (fire: string): onnx.INodeProto[] => [op('Reshape', [fire, 'block_shape'], 'fire_blocks'), op('MatMul', ['block_bits', 'fire_blocks'], 'fire_bits')];
  // The two weight gradients run as plain (untransposed) products whose left operand is a small transposed
  // copy ([d × rows]): MLAS packs only its right operand, and with transA it transposes panels of the left one
  // again for every block of output columns (slower in bench/dense-floor.ts). Each adds onto its C input,
  // the sum over the previous slices, so the slices' gradients are summed inside the graph.
  // [xin | 1]ᵀ·dL/dpre: W_enc's gradient [d×n] followed by the row Σ_b dL/dpre [n].
  const encoderGrad = (dPre: string): onnx.INodeProto[] => [
    op('Transpose', ['xin'], 'xin_t'),
    op('Concat', ['xin_t', 'ones'], 'xin1_t', [intAttr('axis', 0)]),
    op('Gemm', ['xin1_t', dPre, 'acc_w_enc'], 'g_w_enc_sums'),
  ];
  // dL/dx̂ᵀ·code: W_dec's gradient transposed [d×n] (the engine transposes the sum once).
  const decoderGrad = (code: string): onnx.INodeProto[] => [op('Transpose', ['dxhat'], 'dxhat_t'), op('Gemm', ['dxhat_t', code, 'acc_w_dec_t'], 'g_w_dec_t')];
  if (kind === 'relu') {
    return [
      op('Gemm', ['xin', 'w_enc', 'bias'], 'pre'),
      sumAll('pre', 'checksum'),
      op('Relu', ['pre'], 'f'),
      ...positive('pre', 'active'),
      ...fireBits('active'),
      sumRowsByProduct('f', 'act_sums'),
      ...decode('f', 'xhat', ''),
      sumRows('dxhat', 'dxhat_sums'),
      ...decoderGrad('f'),
      // dL/dpre = (dL/dx̂·W_decᵀ + penalty)·1[f > 0]; the penalty rides in as Gemm's bias.
      op('Gemm', ['dxhat', 'w_dec', 'penalty'], 'df_pen', [intAttr('transB', 1)]),
      op('Mul', ['df_pen', 'active'], 'dpre'),
      ...encoderGrad('dpre'),
    ];
  }
  return [
    op('MatMul', ['xin', 'w_enc'], 'p'),
    sumAll('p', 'checksum'),
    // Gate path first, so that G is gone before the magnitude path's tensors exist.
    op('Add', ['p', 'bias'], 'pi_gate'),
    op('Relu', ['pi_gate'], 'g'),
    ...positive('pi_gate', 'open'),
    sumRowsByProduct('g', 'act_sums'),
    // The auxiliary reconstruction from G through the (frozen) decoder reaches π_gate only.
    ...decode('g', 'xaux', 'aux_'),
    op('Gemm', ['aux_dxhat', 'w_dec', 'penalty'], 'dgate_pen', [intAttr('transB', 1)]),
    op('Mul', ['dgate_pen', 'open'], 'dpi_gate'),
    sumRowsByProduct('dpi_gate', 'gate_sums'),
    op('Mul', ['p', 'scale'], 'p_scaled'),
    op('Add', ['p_scaled', 'b_mag'], 'pi_mag'),
    op('Relu', ['pi_mag'], 'mag'),
    op('Mul', ['mag', 'open'], 'f'),
    ...positive('f', 'fired'),
    ...fireBits('fired'),
    ...decode('f', 'xhat', ''),
    sumRows('dxhat', 'dxhat_sums'),
    ...decoderGrad('f'),
    op('Gemm', ['dxhat', 'w_dec'], 'dmag', [intAttr('transB', 1)]),
    op('Mul', ['dmag', 'fired'], 'dpi_mag'),
    sumRowsByProduct('dpi_mag', 'mag_sums'),
    op('Mul', ['dpi_mag', 'p'], 'dpi_mag_p'),
    sumRowsByProduct('dpi_mag_p', 'mag_p_sums'),
    op('Mul', ['dpi_mag', 'scale'], 'dpi_mag_scaled'),
    op('Add', ['dpi_gate', 'dpi_mag_scaled'], 'dp'),
    ...encoderGrad('dp'),
  ];
}

/** Rows per firing bit mask: the largest divisor of B up to 24 (float32 holds 2^24 exactly). */
function rowBlock(rows: number): number {
  for (let blk = Math.min(24, rows); blk > 1; blk--) if (rows % blk === 0) return blk;
  return 1;
}

/** Per latent, the rows that fired and the last of them counted from 1, from [nb × n] bit masks of blk rows. */
function firingFromBits(bits: Float32Array, nb: number, blk: number, n: number): { fireCount: Float32Array; lastRow: Float32Array } {
  const fireCount = new Float32Array(n);
  const lastRow = new Float32Array(n);
  for (let b = 0; b < nb; b++) {
    const base = b * n;
    for (let j = 0; j < n; j++) {
      let m = bits[base + j] | 0; // an integer below 2^24
      if (m === 0) continue;
      lastRow[j] = b * blk + 32 - Math.clz32(m); // highest set bit i: row b·blk + i, counted from 1
      // Population count without a loop per set bit (about half of a mask's bits are set at initialisation).
      m -= (m >>> 1) & 0x55555555;
      m = (m & 0x33333333) + ((m >>> 2) & 0x33333333);
      fireCount[j] += Math.imul((m + (m >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
    }
  }
  return { fireCount, lastRow };
}

// BIAS_OUTSIDE_THE_GEMM: ONNX Runtime's Gemm with a bias first broadcasts the bias into its whole output
// and then accumulates onto it (two more passes over a [batch × d_sae] product); the selection graphs run
// a bias-free MatMul instead and apply the bias per column where it is cheap (docs/performance.md).

/**
 * A float32 bound t with p > t for every float32 p whose float32 sum p + bias exceeds lower: lower − bias
 * less a margin well above the rounding of both subtractions.
 */
function looseBound(lower: number, bias: number): number {
  return Math.fround(lower - bias - 2 ** -20 * (Math.abs(lower) + Math.abs(bias)) - 1e-30);
}

/** Rows (counted from `row0`) and columns of ascending flat indices r·n + j, written from position `at`. */
function unflatten(index: Int32Array, n: number, row0: number, rows: Int32Array, cols: Int32Array, at: number): void {
  let r = 0;
  let rowStart = 0;
  for (let e = 0; e < index.length; e++) {
    const f = index[e];
    if (f >= rowStart + n) {
      r = Math.floor(f / n);
      rowStart = r * n;
    }
    rows[at + e] = row0 + r;
    cols[at + e] = f - rowStart;
  }
}

/** 0 when every entry of v is finite (or v is absent), NaN otherwise: added to a product's checksum. */
function finiteCheck(v: Float32Array | undefined): number {
  let s = 0;
  if (v) for (let i = 0; i < v.length; i++) s += v[i] * 0;
  return s;
}

export interface OrtEngineOptions {
  readonly intraOpThreads?: number;
  /** Benchmarks only: every session writes ONNX Runtime's per-node JSON profile under this prefix (ended at dispose). */
  readonly profileFilePrefix?: string;
  /** Rows per run of the fused dense step (DENSE_STEP_ROWS); tests set it small to exercise the split. */
  readonly denseStepRows?: number;
  /**
   * Product entries (rows × columns) from which the selection graphs (gemmAbove, gemmRowTopK) run the
   * bottom half of their rows on a helper thread with its own sessions (SPLIT_SELECTION_FROM with 2 or more
   * intra-op threads, never with 1). Tests set it to 1 to exercise the split on small products.
   */
  readonly splitSelectionFrom?: number;
}

/**
 * Rows of the batch per run of the fused dense step: a batch of 4096 runs as 4 slices of 1024. Each slice's
 * [rows × d_sae] intermediates are 4× smaller, so they fit a modest ONNX Runtime arena that is reused from
 * step to step (no fresh pages to fault in: 0.3–1.1 GB per step at 512/8192 without it), and the gradients
 * of the slices add up (the loss is a sum over rows).
 */
export const DENSE_STEP_ROWS = 1024;

/**
 * From this many product entries a selection runs as two row halves at once, this thread's and a helper
 * thread's (4 M: a 512-row batch at d_sae 8192). The operators after the GEMM run on one thread each, so two
 * halves take about half their time; below this the helper's round trip and the input copies are not worth it.
 */
export const SPLIT_SELECTION_FROM = 1 << 22;

type Outputs = Record<string, Float32Array | Int32Array | BigInt64Array | Uint8Array>;

class OrtDenseEngine implements DenseEngine {
  readonly name: string;
  private readonly sessions = new Map<string, NativeSession>();

  /** The selection graphs' helper thread: created on the first split, undefined after it failed once. */
  private helper: OrtHelperThread | undefined;
  private helperFailed = false;
  /** Row halves the helper thread has run (tests check that a split really happened). */
  helperRuns = 0;

  constructor(
    private readonly threads: number,
    private readonly profileFilePrefix?: string,
    private readonly denseStepRows = DENSE_STEP_ROWS,
    private readonly splitSelectionFrom = Number.POSITIVE_INFINITY,
  ) {
    this.name = `onnxruntime (${threads} threads)`;
  }

  /** Sessions run with all the engine's threads, except a split selection's half (`threads` given). */
  private session(key: string, build: () => Uint8Array, threads = this.threads): NativeSession {
    let s = this.sessions.get(key);
    if (!s) {
      const bytes = build();
      s = new binding.InferenceSession();
      s.loadModel(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.byteLength, {
        executionProviders: ['cpu'],
        // The dense step's graph runs as written: ONNX Runtime's optimiser would fold its Transposes back
        // into the weight-gradient Gemms as transA (GemmTransposeFusion), the slower layout.
        graphOptimizationLevel: key.startsWith('sae-dense') ? 'disabled' : 'all',
        intraOpNumThreads: threads,
        interOpNumThreads: 1,
        executionMode: 'sequential',
        logSeverityLevel: 3,
        ...(this.profileFilePrefix ? { enableProfiling: true, profileFilePrefix: `${this.profileFilePrefix}${key.replace(/[^a-z0-9-]/gi, '_')}` } : {}),
        // Spinning pools steal the cores the JavaScript half of the step needs.
        extra: { session: { intra_op: { allow_spinning: '0' } } },
      });
      this.sessions.set(key, s);
    }
    return s;
  }

  /**
   * A sparse selection means the caller is on its sparse path (Gated/ReLU past their first few percent of
   * steps, or another architecture): the fused dense step's sessions and their arenas (hundreds of MB at
   * d_sae 8192) go back; a later dense step builds its session again.
   */
  private releaseDenseSteps(): void {
    for (const [key, s] of this.sessions) {
      if (!key.startsWith('sae-dense')) continue;
      if (this.profileFilePrefix) s.endProfiling();
      s.dispose();
      this.sessions.delete(key);
    }
  }

  private run(s: NativeSession, feeds: Record<string, ort.Tensor>, outputs: string[]): Record<string, ort.Tensor> {
    const fetches: Record<string, null> = {};
    for (const o of outputs) fetches[o] = null;
    return s.run(feeds, fetches, {}) as Record<string, ort.Tensor>;
  }

  /**
   * Runs a selection graph over the rows of `a` (input 'a'; `rest` are its other inputs, the same for every
   * row). A large product runs as two halves at once: rows [0, split) here with half the threads, rows
   * [split, a.rows) on the helper thread; the caller joins the halves' outputs (`bottom` undefined when the
   * call was not split). The graph's outputs must be row-wise, so that the halves' results are the whole's.
   */
  private runRows(
    key: string,
    build: () => Uint8Array,
    a: Matrix,
    n: number,
    rest: Record<string, HelperTensor>,
    outputs: string[],
  ): { top: Outputs; bottom?: Outputs; split: number } {
    const tensors = (t: Record<string, HelperTensor>): Record<string, ort.Tensor> => {
      const feeds: Record<string, ort.Tensor> = {};
      for (const [name, v] of Object.entries(t)) feeds[name] = new ort.Tensor(v.type, v.data, v.dims as number[]);
      return feeds;
    };
    const data = (out: Record<string, ort.Tensor>): Outputs => {
      const r: Outputs = {};
      for (const o of outputs) r[o] = out[o].data as Outputs[string];
      return r;
    };
    const rowsOf = (from: number, to: number): HelperTensor => ({ type: 'float32', dims: [to - from, a.cols], data: a.data.subarray(from * a.cols, to * a.cols) });
    const helper = a.rows >= 2 && a.rows * n >= this.splitSelectionFrom ? this.helperThread() : undefined;
    if (!helper) return { top: data(this.run(this.session(key, build), tensors({ a: rowsOf(0, a.rows), ...rest }), outputs)), split: a.rows };
    const split = Math.ceil(a.rows / 2);
    const half = this.session(`${key}/half`, build, Math.ceil(this.threads / 2));
    const own: Record<string, HelperTensor> = { a: { ...rowsOf(split, a.rows), data: a.data.slice(split * a.cols, a.rows * a.cols) } };
    for (const [name, v] of Object.entries(rest)) own[name] = { ...v, data: v.data.slice() };
    let bottom: Outputs | undefined;
    let started = false;
    try {
      helper.start(key, build, own, outputs);
      started = true;
    } catch {
      this.dropHelper();
    }
    let top: Outputs;
    try {
      top = data(this.run(half, tensors({ a: rowsOf(0, split), ...rest }), outputs));
    } finally {
      // Collected even when this half threw, so the helper is free for the next call.
      if (started) {
        try {
          bottom = helper.finish() as Outputs;
          this.helperRuns++;
        } catch {
          this.dropHelper();
        }
      }
    }
    // The helper failed (it is not used again): this thread runs the bottom half too.
    bottom ??= data(this.run(half, tensors({ a: rowsOf(split, a.rows), ...rest }), outputs));
    return { top, bottom, split };
  }

  private helperThread(): OrtHelperThread | undefined {
    if (this.helper || this.helperFailed) return this.helper;
    try {
      this.helper = new OrtHelperThread({
        intraOpNumThreads: Math.max(1, Math.floor(this.threads / 2)),
        graphOptimizationLevel: 'all',
        ...(this.profileFilePrefix ? { profileFilePrefix: `${this.profileFilePrefix}helper_` } : {}),
      });
    } catch {
      this.helperFailed = true;
    }
    return this.helper;
  }

  private dropHelper(): void {
    this.helper?.dispose();
    this.helper = undefined;
    this.helperFailed = true;
  }

  gemm(a: Matrix, b: Matrix, options: GemmOptions = {}): Matrix {
    const transA = options.transA === true;
    const transB = options.transB === true;
    const m = transA ? a.cols : a.rows;
    const ka = transA ? a.rows : a.cols;
    const kb = transB ? b.cols : b.rows;
    const n = transB ? b.rows : b.cols;
    if (ka !== kb) throw new Error(`gemm: inner sizes ${ka} and ${kb} differ`);
    if (options.bias && options.bias.length !== n) throw new Error(`gemm: bias has ${options.bias.length} values, expected ${n}`);
    if (m === 0 || n === 0) return { data: new Float32Array(m * n), rows: m, cols: n };
    if (ka === 0) {
      const data = new Float32Array(m * n);
      if (options.bias) for (let i = 0; i < m; i++) data.set(options.bias, i * n);
      return { data, rows: m, cols: n };
    }
    const hasBias = options.bias !== undefined;
    const key = `gemm:${+transA}${+transB}${+hasBias}`;
    const s = this.session(key, () =>
      model(
        'gemm',
        [{ opType: 'Gemm', input: hasBias ? ['a', 'b', 'c'] : ['a', 'b'], output: ['y'], attribute: [intAttr('transA', +transA), intAttr('transB', +transB)] }],
        [io('a', ['r', 'c']), io('b', ['p', 'q']), ...(hasBias ? [io('c', ['n'])] : [])],
        [io('y', ['m', 'n'])],
      ),
    );
    const feeds: Record<string, ort.Tensor> = {
      a: new ort.Tensor('float32', a.data, [a.rows, a.cols]),
      b: new ort.Tensor('float32', b.data, [b.rows, b.cols]),
    };
    if (options.bias) feeds.c = new ort.Tensor('float32', options.bias, [n]);
    const y = this.run(s, feeds, ['y']).y;
    return { data: y.data as Float32Array, rows: m, cols: n };
  }

  gemmRowTopK(a: Matrix, b: Matrix, bias: Float32Array | undefined, shift: Float32Array | undefined, k: number): RowTopK {
    this.releaseDenseSteps();
    if (a.cols !== b.rows) throw new Error(`gemmRowTopK: ${a.rows}×${a.cols} · ${b.rows}×${b.cols}`);
    const n = b.cols;
    if (!Number.isInteger(k) || k < 1 || k > n) throw new Error(`gemmRowTopK: k ${k} outside 1..${n}`);
    // The bias is not Gemm's: see BIAS_OUTSIDE_THE_GEMM. Scores P·W − (shift − bias), values P·W + bias.
    const build = (): Uint8Array =>
      model(
        'gemm_topk',
        [
          { opType: 'MatMul', input: ['a', 'b'], output: ['p'] },
          { opType: 'Sub', input: ['p', 'shift'], output: ['s'] },
          { opType: 'TopK', input: ['s', 'k'], output: ['scores', 'idx64'], attribute: [intAttr('axis', -1), intAttr('largest', 1), intAttr('sorted', 0)] },
          { opType: 'GatherElements', input: ['p', 'idx64'], output: ['values'], attribute: [intAttr('axis', 1)] },
          { opType: 'Cast', input: ['idx64'], output: ['indices'], attribute: [intAttr('to', INT32)] },
          { opType: 'ReduceSum', input: ['p'], output: ['checksum'], attribute: [intAttr('keepdims', 0)] },
        ],
        [io('a', ['r', 'c']), io('b', ['c', 'n']), io('shift', ['n']), io('k', [1], INT64)],
        [io('values', ['r', 'k']), io('scores', ['r', 'k']), io('indices', ['r', 'k'], INT32), io('checksum', [])],
      );
    const { top, bottom } = this.runRows('topk-matmul', build, a, n, {
      b: { type: 'float32', dims: [b.rows, b.cols], data: b.data },
      shift: { type: 'float32', dims: [n], data: bias ? Float32Array.from(bias, (bj, j) => (shift ? shift[j] : 0) - bj) : (shift ?? new Float32Array(n)) },
      k: { type: 'int64', dims: [1], data: BigInt64Array.of(BigInt(k)) },
    }, ['values', 'scores', 'indices', 'checksum']);
    // Row halves (a split call) are joined top then bottom: rows keep their order.
    const join = <T extends Float32Array | Int32Array>(name: string, make: (len: number) => T): T => {
      const t = top[name] as T;
      if (!bottom) return t;
      const u = bottom[name] as T;
      const all = make(t.length + u.length);
      all.set(t);
      all.set(u, t.length);
      return all;
    };
    const values = join('values', (len) => new Float32Array(len));
    const indices = join('indices', (len) => new Int32Array(len));
    if (bias) for (let e = 0; e < values.length; e++) values[e] += bias[indices[e]];
    const checksum = (top.checksum as Float32Array)[0] + (bottom ? (bottom.checksum as Float32Array)[0] : 0);
    return {
      k,
      checksum: checksum + finiteCheck(bias),
      values,
      scores: join('scores', (len) => new Float32Array(len)),
      indices,
    };
  }

  gemmAbove(a: Matrix, b: Matrix, bias: Float32Array | undefined, lower: Float32Array): AboveEntries {
    this.releaseDenseSteps();
    if (a.cols !== b.rows) throw new Error(`gemmAbove: ${a.rows}×${a.cols} · ${b.rows}×${b.cols}`);
    const n = b.cols;
    if (lower.length !== n) throw new Error(`gemmAbove: ${lower.length} bounds for ${n} columns`);
    // The bias is not Gemm's (BIAS_OUTSIDE_THE_GEMM): the product P·W is compared against bounds loosened
    // to pick a superset, and the exact test P·W + bias > lower is made here on the few picked entries.
    // NonZero runs over the flattened mask: its one-coordinate loop is cheaper than the [rows × n] one, and
    // Gather by flat index replaces Transpose + GatherND (docs/performance.md, session 7).
    if (a.rows * n > 2 ** 31 - 1) throw new Error(`gemmAbove: ${a.rows}×${n} entries exceed int32 indices`);
    const build = (): Uint8Array =>
      model(
        'gemm_above',
        [
          { opType: 'MatMul', input: ['a', 'b'], output: ['p'] },
          { opType: 'Greater', input: ['p', 'lower'], output: ['m'] },
          { opType: 'Reshape', input: ['m', 'flat'], output: ['mf'] },
          { opType: 'NonZero', input: ['mf'], output: ['nz'] },
          { opType: 'Reshape', input: ['nz', 'flat'], output: ['at'] },
          { opType: 'Reshape', input: ['p', 'flat'], output: ['pf'] },
          { opType: 'Gather', input: ['pf', 'at'], output: ['values'], attribute: [intAttr('axis', 0)] },
          { opType: 'Cast', input: ['at'], output: ['index'], attribute: [intAttr('to', INT32)] },
          { opType: 'ReduceSum', input: ['p'], output: ['checksum'], attribute: [intAttr('keepdims', 0)] },
        ],
        [io('a', ['r', 'c']), io('b', ['c', 'n']), io('lower', ['n'])],
        [io('values', ['z']), io('index', ['z'], INT32), io('checksum', [])],
        [int64Init('flat', [-1])],
      );
    const { top, bottom, split } = this.runRows('above-matmul', build, a, n, {
      b: { type: 'float32', dims: [b.rows, b.cols], data: b.data },
      lower: { type: 'float32', dims: [n], data: bias ? Float32Array.from(lower, (l, j) => looseBound(l, bias[j])) : lower },
    }, ['values', 'index', 'checksum']);
    // Flat indices r·n + j ascend, so rows and columns come out in row-major order. A split call's bottom
    // half counts its rows from `split`; its entries follow the top half's.
    const topIndex = top.index as Int32Array;
    const lowIndex = bottom ? (bottom.index as Int32Array) : new Int32Array(0);
    const z1 = topIndex.length;
    const rows = new Int32Array(z1 + lowIndex.length);
    const cols = new Int32Array(z1 + lowIndex.length);
    unflatten(topIndex, n, 0, rows, cols, 0);
    unflatten(lowIndex, n, split, rows, cols, z1);
    let values = top.values as Float32Array;
    let checksum = (top.checksum as Float32Array)[0];
    if (bottom) {
      const v = new Float32Array(rows.length);
      v.set(values);
      v.set(bottom.values as Float32Array, z1);
      values = v;
      checksum += (bottom.checksum as Float32Array)[0];
    }
    checksum += finiteCheck(bias);
    const z = values.length;
    if (!bias) return { rows, cols, values, checksum };
    let kept = 0;
    for (let e = 0; e < z; e++) {
      const j = cols[e];
      const v = Math.fround(values[e] + bias[j]);
      if (v > lower[j]) {
        rows[kept] = rows[e];
        cols[kept] = j;
        values[kept++] = v;
      }
    }
    return { rows: rows.subarray(0, kept), cols: cols.subarray(0, kept), values: values.subarray(0, kept), checksum };
  }

  gemmTransBGather(a: Matrix, b: Matrix, indices: Int32Array, width: number): Float32Array {
    if (a.cols !== b.cols) throw new Error(`gemmTransBGather: ${a.rows}×${a.cols} · (${b.rows}×${b.cols})ᵀ`);
    if (indices.length !== a.rows * width) throw new Error(`gemmTransBGather: ${indices.length} indices for ${a.rows}×${width}`);
    if (a.rows === 0 || width === 0) return new Float32Array(0);
    const s = this.session('gather', () =>
      model(
        'gemm_gather',
        [
          { opType: 'Gemm', input: ['a', 'b'], output: ['p'], attribute: [intAttr('transB', 1)] },
          { opType: 'Cast', input: ['idx'], output: ['idx64'], attribute: [intAttr('to', INT64)] },
          { opType: 'GatherElements', input: ['p', 'idx64'], output: ['y'], attribute: [intAttr('axis', 1)] },
        ],
        [io('a', ['r', 'd']), io('b', ['n', 'd']), io('idx', ['r', 'w'], INT32)],
        [io('y', ['r', 'w'])],
      ),
    );
    const out = this.run(
      s,
      {
        a: new ort.Tensor('float32', a.data, [a.rows, a.cols]),
        b: new ort.Tensor('float32', b.data, [b.rows, b.cols]),
        idx: new ort.Tensor('int32', indices, [a.rows, width]),
      },
      ['y'],
    );
    return out.y.data as Float32Array;
  }

  saeDenseStep(inputs: SaeDenseStepInputs): SaeDenseStepResult {
    const { kind, x, xin, wEnc, wDec, bDec, bias, penalty } = inputs;
    const B = x.rows;
    const d = x.cols;
    const n = wEnc.cols;
    if (xin.rows !== B || xin.cols !== d || wEnc.rows !== d || wDec.rows !== n || wDec.cols !== d || bDec.length !== d || bias.length !== n || penalty.length !== n) {
      throw new Error(`saeDenseStep: shapes x ${B}×${d}, xin ${xin.rows}×${xin.cols}, W_enc ${wEnc.rows}×${n}, W_dec ${wDec.rows}×${wDec.cols}`);
    }
    const gated = kind === 'gated';
    if (gated && (inputs.bMag?.length !== n || inputs.scale?.length !== n)) throw new Error('saeDenseStep: gated needs b_mag and scale per latent');
    const vec = ['act_sums', ...(gated ? ['gate_sums', 'mag_sums', 'mag_p_sums'] : [])];
    const s = this.session(`sae-dense:${kind}`, () =>
      model(
        `sae_dense_${kind}`,
        saeDenseStepNodes(kind),
        [
          io('x', ['b', 'd']),
          io('xin', ['b', 'd']),
          io('w_enc', ['d', 'n']),
          io('w_dec', ['n', 'd']),
          io('b_dec', ['d']),
          io('bias', ['n']),
          io('penalty', ['n']),
          io('k2', [1]),
          io('block_shape', [3], INT64),
          io('block_bits', [1, 'blk']),
          io('ones', [1, 'b']),
          io('zero', []),
          ...(gated ? [io('b_mag', ['n']), io('scale', ['n'])] : []),
          io('acc_w_enc', ['ae', 'n']),
          io('acc_w_dec_t', ['ad', 'n']),
        ],
        [
          io('xhat', ['b', 'd']),
          io('sq_err', []),
          ...(gated ? [io('aux_sq_err', [])] : []),
          io('g_w_enc_sums', ['d1', 'n']),
          io('g_w_dec_t', ['d', 'n']),
          io('dxhat_sums', ['d']),
          ...vec.map((v) => io(v, [1, 'n'])),
          io('fire_bits', ['nb', 1, 'n']),
          io('checksum', []),
        ],
        [int64Init('axis0', [0])],
      ),
    );
    const t = (data: Float32Array, dims: number[]): ort.Tensor => new ort.Tensor('float32', data, dims);
    const shared: Record<string, ort.Tensor> = {
      w_enc: t(wEnc.data, [d, n]),
      w_dec: t(wDec.data, [n, d]),
      b_dec: t(bDec, [d]),
      bias: t(bias, [n]),
      penalty: t(penalty, [n]),
      k2: t(Float32Array.of(2 / B), [1]),
      zero: t(Float32Array.of(0), []),
      ...(gated ? { b_mag: t(inputs.bMag!, [n]), scale: t(inputs.scale!, [n]) } : {}),
    };
    const names = ['xhat', 'sq_err', ...(gated ? ['aux_sq_err'] : []), 'g_w_enc_sums', 'g_w_dec_t', 'dxhat_sums', ...vec, 'fire_bits', 'checksum'];
    // Equal slices of at most denseStepRows rows; every output is a sum over rows except x̂ (placed) and
    // the firing statistics (shifted by the slice's first row). The weight gradients are summed inside the
    // graph: each slice's Gemm adds onto the previous slice's result (its C input); the first onto a
    // broadcast row of zeros.
    const slices = Math.ceil(B / this.denseStepRows);
    const per = Math.ceil(B / slices);
    const xhat = slices === 1 ? undefined : new Float32Array(B * d);
    const fireCount = new Float32Array(n);
    const lastRow = new Float32Array(n);
    let sum: Record<string, Float32Array> | undefined;
    let sqErr = 0;
    let auxSqErr = 0;
    let checksum = 0;
    const zeros = t(new Float32Array(n), [1, n]);
    let accWEnc = zeros;
    let accWDecT = zeros;
    for (let r0 = 0; r0 < B; r0 += per) {
      const rows = Math.min(per, B - r0);
      const blk = rowBlock(rows);
      const out = this.run(
        s,
        {
          ...shared,
          x: t(x.data.subarray(r0 * d, (r0 + rows) * d), [rows, d]),
          xin: t(xin.data.subarray(r0 * d, (r0 + rows) * d), [rows, d]),
          block_shape: new ort.Tensor('int64', BigInt64Array.of(BigInt(rows / blk), BigInt(blk), BigInt(n)), [3]),
          block_bits: t(Float32Array.from({ length: blk }, (_, i) => 2 ** i), [1, blk]),
          ones: t(new Float32Array(rows).fill(1), [1, rows]),
          acc_w_enc: accWEnc,
          acc_w_dec_t: accWDecT,
        },
        names,
      );
      const f32 = (name: string): Float32Array => out[name].data as Float32Array;
      sqErr += f32('sq_err')[0];
      if (gated) auxSqErr += f32('aux_sq_err')[0];
      checksum += f32('checksum')[0];
      if (xhat) xhat.set(f32('xhat'), r0 * d);
      const fired = firingFromBits(f32('fire_bits'), rows / blk, blk, n);
      for (let j = 0; j < n; j++) {
        fireCount[j] += fired.fireCount[j];
        if (fired.lastRow[j] > 0) lastRow[j] = r0 + fired.lastRow[j];
      }
      accWEnc = out.g_w_enc_sums;
      accWDecT = out.g_w_dec_t;
      const acc = ['xhat', 'dxhat_sums', ...vec];
      if (!sum) {
        sum = Object.fromEntries(acc.map((name) => [name, f32(name)]));
      } else {
        for (const name of acc.slice(1)) {
          const into = sum[name];
          const add = f32(name);
          for (let i = 0; i < into.length; i++) into[i] += add[i];
        }
      }
    }
    const v = sum!;
    const gWEncSums = accWEnc.data as Float32Array;
    const gWDec = new Float32Array(n * d);
    transposeInto(accWDecT.data as Float32Array, d, n, gWDec);
    return {
      reconstruction: { data: xhat ?? v.xhat, rows: B, cols: d },
      sqErr,
      auxSqErr,
      gWEnc: gWEncSums.subarray(0, d * n),
      gWDec,
      dXHatSums: v.dxhat_sums,
      preSums: gWEncSums.subarray(d * n),
      actSums: v.act_sums,
      ...(gated ? { gateSums: v.gate_sums, magSums: v.mag_sums, magPSums: v.mag_p_sums } : {}),
      fireCount,
      lastRow,
      checksum,
    };
  }

  gemmSum(a: Matrix, b: Matrix): number {
    const s = this.session('sum', () =>
      model(
        'gemm_sum',
        [
          { opType: 'MatMul', input: ['a', 'b'], output: ['p'] },
          { opType: 'ReduceSum', input: ['p'], output: ['y'], attribute: [intAttr('keepdims', 0)] },
        ],
        [io('a', ['r', 'c']), io('b', ['c', 'n'])],
        [io('y', [])],
      ),
    );
    const out = this.run(s, { a: new ort.Tensor('float32', a.data, [a.rows, a.cols]), b: new ort.Tensor('float32', b.data, [b.rows, b.cols]) }, ['y']);
    return (out.y.data as Float32Array)[0];
  }

  dispose(): void {
    this.helper?.dispose();
    this.helper = undefined;
    for (const s of this.sessions.values()) {
      if (this.profileFilePrefix) s.endProfiling();
      s.dispose();
    }
    this.sessions.clear();
  }
}

/** Loads ONNX Runtime's native binding; throws if it cannot (the caller falls back to the reference backend). */
export function createOrtDenseEngine(options: OrtEngineOptions = {}): DenseEngine {
  initOrt();
  const threads = Math.max(1, Math.floor(options.intraOpThreads ?? 2));
  return new OrtDenseEngine(
    threads,
    options.profileFilePrefix,
    Math.max(1, Math.floor(options.denseStepRows ?? DENSE_STEP_ROWS)),
    options.splitSelectionFrom ?? (threads >= 2 ? SPLIT_SELECTION_FROM : Number.POSITIVE_INFINITY),
  );
}
