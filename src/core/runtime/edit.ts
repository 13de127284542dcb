// Graph editing: expose intermediate tensors as graph outputs, and cut a graph at a tensor into a prefix
// (everything the tensor needs) and a suffix (everything the outputs need beyond the prefix), so that the
// tensor can be replaced exactly. The original model object is never mutated.
import { GraphIndex } from './graph';
import { onnx, type ModelProto, type NodeProto, type ValueInfoProto } from './onnxProto';

export interface OutputSpec {
  readonly name: string;
  /** Left out: ONNX Runtime infers the output's type. */
  readonly elemType?: number;
  readonly shape?: readonly (number | string)[];
}

function withGraph(model: ModelProto, graph: onnx.IGraphProto): onnx.IModelProto {
  return { ...model, graph } as onnx.IModelProto;
}

/** The model with extra graph outputs (tensors already among the outputs are kept once). */
export function addOutputs(model: ModelProto, outputs: readonly OutputSpec[]): onnx.IModelProto {
  const g = model.graph as onnx.IGraphProto;
  const existing = new Set((g.output ?? []).map((o) => o.name));
  const extra: ValueInfoProto[] = [];
  for (const o of outputs) {
    if (existing.has(o.name)) continue;
    existing.add(o.name);
    extra.push(valueInfo(o));
  }
  return withGraph(model, { ...g, output: [...(g.output ?? []), ...extra] });
}

function valueInfo(o: OutputSpec): ValueInfoProto {
  if (o.elemType === undefined) return { name: o.name };
  const tensorType: onnx.TypeProto.ITensor = { elemType: o.elemType };
  if (o.shape) tensorType.shape = { dim: o.shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) };
  return { name: o.name, type: { tensorType } };
}

export interface GraphCut {
  /** Tensor the graph is cut at. */
  readonly site: string;
  /** Prefix model: inputs as needed, outputs [site, ...boundary]. */
  readonly prefix: onnx.IModelProto;
  /** Tensors the suffix reads from the prefix besides the site. */
  readonly boundary: readonly string[];
  /** Graph inputs the suffix reads directly. */
  readonly suffixGraphInputs: readonly string[];
  /** Build the suffix once the element types of site/boundary tensors are known (from a prefix run). */
  suffix(elemTypes: ReadonlyMap<string, number>, ranks: ReadonlyMap<string, number>): onnx.IModelProto;
}

/**
 * Cut `model` at tensor `site`. The prefix holds every node the site depends on; the suffix holds every node
 * the `outputs` need that is not in the prefix. Tensors produced in the prefix and read by the suffix become
 * extra prefix outputs / suffix inputs (e.g. the residual input next to an attn_out site, or mask and rotary
 * tensors shared by all layers); Constant nodes are copied instead.
 */
export function cutAt(model: ModelProto, site: string, outputs: readonly string[]): GraphCut {
  const g = model.graph as onnx.IGraphProto;
  const index = new GraphIndex(g);
  if (!index.producer.has(site)) throw new Error(`cannot cut the graph at "${site}": no node produces it`);
  const prefixNodes = index.ancestors([site]);
  const prefixTensors = new Set<string>();
  for (const i of prefixNodes) {
    if (index.nodes[i].opType === 'Constant') continue;
    for (const o of index.nodes[i].output ?? []) if (o) prefixTensors.add(o);
  }
  const suffixNodes = index.ancestors(outputs, { stopAt: prefixTensors });
  const suffixReads = new Set<string>();
  for (const i of suffixNodes) for (const t of index.inputsOf(i)) suffixReads.add(t);
  for (const o of outputs) suffixReads.add(o); // an output may itself be a prefix tensor
  const boundary = [...suffixReads].filter((t) => prefixTensors.has(t) && t !== site).sort();
  const suffixGraphInputs = [...suffixReads].filter((t) => index.graphInputs.has(t)).sort();

  const ordered = (set: Set<number>): NodeProto[] => [...set].sort((a, b) => a - b).map((i) => index.nodes[i]);
  const initializersFor = (nodes: Set<number>) => {
    const used = new Set<string>();
    for (const i of nodes) for (const t of index.inputsOf(i)) used.add(t);
    return (g.initializer ?? []).filter((t) => used.has(t.name ?? ''));
  };
  const inputsFor = (names: Set<string>) => (g.input ?? []).filter((v) => names.has(v.name ?? '') && index.graphInputs.has(v.name ?? ''));

  const pNodes = ordered(prefixNodes);
  const pReads = new Set<string>();
  for (const i of prefixNodes) for (const t of index.inputsOf(i)) pReads.add(t);
  const prefix = withGraph(model, {
    ...g,
    node: pNodes,
    initializer: initializersFor(prefixNodes),
    input: inputsFor(pReads),
    output: [site, ...boundary].map((name) => ({ name })),
    valueInfo: [],
  });

  const sNodes = ordered(suffixNodes);
  const suffix = (elemTypes: ReadonlyMap<string, number>, ranks: ReadonlyMap<string, number>): onnx.IModelProto => {
    const cutInputs = [site, ...boundary].map((name) => {
      const elemType = elemTypes.get(name);
      if (elemType === undefined) throw new Error(`cutAt: element type of "${name}" unknown`);
      const rank = ranks.get(name);
      return valueInfo({ name, elemType, shape: rank === undefined ? undefined : Array.from({ length: rank }, (_, k) => `${name}_d${k}`) });
    });
    return withGraph(model, {
      ...g,
      node: sNodes,
      initializer: initializersFor(suffixNodes),
      input: [...inputsFor(new Set(suffixGraphInputs)), ...cutInputs],
      output: (g.output ?? []).filter((o) => outputs.includes(o.name ?? '')),
      valueInfo: [],
    });
  };
  return { site, prefix, boundary, suffixGraphInputs, suffix };
}

/**
 * The model with the output head applied to the last position only: when `output` comes straight out of a
 * MatMul, its activation input is sliced to the last row along the token axis first (axis −2). Only that
 * row's logits are then computed, which is most of the work of a small model's tail. Undefined when the
 * head is not a MatMul the slice can be put in front of.
 */
export function lastPositionHead(model: onnx.IModelProto, output: string): onnx.IModelProto | undefined {
  const g = model.graph as onnx.IGraphProto;
  const nodes = g.node ?? [];
  const at = nodes.findIndex((n) => (n.output ?? []).includes(output));
  const head = nodes[at];
  if (!head || head.opType !== 'MatMul' || (head.output ?? []).length !== 1 || !head.input?.[0]) return undefined;
  const initNames = new Set((g.initializer ?? []).map((t) => t.name));
  const act = head.input[0];
  if (initNames.has(act)) return undefined;
  const sliced = `${act}__last_position`;
  const int64 = (name: string, v: number): onnx.ITensorProto => {
    const raw = new Uint8Array(8);
    new DataView(raw.buffer).setBigInt64(0, BigInt(v), true);
    return { name, dataType: onnx.TensorProto.DataType.INT64, dims: [1], rawData: raw };
  };
  const names = { starts: `${sliced}_starts`, ends: `${sliced}_ends`, axes: `${sliced}_axes` };
  const slice: NodeProto = { opType: 'Slice', name: sliced, input: [act, names.starts, names.ends, names.axes], output: [sliced] };
  const newHead: NodeProto = { ...head, input: [sliced, ...head.input.slice(1)] };
  const node = [...nodes.slice(0, at), slice, newHead, ...nodes.slice(at + 1)];
  const initializer = [...(g.initializer ?? []), int64(names.starts, -1), int64(names.ends, 2 ** 53 - 1), int64(names.axes, -2)];
  const outputs = (g.output ?? []).map((o) => (o.name === output ? { name: o.name } : o));
  return withGraph(model as ModelProto, { ...g, node, initializer, output: outputs });
}
