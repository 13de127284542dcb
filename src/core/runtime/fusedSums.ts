// onnxruntime's transformer optimizer fuses "residual Add + next norm" into SkipLayerNormalization /
// SkipSimplifiedLayerNormalization. Output 3 of those nodes is the residual sum, but the optimizer only
// names it where something reads it (not for the last block), and a projection bias may be folded in as
// an input. Before analysis every such node gets its sum output, and a folded bias is added back onto the
// branch so the branch tensor is the whole attention / MLP output (TransformerLens hook_attn_out/mlp_out).
import type { ModelProto, NodeProto } from './onnxProto';
import { onnx } from './onnxProto';

const SUM_OUTPUT = 3;
/** Index of the optional bias input of each fused op. */
const BIAS_INPUT: Record<string, number> = { SkipLayerNormalization: 4, SkipSimplifiedLayerNormalization: 3 };

/** The model with every Skip*Normalization exposing its residual sum and carrying no folded bias; undefined if unchanged. */
export function exposeFusedSums(model: ModelProto): ModelProto | undefined {
  const g = model.graph;
  if (!g) return undefined;
  const nodes: NodeProto[] = [];
  let changed = false;
  (g.node ?? []).forEach((n, i) => {
    const biasAt = BIAS_INPUT[n.opType ?? ''];
    if (biasAt === undefined) {
      nodes.push(n);
      return;
    }
    const inputs = [...(n.input ?? [])];
    const outputs = [...(n.output ?? [])];
    const tag = n.name || `skip_norm_${i}`;
    if (inputs[biasAt]) {
      const withBias = `${tag}/branch_with_bias`;
      nodes.push({ opType: 'Add', name: `${tag}/bias_add`, input: [inputs[0], inputs[biasAt]], output: [withBias] });
      inputs[0] = withBias;
      inputs.length = biasAt;
      changed = true;
    }
    if (!outputs[SUM_OUTPUT]) {
      while (outputs.length < SUM_OUTPUT) outputs.push('');
      outputs[SUM_OUTPUT] = `${tag}/residual_sum`;
      changed = true;
    }
    nodes.push({ ...n, input: inputs, output: outputs });
  });
  if (!changed) return undefined;
  return onnx.ModelProto.create({ ...model, graph: { ...g, node: nodes } });
}
