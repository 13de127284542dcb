// ONNX protobuf access through onnx-proto (protobufjs). Decoding, validation with file-naming errors,
// tensor payload reading and small helpers shared by graph analysis and graph editing.
import { onnx } from 'onnx-proto';

export { onnx };
export type ModelProto = onnx.ModelProto;
export type GraphProto = onnx.IGraphProto;
export type NodeProto = onnx.INodeProto;
export type TensorProto = onnx.ITensorProto;
export type ValueInfoProto = onnx.IValueInfoProto;

/** A model file that could not be used; the message always names the file. */
export class ModelFileError extends Error {
  constructor(
    readonly file: string,
    problem: string,
  ) {
    super(`${file}: ${problem}`);
    this.name = 'ModelFileError';
  }
}

/** protobufjs hands int64 fields back as numbers or Long objects. */
export function toNumber(v: number | { toNumber(): number } | null | undefined): number {
  if (v === null || v === undefined) return 0;
  return typeof v === 'number' ? v : v.toNumber();
}

/** Decode and sanity-check an ONNX model. Truncated or corrupt bytes give a ModelFileError. */
export function decodeModel(bytes: Uint8Array, file: string): ModelProto {
  if (bytes.length === 0) throw new ModelFileError(file, 'the file is empty, not an ONNX model');
  let model: ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new ModelFileError(file, `not a valid ONNX model: the protobuf cannot be decoded (${why}); the file is corrupt or truncated`);
  }
  const graph = model.graph;
  if (!graph || !graph.node || graph.node.length === 0) {
    throw new ModelFileError(file, 'not a valid ONNX model: it has no graph or the graph has no nodes (corrupt or not an .onnx file?)');
  }
  if (!model.opsetImport || model.opsetImport.length === 0) {
    throw new ModelFileError(file, 'not a valid ONNX model: no opset_import (corrupt or not an .onnx file?)');
  }
  if (!graph.output || graph.output.length === 0) throw new ModelFileError(file, 'the graph declares no outputs');
  for (const t of graph.initializer ?? []) {
    if (t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) continue; // checked by externalData.ts
    const need = expectedByteLength(t);
    if (need !== undefined && t.rawData && t.rawData.length > 0 && t.rawData.length !== need) {
      throw new ModelFileError(file, `initializer "${t.name}" holds ${t.rawData.length} bytes but its shape needs ${need}: the file is corrupt or truncated`);
    }
  }
  return model;
}

export function encodeModel(model: onnx.IModelProto): Uint8Array {
  return onnx.ModelProto.encode(model).finish();
}

const BYTES_PER_ELEMENT: Record<number, number> = { 1: 4, 2: 1, 3: 1, 4: 2, 5: 2, 6: 4, 7: 8, 9: 1, 10: 2, 11: 8, 12: 4, 13: 8, 16: 2 };

export function dimsOf(t: TensorProto): number[] {
  return (t.dims ?? []).map((d) => toNumber(d));
}

function expectedByteLength(t: TensorProto): number | undefined {
  const size = BYTES_PER_ELEMENT[t.dataType ?? 0];
  if (size === undefined) return undefined;
  return dimsOf(t).reduce((a, b) => a * b, 1) * size;
}

/** The values of a FLOAT (or DOUBLE/FLOAT16-free integer) initializer as float32, whatever the storage. */
export function tensorToFloat32(t: TensorProto): Float32Array {
  const n = dimsOf(t).reduce((a, b) => a * b, 1);
  const type = t.dataType ?? 0;
  if (t.rawData && t.rawData.length > 0) {
    const raw = t.rawData;
    const buf = new ArrayBuffer(raw.length);
    new Uint8Array(buf).set(raw);
    const view = new DataView(buf);
    const out = new Float32Array(n);
    switch (type) {
      case onnx.TensorProto.DataType.FLOAT:
        for (let i = 0; i < n; i++) out[i] = view.getFloat32(4 * i, true);
        return out;
      case onnx.TensorProto.DataType.DOUBLE:
        for (let i = 0; i < n; i++) out[i] = view.getFloat64(8 * i, true);
        return out;
      case onnx.TensorProto.DataType.INT64:
        for (let i = 0; i < n; i++) out[i] = Number(view.getBigInt64(8 * i, true));
        return out;
      case onnx.TensorProto.DataType.INT32:
        for (let i = 0; i < n; i++) out[i] = view.getInt32(4 * i, true);
        return out;
      default:
        throw new Error(`tensor "${t.name}": data type ${type} is not supported here`);
    }
  }
  const src: ArrayLike<number | { toNumber(): number }> | null | undefined =
    type === onnx.TensorProto.DataType.FLOAT
      ? t.floatData
      : type === onnx.TensorProto.DataType.DOUBLE
        ? t.doubleData
        : type === onnx.TensorProto.DataType.INT64
          ? t.int64Data
          : type === onnx.TensorProto.DataType.INT32
            ? t.int32Data
            : undefined;
  if (!src) throw new Error(`tensor "${t.name}": data type ${type} is not supported here`);
  if (src.length !== n) throw new Error(`tensor "${t.name}": ${src.length} values for shape [${dimsOf(t).join(', ')}]`);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = toNumber(src[i] as number);
  return out;
}

/** A named attribute's integer / integers / tensor, if present. */
export function attrInt(node: NodeProto, name: string): number | undefined {
  const a = node.attribute?.find((x) => x.name === name);
  return a && a.i !== null && a.i !== undefined ? toNumber(a.i) : undefined;
}

export function attrTensor(node: NodeProto, name: string): TensorProto | undefined {
  return node.attribute?.find((x) => x.name === name)?.t ?? undefined;
}

/** Shape of a graph value (input/output/value_info) as numbers (known) or strings (symbolic / unknown). */
export function valueShape(v: ValueInfoProto): (number | string)[] | undefined {
  const shape = v.type?.tensorType?.shape;
  if (!shape) return undefined;
  return (shape.dim ?? []).map((d, i) =>
    d.dimValue !== null && d.dimValue !== undefined && toNumber(d.dimValue) > 0 ? toNumber(d.dimValue) : d.dimParam || `d${i}`,
  );
}

/** A tensor value-info with element type and a shape mixing fixed and symbolic dimensions. */
export function tensorValueInfo(name: string, elemType: number, shape?: readonly (number | string)[]): onnx.IValueInfoProto {
  const tensorType: onnx.TypeProto.ITensor = { elemType };
  if (shape) {
    tensorType.shape = { dim: shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) };
  }
  return { name, type: { tensorType } };
}
