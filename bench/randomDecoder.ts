// A GPT-2-style decoder with random weights at any size, written as ONNX (weights inline, or as external
// data streamed to model.onnx_data so models of several GB are written without holding them in memory).
// Used by the benchmarks that need realistic sizes (bench/large-model.ts, bench/analyze.ts --random-model).
//   npx tsx bench/randomDecoder.ts --out /tmp/gpt2-small --layers 12 --d 768 --vocab 50257 [--external]
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { onnx } from 'onnx-proto';

export interface RandomDecoderSpec {
  readonly layers: number;
  readonly d: number;
  readonly heads: number;
  readonly vocab: number;
  readonly ctx: number;
  readonly seed?: number;
  /** Weights in model.onnx_data beside model.onnx. */
  readonly external?: boolean;
}

export const GPT2_SMALL: RandomDecoderSpec = { layers: 12, d: 768, heads: 12, vocab: 50257, ctx: 1024 };

export function parameterCount(s: RandomDecoderSpec): number {
  const perLayer = 4 * s.d + s.d * 3 * s.d + 3 * s.d + s.d * s.d + s.d + s.d * 4 * s.d + 4 * s.d + 4 * s.d * s.d + s.d;
  return 2 * s.vocab * s.d + s.ctx * s.d + s.layers * perLayer + 2 * s.d;
}

const FLOAT = onnx.TensorProto.DataType.FLOAT;
const INT64 = onnx.TensorProto.DataType.INT64;
const AT = onnx.AttributeProto.AttributeType;

/** Write the model into `dir` (model.onnx, and model.onnx_data when external). Returns the weight bytes. */
export function writeRandomDecoder(dir: string, s: RandomDecoderSpec): number {
  mkdirSync(dir, { recursive: true });
  const { d, heads: H, vocab: V, ctx } = s;
  const hd = d / H;
  let state = (s.seed ?? 1) >>> 0 || 1;
  const nodes: onnx.INodeProto[] = [];
  const inits: onnx.ITensorProto[] = [];
  let counter = 0;
  const dataFd = s.external ? openSync(join(dir, 'model.onnx_data'), 'w') : undefined;
  let dataOffset = 0;
  let weightBytes = 0;

  const fill = (n: number, scale: number, offset = 0): Float32Array => {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      out[i] = offset + ((state >>> 0) / 4294967296 - 0.5) * 2 * scale;
    }
    return out;
  };
  const weight = (name: string, dims: number[], scale: number, offset = 0): string => {
    const n = dims.reduce((a, b) => a * b, 1);
    const t: onnx.ITensorProto = { name, dataType: FLOAT, dims };
    // Filled and written in slices so a 150 MB embedding never exists twice.
    const slice = 1 << 22;
    if (dataFd !== undefined) {
      const pad = (4096 - (dataOffset % 4096)) % 4096;
      if (pad) writeSync(dataFd, new Uint8Array(pad));
      dataOffset += pad;
      for (let at = 0; at < n; at += slice) {
        const part = fill(Math.min(slice, n - at), scale, offset);
        writeSync(dataFd, new Uint8Array(part.buffer));
      }
      t.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
      t.externalData = [
        { key: 'location', value: 'model.onnx_data' },
        { key: 'offset', value: String(dataOffset) },
        { key: 'length', value: String(n * 4) },
      ];
      dataOffset += n * 4;
    } else {
      t.rawData = new Uint8Array(fill(n, scale, offset).buffer);
    }
    weightBytes += n * 4;
    inits.push(t);
    return name;
  };
  const ints = (values: number[], dims = [values.length]): string => {
    const name = `i64_${counter++}`;
    inits.push({ name, dataType: INT64, dims, int64Data: values });
    return name;
  };
  const scalar = (v: number): string => {
    const name = `f_${counter++}`;
    inits.push({ name, dataType: FLOAT, dims: [], rawData: new Uint8Array(Float32Array.of(v).buffer) });
    return name;
  };
  const op = (opType: string, input: string[], attrs: onnx.IAttributeProto[] = [], n = 1, output?: string): string[] => {
    const out = output ? [output] : Array.from({ length: n }, () => `${opType.toLowerCase()}_${counter++}`);
    nodes.push({ opType, input, output: out, attribute: attrs, name: `n${counter++}` });
    return out;
  };
  const one = (opType: string, input: string[], attrs: onnx.IAttributeProto[] = [], output?: string) => op(opType, input, attrs, 1, output)[0];
  const i = (name: string, v: number): onnx.IAttributeProto => ({ name, type: AT.INT, i: v });
  const f = (name: string, v: number): onnx.IAttributeProto => ({ name, type: AT.FLOAT, f: v });
  const is = (name: string, v: number[]): onnx.IAttributeProto => ({ name, type: AT.INTS, ints: v });

  const sd = 0.02;
  const T = one('Gather', [one('Shape', ['input_ids']), ints([1], [])], [i('axis', 0)]);
  const positions = one('Range', [ints([0], []), T, ints([1], [])]);
  let x = one('Add', [one('Gather', [weight('wte', [V, d], sd), 'input_ids']), one('Gather', [weight('wpe', [ctx, d], sd), positions])]);
  const maskRows = new Float32Array(ctx * ctx);
  for (let r = 0; r < ctx; r++) for (let c = r + 1; c < ctx; c++) maskRows[r * ctx + c] = -1e9;
  inits.push({ name: 'causal', dataType: FLOAT, dims: [ctx, ctx], rawData: new Uint8Array(maskRows.buffer) });
  const T1 = one('Unsqueeze', [T, ints([0])]);
  const mask = one('Slice', ['causal', ints([0, 0]), one('Concat', [T1, T1], [i('axis', 0)]), ints([0, 1])]);
  const ln = (inp: string, name: string) =>
    one('LayerNormalization', [inp, weight(`${name}.g`, [d], 0.1, 1), weight(`${name}.b`, [d], 0.02)], [i('axis', -1), f('epsilon', 1e-5)]);
  const linear = (inp: string, name: string, a: number, b: number, scale = sd) => one('Add', [one('MatMul', [inp, weight(`${name}.w`, [a, b], scale)]), weight(`${name}.bias`, [b], 0.01)]);
  const headsOf = (t: string) => one('Transpose', [one('Reshape', [t, ints([0, 0, H, hd])])], [is('perm', [0, 2, 1, 3])]);
  const attnScale = scalar(1 / Math.sqrt(hd));
  for (let l = 0; l < s.layers; l++) {
    const p = `h.${l}`;
    const [q, k, v] = op('Split', [linear(ln(x, `${p}.ln_1`), `${p}.c_attn`, d, 3 * d), ints([d, d, d])], [i('axis', -1)], 3).map(headsOf);
    const scores = one('Add', [one('Mul', [one('MatMul', [q, one('Transpose', [k], [is('perm', [0, 1, 3, 2])])]), attnScale]), mask]);
    const o = one('Transpose', [one('MatMul', [one('Softmax', [scores], [i('axis', -1)]), v])], [is('perm', [0, 2, 1, 3])]);
    const attnOut = linear(one('Reshape', [o, ints([0, 0, d])]), `${p}.attn.c_proj`, d, d, sd / Math.sqrt(2 * s.layers));
    const mid = one('Add', [x, attnOut]);
    const fc = linear(ln(mid, `${p}.ln_2`), `${p}.c_fc`, d, 4 * d);
    const gelu = one('Mul', [one('Mul', [fc, scalar(0.5)]), one('Add', [scalar(1), one('Erf', [one('Mul', [fc, scalar(Math.SQRT1_2)])])])]);
    x = one('Add', [mid, linear(gelu, `${p}.mlp.c_proj`, 4 * d, d, sd / Math.sqrt(2 * s.layers))]);
  }
  one('MatMul', [ln(x, 'ln_f'), weight('lm_head', [d, V], sd)], [], 'logits');
  if (dataFd !== undefined) closeSync(dataFd);
  const model: onnx.IModelProto = {
    irVersion: 8,
    producerName: 'feature-lens-bench',
    opsetImport: [{ domain: '', version: 17 }],
    graph: {
      name: 'random-decoder',
      node: nodes,
      initializer: inits,
      input: [{ name: 'input_ids', type: { tensorType: { elemType: INT64, shape: { dim: [{ dimParam: 'batch' }, { dimParam: 'sequence' }] } } } }],
      output: [{ name: 'logits', type: { tensorType: { elemType: FLOAT, shape: { dim: [{ dimParam: 'batch' }, { dimParam: 'sequence' }, { dimValue: V }] } } } }],
    },
  };
  writeFileSync(join(dir, 'model.onnx'), onnx.ModelProto.encode(model).finish());
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ model_type: 'gpt2', n_layer: s.layers, n_embd: d, n_head: H, vocab_size: V, n_positions: ctx }));
  return weightBytes;
}

function flag(name: string): string | undefined {
  const k = process.argv.indexOf(`--${name}`);
  return k > 0 ? process.argv[k + 1] : undefined;
}

if (require.main === module) {
  const out = flag('out');
  if (!out) throw new Error('usage: randomDecoder.ts --out <dir> [--layers 12 --d 768 --heads 12 --vocab 50257 --ctx 1024] [--external]');
  const spec: RandomDecoderSpec = {
    layers: Number(flag('layers') ?? GPT2_SMALL.layers),
    d: Number(flag('d') ?? GPT2_SMALL.d),
    heads: Number(flag('heads') ?? GPT2_SMALL.heads),
    vocab: Number(flag('vocab') ?? GPT2_SMALL.vocab),
    ctx: Number(flag('ctx') ?? GPT2_SMALL.ctx),
    external: process.argv.includes('--external'),
  };
  const bytes = writeRandomDecoder(out, spec);
  console.log(JSON.stringify({ out, parameters: parameterCount(spec), weightBytes: bytes }));
}
