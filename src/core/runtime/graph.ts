// Graph analysis: find the residual stream of a decoder-only transformer in an ONNX graph and name its
// hook sites the way TransformerLens / SAELens do. Nothing here depends on one model's node names.
//
// The residual stream is a chain of Add nodes. A *residual Add* is an Add(a, b) where b depends on a
// through data edges (b is a branch computed from a: norm → attention or MLP → projection) and a is not a
// constant. Starting next to the logits output we walk back along residual Adds, always continuing with the
// residual input; the walk ends at the embedding (token Gather, or the Add of token and position Gathers,
// neither of which depends on the other). Each block is a pair of residual Adds: first the attention branch
// (its sub-graph contains a Softmax or an attention operator), then the MLP branch.
//   resid_pre(L)  = residual input of block L's first Add     attn_out(L) = branch input of the first Add
//   resid_mid(L)  = output of the first Add                    mlp_out(L)  = branch input of the second Add
//   resid_post(L) = output of the second Add (= resid_pre(L+1))
import { dimsOf, type GraphProto, type NodeProto, type TensorProto } from './onnxProto';
import type { HookSite, SiteKind } from './types';

/** Operators whose presence in a branch marks it as attention. */
const ATTENTION_OPS = new Set([
  'Softmax',
  'Attention',
  'MultiHeadAttention',
  'GroupQueryAttention',
  'PackedAttention',
  'PackedMultiHeadAttention',
  'SparseAttention',
  'DecoderMaskedMultiHeadAttention',
]);

/** Operators that read only the shape of an input: no data flows through them. */
const SHAPE_ONLY_OPS = new Set(['Shape', 'Size']);

/** Fused "residual Add + norm" operators (onnxruntime contrib ops); output 3 is the residual sum. */
const FUSED_SUM_OPS = new Set(['SkipLayerNormalization', 'SkipSimplifiedLayerNormalization']);
const FUSED_SUM_OUTPUT = 3;

/** Index of a graph: who produces and who consumes each tensor. */
export class GraphIndex {
  readonly nodes: NodeProto[];
  readonly producer = new Map<string, number>();
  readonly consumers = new Map<string, number[]>();
  readonly initializers = new Map<string, TensorProto>();
  readonly graphInputs = new Set<string>();
  private readonly inputsCache: string[][];

  constructor(readonly graph: GraphProto) {
    this.nodes = graph.node ?? [];
    for (const t of graph.initializer ?? []) if (t.name) this.initializers.set(t.name, t);
    for (const v of graph.input ?? []) if (v.name && !this.initializers.has(v.name)) this.graphInputs.add(v.name);
    this.inputsCache = this.nodes.map((n) => allInputs(n));
    this.nodes.forEach((n, i) => {
      for (const o of n.output ?? []) if (o) this.producer.set(o, i);
      for (const t of this.inputsCache[i]) {
        const list = this.consumers.get(t);
        if (list) list.push(i);
        else this.consumers.set(t, [i]);
      }
    });
  }

  /** Every tensor a node reads, including outer-scope names used inside its sub-graphs (If/Loop/Scan). */
  inputsOf(i: number): string[] {
    return this.inputsCache[i];
  }

  /** Inputs carrying data into the node (Shape/Size only read a shape, so they carry none). */
  dataInputsOf(i: number): string[] {
    return SHAPE_ONLY_OPS.has(this.nodes[i].opType ?? '') ? [] : this.inputsCache[i];
  }

  private readonly constantMemo = new Map<string, boolean>();

  /**
   * Initializer, Constant-node output, or computed from constants only (exporters alias shared weights
   * through Identity nodes; quantizers dequantize them with Mul/Cast).
   */
  isConstant(t: string): boolean {
    if (this.initializers.has(t)) return true;
    const memo = this.constantMemo.get(t);
    if (memo !== undefined) return memo;
    this.constantMemo.set(t, false); // cycles (never in a valid graph) count as not constant
    const p = this.producer.get(t);
    let result = false;
    if (p !== undefined) {
      const n = this.nodes[p];
      const ins = this.inputsCache[p];
      result = n.opType === 'Constant' || (ins.length > 0 && (n.attribute ?? []).every((a) => !a.g && !a.graphs?.length) && ins.every((i) => this.isConstant(i)));
    }
    this.constantMemo.set(t, result);
    return result;
  }

  /** Indices of all nodes needed to compute `targets`, not walking past `stopAt` tensors. */
  ancestors(targets: Iterable<string>, opts: { stopAt?: ReadonlySet<string>; stopAtNodes?: ReadonlySet<number>; dataOnly?: boolean } = {}): Set<number> {
    const seen = new Set<number>();
    const stack: string[] = [...targets];
    const visitedTensors = new Set<string>();
    while (stack.length) {
      const t = stack.pop() as string;
      if (visitedTensors.has(t)) continue;
      visitedTensors.add(t);
      if (opts.stopAt?.has(t)) continue;
      const p = this.producer.get(t);
      if (p === undefined || seen.has(p) || opts.stopAtNodes?.has(p)) continue;
      seen.add(p);
      for (const i of opts.dataOnly ? this.dataInputsOf(p) : this.inputsOf(p)) stack.push(i);
    }
    return seen;
  }

  /**
   * Does tensor `b` depend on tensor `a` through data edges? For a fused Skip*Normalization's sum, reading
   * any of its outputs counts: the normalised output is computed from the sum.
   */
  dependsOn(b: string, a: string): boolean {
    if (a === b) return false;
    const pa = this.producer.get(a);
    const fusedSum = pa !== undefined && FUSED_SUM_OPS.has(this.nodes[pa].opType ?? '') ? pa : undefined;
    const stack = [b];
    const visited = new Set<string>();
    while (stack.length) {
      const t = stack.pop() as string;
      if (t === a) return true;
      if (fusedSum !== undefined && t !== b && this.producer.get(t) === fusedSum) return true;
      if (visited.has(t)) continue;
      visited.add(t);
      const p = this.producer.get(t);
      if (p === undefined) continue;
      for (const i of this.dataInputsOf(p)) stack.push(i);
    }
    return false;
  }
}

function allInputs(node: NodeProto): string[] {
  const names = (node.input ?? []).filter((x) => x);
  for (const a of node.attribute ?? []) {
    for (const g of [a.g, ...(a.graphs ?? [])]) if (g) names.push(...outerScopeNames(g));
  }
  return [...new Set(names)];
}

/** Names a sub-graph reads but does not define itself. */
function outerScopeNames(g: GraphProto): string[] {
  const defined = new Set<string>();
  for (const v of g.input ?? []) if (v.name) defined.add(v.name);
  for (const t of g.initializer ?? []) if (t.name) defined.add(t.name);
  for (const n of g.node ?? []) for (const o of n.output ?? []) defined.add(o);
  const used = new Set<string>();
  for (const n of g.node ?? []) {
    for (const i of allInputs(n)) if (!defined.has(i)) used.add(i);
  }
  for (const o of g.output ?? []) if (o.name && !defined.has(o.name)) used.add(o.name);
  return [...used];
}

/** Model families whose exports the analysis reads (named in the error for a graph it cannot read). */
export const SUPPORTED_FAMILIES =
  'GPT-2, Llama / Mistral / Qwen / SmolLM (RMSNorm written out or fused), Gemma 1-3 (sandwich norms, scaled ' +
  'embeddings, soft-capping), GPT-NeoX / Pythia / Phi-2 / GPT-J (parallel attention and MLP), Phi-3 (fused QKV and ' +
  'gate-up), ORT-optimized graphs whose Skip*Normalization exposes its residual sum';

/**
 * Operators that pass the residual stream on unchanged in value (dtype casts, copies, reshapes between
 * [B·T, d] and [B, T, d], broadcasts); exporters scatter them along the stream. Their data input is input 0.
 */
const STREAM_NOISE_OPS = new Set(['Cast', 'Identity', 'Reshape', 'Expand', 'Squeeze', 'Unsqueeze', 'Flatten', 'CastLike']);
/** The subset that keeps the shape too: a site may be named by the tensor before them. */
const VALUE_NOISE_OPS = new Set(['Cast', 'Identity', 'CastLike']);


export interface ResidualAdd {
  readonly node: number;
  /** Tensor carrying the residual stream into the Add. */
  readonly residual: string;
  /** Tensor carrying the branch (attention or MLP output) into the Add. */
  readonly branch: string;
  readonly output: string;
  /** attn / mlp: one branch; parallel: attention and MLP read the same stream and are added together. */
  readonly kind: 'attn' | 'mlp' | 'parallel';
  /** For a parallel block: the attention and MLP terms of the branch. */
  readonly parts?: { readonly attn: string; readonly mlp: string };
}

export interface BlockTensors {
  readonly residPre: string;
  readonly attnOut: string;
  /** Absent for parallel blocks (attention and MLP both read resid_pre). */
  readonly residMid?: string;
  readonly mlpOut: string;
  readonly residPost: string;
}

export interface GraphAnalysis {
  readonly logits: string;
  /** resid_pre of block 0 (output of the embedding). */
  readonly embedding: string;
  readonly blocks: readonly BlockTensors[];
  /** Width of the residual stream, when the embedding table says so. */
  readonly dModel?: number;
  /** Rows of the token embedding table. */
  readonly vocabSize?: number;
  /** Fewest rows among position-indexed tables (learned positions, rotary caches): a context-length bound. */
  readonly positionRows?: number;
  /** Tensor name for each site name. Several names may share one tensor (resid_post(L) = resid_pre(L+1)). */
  readonly siteTensors: ReadonlyMap<string, string>;
}

/** A graph whose hook sites cannot be identified; `found` describes what the analysis did see. */
export class SiteAnalysisError extends Error {
  constructor(
    readonly file: string,
    problem: string,
    readonly found: string,
  ) {
    super(`${file}: cannot identify hook sites: ${problem}. Found: ${found}. Supported families: ${SUPPORTED_FAMILIES}`);
    this.name = 'SiteAnalysisError';
  }
}

/** The graph output holding next-token logits: named "logits" (or containing it). */
export function findLogitsOutput(graph: GraphProto): string | undefined {
  const names = (graph.output ?? []).map((o) => o.name ?? '');
  return names.find((n) => n === 'logits') ?? names.find((n) => n.toLowerCase().includes('logits'));
}

export function analyseGraph(graph: GraphProto, file: string): GraphAnalysis {
  const index = new GraphIndex(graph);
  const logits = findLogitsOutput(graph);
  if (!logits) {
    throw new SiteAnalysisError(
      file,
      'the model has no "logits" output',
      `outputs ${(graph.output ?? []).map((o) => `"${o.name}"`).join(', ')}`,
    );
  }

  /** Follow a tensor up through operators in `ops` to where its value was computed. */
  const upThrough = (t: string, ops: ReadonlySet<string>): string => {
    for (let guard = 0; guard < 64; guard++) {
      const p = index.producer.get(t);
      if (p === undefined) return t;
      const n = index.nodes[p];
      const src = (n.input ?? [])[0];
      if (!ops.has(n.opType ?? '') || !src || index.isConstant(src)) return t;
      t = src;
    }
    return t;
  };

  /** A residual sum: Add(a, b), or a Skip*Normalization's sum output, where one operand is computed from the other. */
  const residualSum = (i: number): { residual: string; branch: string; output: string } | undefined => {
    const n = index.nodes[i];
    const ins = n.input ?? [];
    let output: string;
    if (n.opType === 'Add' && ins.length === 2) output = (n.output ?? [])[0];
    else if (FUSED_SUM_OPS.has(n.opType ?? '') && (n.output ?? [])[FUSED_SUM_OUTPUT]) output = (n.output ?? [])[FUSED_SUM_OUTPUT];
    else return undefined;
    const [a, b] = ins;
    if (!a || !b || index.isConstant(a) || index.isConstant(b)) return undefined;
    if (index.dependsOn(b, a)) return { residual: a, branch: b, output };
    if (index.dependsOn(a, b)) return { residual: b, branch: a, output };
    return undefined;
  };
  const sumProducing = (t: string): number | undefined => {
    const p = index.producer.get(t);
    if (p === undefined) return undefined;
    const r = residualSum(p);
    return r && r.output === t ? p : undefined;
  };

  // 1. The final residual sum: the one nearest to the logits (breadth-first, backwards).
  let finalAdd: number | undefined;
  {
    const queue = [logits];
    const seen = new Set<string>();
    let visitedNodes = 0;
    while (queue.length && finalAdd === undefined && visitedNodes < 10_000) {
      const t = queue.shift() as string;
      if (seen.has(t)) continue;
      seen.add(t);
      const p = index.producer.get(t);
      if (p === undefined) continue;
      visitedNodes++;
      // A fused Skip*Normalization is reached through its normalised output, not its sum.
      if (residualSum(p)) {
        finalAdd = p;
        break;
      }
      queue.push(...index.dataInputsOf(p).filter((x) => !index.isConstant(x)));
    }
  }
  if (finalAdd === undefined) {
    const skips = index.nodes.filter((n) => FUSED_SUM_OPS.has(n.opType ?? '')).length;
    throw new SiteAnalysisError(
      file,
      'no residual Add (Add whose one input is computed from the other) leads to the logits' +
        (skips ? ` (${skips} Skip*Normalization nodes do not expose their residual sum, output ${FUSED_SUM_OUTPUT})` : ''),
      `${index.nodes.length} nodes, op types ${opSummary(index)}`,
    );
  }

  // 2. Walk the residual chain back to the embedding, through casts and reshapes.
  const chain: { node: number; residual: string; branch: string; output: string }[] = [];
  let cursor: number | undefined = finalAdd;
  while (cursor !== undefined) {
    const r = residualSum(cursor);
    if (!r) break;
    chain.unshift({ node: cursor, ...r });
    cursor = sumProducing(upThrough(r.residual, STREAM_NOISE_OPS));
  }
  // Sites are named by the tensor a cast or copy was made from (the stream as its producer computed it).
  const canonical = (t: string) => upThrough(t, VALUE_NOISE_OPS);
  const embedding = canonical(chain[0].residual);

  // 3. Classify each branch: attention, MLP, or a parallel block (attention + MLP added before the residual).
  const chainTensors = new Set<string>([embedding, chain[0].residual, ...chain.map((c) => c.output)]);
  // A fused sum's node also outputs the next norm: a branch reading it stops there too.
  const chainNodes = new Set(chain.map((c) => c.node));
  const hasAttention = (t: string) =>
    [...index.ancestors([t], { stopAt: chainTensors, stopAtNodes: chainNodes, dataOnly: true })].some((i) => ATTENTION_OPS.has(index.nodes[i].opType ?? ''));
  const adds: ResidualAdd[] = chain.map((c) => {
    const parts = parallelParts(index, upThrough(c.branch, STREAM_NOISE_OPS), hasAttention);
    if (parts) return { ...c, kind: 'parallel', parts };
    return { ...c, kind: hasAttention(c.branch) ? 'attn' : 'mlp' };
  });

  const blocks: BlockTensors[] = [];
  for (let i = 0; i < adds.length; ) {
    const a = adds[i];
    if (a.kind === 'parallel' && a.parts) {
      blocks.push({ residPre: canonical(a.residual), attnOut: a.parts.attn, mlpOut: a.parts.mlp, residPost: a.output });
      i += 1;
    } else if (a.kind === 'attn' && adds[i + 1]?.kind === 'mlp') {
      const m = adds[i + 1];
      blocks.push({ residPre: canonical(a.residual), attnOut: a.branch, residMid: a.output, mlpOut: m.branch, residPost: m.output });
      i += 2;
    } else {
      throw new SiteAnalysisError(
        file,
        `the residual stream is not a sequence of blocks (attention then MLP, or attention and MLP in parallel): residual sum ${i + 1} adds ` +
          (a.kind === 'attn' ? 'attention not followed by an MLP' : 'an MLP not preceded by attention'),
        `${adds.length} residual sums with branches [${adds.map((x) => x.kind).join(', ')}] starting from embedding "${embedding}"`,
      );
    }
  }
  // The stream may be re-cast between blocks: resid_post(L) and resid_pre(L+1) are the same values.
  for (let L = 0; L + 1 < blocks.length; L++) {
    if (canonical(blocks[L + 1].residPre) === blocks[L].residPost) blocks[L + 1] = { ...blocks[L + 1], residPre: blocks[L].residPost };
  }

  // 4. Tables: the token embedding is a Gather on a rank-2 initializer indexed by input_ids and feeding the
  // embedding output; any other rank-2 Gather table (learned positions, rotary cos/sin caches) bounds the
  // context length by its rows.
  let dModel: number | undefined;
  let vocabSize: number | undefined;
  let positionRows: number | undefined;
  const inputIds = [...index.graphInputs].find((n) => n === 'input_ids') ?? [...index.graphInputs][0];
  const feedsEmbedding = index.ancestors([embedding], { dataOnly: true });
  index.nodes.forEach((n, i) => {
    if (n.opType !== 'Gather') return;
    const table = index.initializers.get(upThrough((n.input ?? [])[0] ?? '', STREAM_NOISE_OPS)) ?? index.initializers.get((n.input ?? [])[0] ?? '');
    if (!table || dimsOf(table).length !== 2) return;
    const [rows, cols] = dimsOf(table);
    const indices = (n.input ?? [])[1] ?? '';
    const fromIds = indices === inputIds || index.dependsOn(indices, inputIds);
    if (fromIds && feedsEmbedding.has(i) && vocabSize === undefined) {
      vocabSize = rows;
      dModel = cols;
    } else if (!fromIds) {
      positionRows = Math.min(positionRows ?? Infinity, rows);
    }
  });

  const siteTensors = new Map<string, string>();
  blocks.forEach((b, L) => {
    siteTensors.set(siteName(L, 'hook_resid_pre'), b.residPre);
    siteTensors.set(siteName(L, 'hook_attn_out'), b.attnOut);
    if (b.residMid) siteTensors.set(siteName(L, 'hook_resid_mid'), b.residMid);
    siteTensors.set(siteName(L, 'hook_mlp_out'), b.mlpOut);
    siteTensors.set(siteName(L, 'hook_resid_post'), b.residPost);
  });
  return { logits, embedding, blocks, dModel, vocabSize, positionRows, siteTensors };
}

/**
 * A parallel block's branch is attention + MLP added together (GPT-NeoX, Phi-2, GPT-J compute
 * x + attn(ln1(x)) + mlp(ln2(x))): an Add of two terms, neither computed from the other, exactly one of
 * which contains attention.
 */
function parallelParts(index: GraphIndex, branch: string, hasAttention: (t: string) => boolean): { attn: string; mlp: string } | undefined {
  const p = index.producer.get(branch);
  if (p === undefined) return undefined;
  const n = index.nodes[p];
  if (n.opType !== 'Add' || (n.input ?? []).length !== 2) return undefined;
  const [a, b] = n.input as string[];
  if (index.isConstant(a) || index.isConstant(b) || index.dependsOn(a, b) || index.dependsOn(b, a)) return undefined;
  const attnA = hasAttention(a);
  const attnB = hasAttention(b);
  if (attnA === attnB) return undefined;
  return attnA ? { attn: a, mlp: b } : { attn: b, mlp: a };
}

export const SITE_KINDS: readonly SiteKind[] = ['hook_resid_pre', 'hook_attn_out', 'hook_resid_mid', 'hook_mlp_out', 'hook_resid_post'];

export function siteName(layer: number, kind: SiteKind): string {
  return `blocks.${layer}.${kind}`;
}

/** The hook sites of an analysed graph, block by block in forward order. */
export function hookSites(analysis: GraphAnalysis, dim: number): HookSite[] {
  const out: HookSite[] = [];
  analysis.blocks.forEach((_, layer) => {
    for (const kind of SITE_KINDS) {
      const name = siteName(layer, kind);
      if (analysis.siteTensors.has(name)) out.push({ name, layer, kind, dim });
    }
  });
  return out;
}

function opSummary(index: GraphIndex): string {
  const counts = new Map<string, number>();
  for (const n of index.nodes) counts.set(n.opType ?? '?', (counts.get(n.opType ?? '?') ?? 0) + 1);
  return [...counts].map(([k, v]) => `${k}×${v}`).join(' ');
}
