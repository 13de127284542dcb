// The output head read from the ONNX file: the matrix that turns the final residual into logits, and the
// final norm in front of it (LayerNorm or RMSNorm, fused or written out, with its gain). Used only for
// direct logit effects; any other graph shape → undefined.
import { readFileSync } from 'node:fs';
import { findLogitsOutput } from '../runtime/graph';
import { resolveModelFiles } from '../runtime/model';
import { attrInt, decodeModel, dimsOf, tensorToFloat32, type TensorProto } from '../runtime/onnxProto';
import type { FinalNormKind, Unembedding } from './logitEffects';

type Node = NonNullable<NonNullable<ReturnType<typeof decodeModel>['graph']>['node']>[number];

export function readUnembedding(modelPath: string): Unembedding | undefined {
  try {
    const files = resolveModelFiles(modelPath);
    const graph = decodeModel(readFileSync(files.onnxFile), files.onnxFile).graph;
    if (!graph) return undefined;
    const logits = findLogitsOutput(graph);
    const nodes = graph.node ?? [];
    const inits = new Map<string, TensorProto>((graph.initializer ?? []).map((t) => [t.name ?? '', t]));
    const head = nodes.find((n) => n.output?.includes(logits ?? ''));
    if (!head || !head.input || head.input.length < 2) return undefined;
    const [actName, weightName] = head.input;
    const w = inits.get(weightName);
    if (!w) return undefined;
    const [a, b] = dimsOf(w);
    const data = tensorToFloat32(w);
    let weight: Unembedding['weight'];
    if (head.opType === 'MatMul' || (head.opType === 'Gemm' && !attrInt(head, 'transB'))) {
      // [d_model, vocab] → one row per token.
      const t = new Float32Array(a * b);
      for (let i = 0; i < a; i++) for (let j = 0; j < b; j++) t[j * a + i] = data[i * b + j];
      weight = { data: t, rows: b, cols: a };
    } else if (head.opType === 'Gemm') {
      weight = { data, rows: a, cols: b };
    } else {
      return undefined;
    }
    const norm = finalNorm(nodes, inits, actName);
    return norm ? { weight, finalNorm: norm } : { weight };
  } catch {
    return undefined;
  }
}

const FUSED_NORMS: Readonly<Record<string, FinalNormKind>> = {
  LayerNormalization: 'layernorm',
  SimplifiedLayerNormalization: 'rmsnorm',
  RMSNormalization: 'rmsnorm',
};

/**
 * The norm producing `tensor`: a fused op, or a written-out one ending in Mul(·, γ) (plus Add(·, β) for
 * LayerNorm). Written-out norms are told apart by the centring: LayerNorm subtracts a ReduceMean of its
 * input, RMSNorm only divides by sqrt(ReduceMean(x²) + ε).
 */
function finalNorm(nodes: readonly Node[], inits: ReadonlyMap<string, TensorProto>, tensor: string): Unembedding['finalNorm'] {
  const producer = (name: string) => nodes.find((n) => n.output?.includes(name));
  let node = producer(tensor);
  if (!node) return undefined;
  const fused = FUSED_NORMS[node.opType ?? ''];
  if (fused) {
    const g = node.input?.[1] ? inits.get(node.input[1]) : undefined;
    return g ? { kind: fused, gamma: tensorToFloat32(g) } : { kind: fused };
  }
  const initInput = (n: Node) => (n.input ?? []).find((i) => inits.has(i));
  const otherInput = (n: Node) => (n.input ?? []).find((i) => !inits.has(i));
  if (node.opType === 'Add' && initInput(node)) node = producer(otherInput(node) ?? '');
  if (!node || node.opType !== 'Mul' || !initInput(node)) return undefined;
  const gamma = tensorToFloat32(inits.get(initInput(node)!)!);
  // Look a few nodes up for the statistics.
  const seen = new Set<Node>();
  const queue = [producer(otherInput(node) ?? '')];
  let sawMean = false;
  let centred = false;
  for (let steps = 0; queue.length > 0 && steps < 16; steps++) {
    const n = queue.shift();
    if (!n || seen.has(n)) continue;
    seen.add(n);
    if (n.opType === 'ReduceMean') sawMean = true;
    if (n.opType === 'Sub' && (n.input ?? []).some((i) => producer(i)?.opType === 'ReduceMean')) centred = true;
    for (const i of n.input ?? []) if (!inits.has(i)) queue.push(producer(i));
  }
  if (!sawMean) return undefined;
  return { kind: centred ? 'layernorm' : 'rmsnorm', gamma };
}
