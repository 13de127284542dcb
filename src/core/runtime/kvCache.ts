// Generation with the key/value cache of decoders exported "with past" (Optimum's decoder_with_past_model,
// transformers.js model.onnx with past_key_values inputs) and of merged decoders (decoder_model_merged.onnx:
// an If on use_cache_branch). The prompt runs once (empty past, or the no-cache branch); every new token
// then runs alone, reading the keys/values of all earlier tokens from the previous step's present.* outputs
// instead of recomputing them. Once the context is full, positions would shift, so each step then runs the
// last contextLength tokens without a cache, exactly as uncached generation does.
import * as ort from 'onnxruntime-node';
import type { onnx } from './onnxProto';
import { buildFeeds, sequenceRows, type OrtSession, type OrtTensor } from './session';
import type { NextTokenStream } from './types';

/** Past inputs and the present outputs that feed them on the next step. */
export interface CacheInterface {
  /** past input name → present output name (past_key_values.0.key → present.0.key). */
  readonly presentOf: ReadonlyMap<string, string>;
  /** A merged decoder: use_cache_branch chooses the branch. */
  readonly merged: boolean;
}

/** The model's cache interface, or undefined when it has no past inputs with matching present outputs. */
export function cacheInterface(graph: onnx.IGraphProto): CacheInterface | undefined {
  const inputs = (graph.input ?? []).map((v) => v.name ?? '');
  const outputs = new Set((graph.output ?? []).map((v) => v.name ?? ''));
  const past = inputs.filter((n) => n.startsWith('past_key_values.') || /^past\.\d/.test(n));
  if (past.length === 0) return undefined;
  const presentOf = new Map<string, string>();
  for (const p of past) {
    const present = p.replace(/^past_key_values\./, 'present.').replace(/^past\./, 'present.');
    if (!outputs.has(present)) return undefined;
    presentOf.set(p, present);
  }
  return { presentOf, merged: inputs.includes('use_cache_branch') };
}

export interface CachedStreamDeps {
  readonly session: OrtSession;
  readonly cache: CacheInterface;
  readonly logitsName: string;
  readonly contextLength: number;
  readonly padId: number;
  /** Throws for token ids outside the vocabulary. */
  readonly check: (ids: Int32Array) => void;
}

function intFeed(session: OrtSession, name: string, values: number[], dims: number[]): OrtTensor {
  if (session.inputMeta(name).type === 'int32') return new ort.Tensor('int32', Int32Array.from(values), dims);
  return new ort.Tensor('int64', BigInt64Array.from(values.map((v) => BigInt(v))), dims);
}

function lastRow(logits: OrtTensor, len: number): Float32Array {
  const rows = sequenceRows(logits, 0, len);
  return rows.data.slice((len - 1) * rows.cols);
}

export async function openCachedStream(deps: CachedStreamDeps, prompt: Int32Array): Promise<NextTokenStream> {
  const { session, cache, logitsName, contextLength } = deps;
  const presents = [...cache.presentOf.values()];
  const ids = Array.from(prompt);
  let past: Record<string, OrtTensor> | undefined;
  let pastLength = 0;
  let logits: Float32Array;

  // The last contextLength tokens from position 0, with no past (a full forward pass).
  const prefill = async (): Promise<Float32Array> => {
    const window = Int32Array.from(ids.slice(-contextLength));
    deps.check(window);
    const { feeds } = buildFeeds(session, [window], deps.padId);
    const out = await session.run(feeds, [logitsName, ...presents]);
    past = {};
    for (const [p, present] of cache.presentOf) past[p] = out[present];
    pastLength = window.length;
    return lastRow(out[logitsName], window.length);
  };

  const step = async (id: number): Promise<Float32Array> => {
    deps.check(Int32Array.of(id));
    const feeds: Record<string, OrtTensor> = {};
    for (const name of session.inputNames) {
      if (cache.presentOf.has(name)) feeds[name] = (past as Record<string, OrtTensor>)[name];
      else if (name === 'use_cache_branch') feeds[name] = new ort.Tensor('bool', Uint8Array.of(1), [1]);
      else if (name === 'attention_mask') feeds[name] = intFeed(session, name, new Array<number>(pastLength + 1).fill(1), [1, pastLength + 1]);
      else if (name === 'position_ids') feeds[name] = intFeed(session, name, [pastLength], [1, 1]);
      else if (name === 'token_type_ids') feeds[name] = intFeed(session, name, [0], [1, 1]);
      else feeds[name] = intFeed(session, name, [id], [1, 1]); // the token input (buildFeeds rejects anything else)
    }
    const out = await session.run(feeds, [logitsName, ...presents]);
    past = {};
    for (const [p, present] of cache.presentOf) past[p] = out[present];
    pastLength += 1;
    return lastRow(out[logitsName], 1);
  };

  logits = await prefill();
  return {
    get logits() {
      return logits;
    },
    get length() {
      return ids.length;
    },
    async append(id: number): Promise<Float32Array> {
      ids.push(id);
      logits = pastLength + 1 <= contextLength ? await step(id) : await prefill();
      return logits;
    },
  };
}
