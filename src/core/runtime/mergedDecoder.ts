// Merged decoders (Optimum / transformers.js decoder_model_merged.onnx): one If node switching on the
// use_cache_branch input between a no-cache graph (prefill) and a with-cache graph (one step). Analysis,
// hooking and splicing run the no-cache branch, so it is lifted into a plain graph here.
import { onnx, type ModelProto } from './onnxProto';

export const USE_CACHE_INPUT = 'use_cache_branch';

/** The If node that makes `model` a merged decoder, if it is one. */
export function mergedDecoderIf(model: ModelProto): onnx.INodeProto | undefined {
  const nodes = model.graph?.node ?? [];
  return nodes.find((n) => n.opType === 'If' && (n.input ?? [])[0] === USE_CACHE_INPUT);
}

/**
 * The model with its use_cache_branch If replaced by the no-cache (else) branch. Inputs only the cache
 * branch reads (past_key_values.*, use_cache_branch) are dropped. Undefined when `model` is not merged.
 */
export function liftNoCacheBranch(model: ModelProto): ModelProto | undefined {
  const g = model.graph as onnx.IGraphProto;
  const ifNode = mergedDecoderIf(model);
  if (!ifNode) return undefined;
  const branch = ifNode.attribute?.find((a) => a.name === 'else_branch')?.g;
  if (!branch) return undefined;
  const branchOutputs = (branch.output ?? []).map((o) => o.name ?? '');
  const ifOutputs = ifNode.output ?? [];
  // Branch outputs become the If's outputs; an Identity bridges a name that differs.
  const bridges: onnx.INodeProto[] = [];
  ifOutputs.forEach((name, k) => {
    if (name && branchOutputs[k] && branchOutputs[k] !== name) {
      bridges.push({ opType: 'Identity', name: `lifted_${name}`, input: [branchOutputs[k]], output: [name] });
    }
  });
  const nodes = [...(g.node ?? []).filter((n) => n !== ifNode), ...(branch.node ?? []), ...bridges];
  const read = new Set<string>();
  const collect = (ns: readonly onnx.INodeProto[]) => {
    for (const n of ns) {
      for (const i of n.input ?? []) if (i) read.add(i);
      for (const a of n.attribute ?? []) for (const sub of [a.g, ...(a.graphs ?? [])]) if (sub) collect(sub.node ?? []);
    }
  };
  collect(nodes);
  for (const o of g.output ?? []) if (o.name) read.add(o.name);
  const lifted: onnx.IGraphProto = {
    ...g,
    node: nodes,
    initializer: [...(g.initializer ?? []), ...(branch.initializer ?? [])],
    input: (g.input ?? []).filter((v) => read.has(v.name ?? '')),
    valueInfo: [...(g.valueInfo ?? []), ...(branch.valueInfo ?? [])],
  };
  return onnx.ModelProto.create({ ...model, graph: lifted });
}
