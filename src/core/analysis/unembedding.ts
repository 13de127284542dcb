// The output head read from the ONNX file: the matrix that turns the final residual into logits, and the
// final LayerNorm gain in front of it. Used only for direct logit effects; any other graph shape → undefined.
import { readFileSync } from 'node:fs';
import { findLogitsOutput } from '../runtime/graph';
import { resolveModelFiles } from '../runtime/model';
import { attrInt, decodeModel, dimsOf, tensorToFloat32, type TensorProto } from '../runtime/onnxProto';
import type { Unembedding } from './logitEffects';

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
    const ln = nodes.find((n) => n.output?.includes(actName));
    const gamma = ln?.opType === 'LayerNormalization' && ln.input?.[1] ? inits.get(ln.input[1]) : undefined;
    return gamma ? { weight, lnGamma: tensorToFloat32(gamma) } : { weight };
  } catch {
    return undefined;
  }
}
