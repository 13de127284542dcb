// loadModel: an ONNX decoder-only LM with hook sites, splicing, windowed activations and a tokenizer.
import { existsSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { totalmem } from 'node:os';
import * as ort from 'onnxruntime-node';
import { basename, dirname, join } from 'node:path';
import { matrix, type Matrix } from '../tensor';
import { loadTokenizer } from '../tokenizer/tokenizer';
import { defaultCacheDir, ModelCache, sha256 } from './cache';
import { addOutputs, cutAt, lastPositionHead, type GraphCut } from './edit';
import { checkExternalData, externalDataHome, externalRefs, weightBytes } from './externalData';
import { analyseGraph, findLogitsOutput, hookSites, SiteAnalysisError, type GraphAnalysis } from './graph';
import { argmaxRow } from './loss';
import { exposeFusedSums } from './fusedSums';
import { cacheInterface, openCachedStream, type CacheInterface } from './kvCache';
import { liftNoCacheBranch } from './mergedDecoder';
import { listModelVariants, onnxFolder } from './variants';
import { decodeModel, encodeModel, ModelFileError, onnx, type ModelProto } from './onnxProto';
import { batchTensor, buildFeeds, onnxElemType, OrtSession, sequenceRows, type OrtTensor, type SessionConfig } from './session';
import type {
  HookSite,
  LanguageModel,
  LoadOptions,
  LongActivations,
  ModelInfo,
  NextTokenStream,
  SiteCut,
  SiteEdit,
  SpliceResult,
  TextTokenizer,
  WindowOptions,
} from './types';
import { DEFAULT_MAX_TOKENS, planWindows, truncationMessage } from './windowing';

export interface ModelFiles {
  readonly dir: string;
  readonly onnxFile: string;
  readonly tokenizerFile?: string;
  readonly configFile?: string;
}

/** Preferred .onnx names in a model folder (Optimum names its decoder exports decoder_model*.onnx). */
const ONNX_PREFERENCE = ['model.onnx', 'decoder_model.onnx', 'decoder_model_merged.onnx', 'model_with_past.onnx', 'decoder_with_past_model.onnx'];

/** The files of a model given its folder or its .onnx file; `variant` picks among fp32/fp16/int8/q4… copies. */
export function resolveModelFiles(path: string, variant?: string): ModelFiles {
  let stat;
  try {
    stat = statSync(path);
  } catch {
    throw new ModelFileError(path, 'no such file or folder');
  }
  let onnxFile: string;
  let dir: string;
  if (stat.isDirectory()) {
    dir = path;
    const folder = onnxFolder(path);
    const onnxFiles = readdirSync(folder).filter((f) => f.endsWith('.onnx')).sort();
    const variants = listModelVariants(path);
    if (variant !== undefined) {
      const hit = variants.find((v) => v.variant === variant);
      if (!hit) {
        throw new ModelFileError(path, `no ${variant} weights here; variants found: ${variants.map((v) => v.variant).join(', ') || 'none'}`);
      }
      onnxFile = hit.onnxFile;
    } else {
      const preferred =
        ONNX_PREFERENCE.find((f) => onnxFiles.includes(f)) ?? (onnxFiles.length === 1 ? onnxFiles[0] : variants.length === 1 ? basename(variants[0].onnxFile) : undefined);
      if (!preferred) {
        throw new ModelFileError(
          path,
          onnxFiles.length === 0
            ? 'the folder holds no .onnx file'
            : variants.length > 1
              ? `several weight variants and no fp32 model.onnx: ${variants.map((v) => `${v.variant} (${basename(v.onnxFile)})`).join(', ')}; pick one`
              : `several .onnx files and none named ${ONNX_PREFERENCE.join(' / ')}: ${onnxFiles.join(', ')} (pass the file itself)`,
        );
      }
      onnxFile = join(folder, preferred);
    }
  } else {
    onnxFile = path;
    // transformers.js keeps tokenizer.json and config.json one level above onnx/.
    const parent = dirname(path);
    dir = basename(parent) === 'onnx' && !existsSync(join(parent, 'tokenizer.json')) ? dirname(parent) : parent;
  }
  const tokenizerFile = join(dir, 'tokenizer.json');
  const configFile = join(dir, 'config.json');
  return {
    dir,
    onnxFile,
    tokenizerFile: existsSync(tokenizerFile) ? tokenizerFile : undefined,
    configFile: existsSync(configFile) ? configFile : undefined,
  };
}

interface ConfigJson {
  _name_or_path?: string;
  name_or_path?: string;
  name?: string;
  model_type?: string;
  n_layer?: number;
  num_hidden_layers?: number;
  n_embd?: number;
  hidden_size?: number;
  d_model?: number;
  vocab_size?: number;
  n_positions?: number;
  n_ctx?: number;
  max_position_embeddings?: number;
  context_length?: number;
}

function readConfig(file: string | undefined): ConfigJson {
  if (!file) return {};
  try {
    const j = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    if (!j || typeof j !== 'object' || Array.isArray(j)) throw new Error('not a JSON object');
    return j as ConfigJson;
  } catch (err) {
    throw new ModelFileError(file, `not a valid config.json (${err instanceof Error ? err.message : String(err)})`);
  }
}

const DEFAULT_CONTEXT = 2048;

/** Load a model folder (model.onnx + tokenizer.json + optional config.json) or a bare .onnx file. */
export async function loadModel(path: string, opts: LoadOptions = {}): Promise<OnnxLanguageModel> {
  const files = resolveModelFiles(path, opts.variant);
  const memoryLimit = opts.maxWeightBytes ?? Math.floor(totalmem() * MEMORY_SHARE);
  const refuseIfTooLarge = (weights: number) => {
    if (weights > memoryLimit) {
      throw new ModelFileError(
        files.onnxFile,
        `the model's weights take ${gib(weights)}, more than the ${gib(memoryLimit)} this machine can hold for a model (${gib(totalmem())} of memory): not loaded`,
      );
    }
  };
  let bytes: Uint8Array;
  try {
    refuseIfTooLarge(statSync(files.onnxFile).size);
    bytes = readFileSync(files.onnxFile);
  } catch (err) {
    if (err instanceof ModelFileError) throw err;
    throw new ModelFileError(files.onnxFile, `cannot read the model (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  const decoded = decodeModel(bytes, files.onnxFile);
  // External data (model.onnx_data): checked, sized and left on disk for ONNX Runtime to map.
  const external = externalRefs(decoded);
  const externalFiles = external.length ? checkExternalData(external, files.onnxFile) : [];
  refuseIfTooLarge(weightBytes(decoded));
  // A merged decoder runs its no-cache branch: the same network without the If around it.
  const lifted = liftNoCacheBranch(decoded) ?? decoded;
  // ORT-optimized graphs: every fused residual Add + norm exposes its sum (the resid sites).
  const proto = exposeFusedSums(lifted) ?? lifted;
  const graph = proto.graph as onnx.IGraphProto;
  const logitsName = findLogitsOutput(graph);
  if (!logitsName) {
    throw new ModelFileError(
      files.onnxFile,
      `the model has no "logits" output (outputs: ${(graph.output ?? []).map((o) => `"${o.name}"`).join(', ')}); a decoder-only language model with a logits output is needed`,
    );
  }
  const config = readConfig(files.configFile);
  const tokenizer = files.tokenizerFile ? loadTokenizer(files.tokenizerFile) : undefined;

  let analysis: GraphAnalysis | undefined;
  let analysisError: Error | undefined;
  try {
    analysis = analyseGraph(graph, files.onnxFile);
  } catch (err) {
    if (!(err instanceof SiteAnalysisError)) throw err;
    analysisError = err;
  }

  const cacheDir = opts.cacheDir ?? defaultCacheDir();
  const dataStamp = externalFiles.map((f) => {
    const st = statSync(join(dirname(files.onnxFile), f));
    return `${f}:${st.size}:${st.mtimeMs}`;
  });
  const modelHash = sha256(bytes, ...dataStamp);
  const cache = new ModelCache(cacheDir, modelHash);
  const sessionConfig: SessionConfig = {
    intraOpThreads: opts.intraOpThreads ?? 2,
    graphOptimization: opts.graphOptimization ?? 'all',
  };
  // Edited models of an external-data model are files in a folder where the data's locations resolve.
  const home = externalFiles.length ? externalDataHome(files.onnxFile, externalFiles, join(cacheDir, `external-${modelHash.slice(0, 16)}`)) : undefined;
  const open: SessionOpener = (key, build, label) =>
    home ? openBeside(home, modelHash, key, build, label, sessionConfig) : cachedSession(cache, key, build, label, sessionConfig);
  const logitsInfo = (graph.output ?? []).find((o) => o.name === logitsName);

  // The main session: the model with every distinct site tensor as an extra output.
  const siteTensorNames = analysis ? [...new Set(analysis.siteTensors.values())] : [];
  const dimGuess = analysis?.dModel ?? config.n_embd ?? config.hidden_size ?? config.d_model;
  const hookedKey = `hooked:${siteTensorNames.join(',')}`;
  // No element type on the added outputs: ORT infers it (sites of fp16 models are float16, and a site may
  // differ in type from the logits).
  const buildHooked = () => encodeModel(addOutputs(proto, siteTensorNames.map((name) => ({ name }))));
  const label = files.onnxFile;
  const main = siteTensorNames.length
    ? await open(hookedKey, buildHooked, label)
    : proto === decoded
      ? await OrtSession.create(home ? files.onnxFile : bytes, label, sessionConfig)
      : await open('unhooked', () => encodeModel(proto), label);

  const vocabSize = analysis?.vocabSize ?? config.vocab_size ?? numericLastDim(logitsInfo) ?? tokenizer?.vocabSize;
  if (vocabSize === undefined) throw new ModelFileError(label, 'cannot tell the vocabulary size (no embedding table, config.json or logits shape)');
  if (tokenizer && tokenizer.vocabSize > vocabSize) {
    throw new ModelFileError(
      files.tokenizerFile as string,
      `the tokenizer has ${tokenizer.vocabSize} tokens but the model ${label} only ${vocabSize}: they do not belong together`,
    );
  }
  const info: ModelInfo = {
    name: config._name_or_path || config.name_or_path || config.name || basename(files.dir),
    onnxFile: files.onnxFile,
    layers: analysis?.blocks.length ?? config.n_layer ?? config.num_hidden_layers ?? 0,
    dModel: dimGuess ?? 0,
    vocabSize,
    contextLength: config.n_positions ?? config.max_position_embeddings ?? config.n_ctx ?? config.context_length ?? analysis?.positionRows ?? DEFAULT_CONTEXT,
    eosId: tokenizer?.eosId,
  };
  // Generation reads the KV cache: a merged decoder through a session on the file as exported (the If and
  // both branches, opened on first use); a model with past inputs through the main session.
  const cacheIface = cacheInterface(decoded.graph as onnx.IGraphProto);
  const kvCache: CacheAccess | undefined = cacheIface && {
    iface: cacheIface,
    shared: !cacheIface.merged,
    open: cacheIface.merged
      ? () => OrtSession.create(home ? files.onnxFile : readFileSync(files.onnxFile), `${label} (with cache)`, sessionConfig)
      : async () => main,
  };
  const model = new OnnxLanguageModel(info, tokenizer, proto, analysis, analysisError, main, open, logitsName, home !== undefined, kvCache);
  if (analysis && dimGuess === undefined) {
    // No embedding table or config says how wide the residual stream is: measure it.
    const acts = await model.activations([Int32Array.of(0)], [hookSites(analysis, 0)[0].name]);
    (info as { dModel: number }).dModel = [...acts.values()][0][0].cols;
  }
  return model;
}

/** How generation reaches a model's KV cache. */
interface CacheAccess {
  readonly iface: CacheInterface;
  /** The session is the main session (not released separately). */
  readonly shared: boolean;
  readonly open: () => Promise<OrtSession>;
}

/** Opens a session on an edited model identified by `key`, built on first use. */
type SessionOpener = (key: string, build: () => Uint8Array, label: string) => Promise<OrtSession>;

/** Part of the machine's memory a model's weights may take. */
const MEMORY_SHARE = 0.8;

function gib(bytes: number): string {
  return bytes >= 2 ** 30 ? `${(bytes / 2 ** 30).toFixed(1)} GiB` : `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

/** A session on an edited external-data model written into `home`, where its data locations resolve. */
async function openBeside(home: string, modelHash: string, key: string, build: () => Uint8Array, label: string, config: SessionConfig): Promise<OrtSession> {
  const file = join(home, `.feature-lens-${sha256(modelHash, key).slice(0, 24)}.onnx`);
  if (!existsSync(file)) {
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, build());
    renameSync(tmp, file);
  }
  return OrtSession.create(file, label, config);
}

/** A session on a cached edited model; an unusable cache entry is rebuilt once. */
async function cachedSession(cache: ModelCache, key: string, build: () => Uint8Array, label: string, config: SessionConfig): Promise<OrtSession> {
  const cached = cache.read(key);
  if (cached) {
    try {
      return await OrtSession.create(cached, label, config);
    } catch {
      cache.forget(key);
    }
  }
  return OrtSession.create(cache.get(key, build), label, config);
}

function numericLastDim(v: onnx.IValueInfoProto | undefined): number | undefined {
  const dims = v?.type?.tensorType?.shape?.dim;
  const last = dims?.[dims.length - 1];
  const n = last?.dimValue === undefined || last?.dimValue === null ? undefined : Number(last.dimValue);
  return n && n > 0 ? n : undefined;
}

interface SpliceSessions {
  readonly cut: GraphCut;
  readonly prefix: OrtSession;
  suffix?: OrtSession;
  /** The suffix computing logits for the last position only (lastPositionHead); null: the head has another shape. */
  lastSuffix?: OrtSession | null;
  /** How cut tensors repeat over a batch of one sequence's variants (probeCopyRule); null: they don't simply. */
  copyRule?: Map<string, 'shared' | 'copy'> | null;
}

/** Batch size × tokens of one suffix run over variants. */
const CUT_BATCH_TOKENS = 4096;

/** `t` ([1, …]) repeated `times` along axis 0. */
function repeatBatch(t: OrtTensor, times: number): OrtTensor {
  const src = t.data as unknown as { length: number; constructor: new (n: number) => { set(a: unknown, o: number): void } };
  const data = new src.constructor(src.length * times);
  for (let k = 0; k < times; k++) data.set(src, k * src.length);
  return new ort.Tensor(t.type as 'float32', data as unknown as Float32Array, [times, ...t.dims.slice(1)]);
}

export class OnnxLanguageModel implements LanguageModel {
  private readonly spliceSessions = new Map<string, SpliceSessions>();
  private disposed = false;

  constructor(
    readonly info: ModelInfo,
    readonly tokenizer: TextTokenizer | undefined,
    private readonly proto: ModelProto,
    private readonly analysis: GraphAnalysis | undefined,
    private readonly analysisError: Error | undefined,
    private readonly main: OrtSession,
    private readonly open: SessionOpener,
    private readonly logitsName: string,
    /** Weights in external data: large, so one-site activations reuse the main session instead of a prefix copy. */
    private readonly large: boolean,
    private readonly cache?: CacheAccess,
  ) {}

  private cacheSession?: Promise<OrtSession>;

  /** Whether generation reads a KV cache (the model has past inputs / a use_cache_branch). */
  get hasKvCache(): boolean {
    return this.cache !== undefined;
  }

  sites(): HookSite[] {
    return hookSites(this.requireAnalysis(), this.info.dModel);
  }

  /** The ONNX tensor behind a site name (for diagnostics). */
  siteTensor(site: string): string {
    const a = this.requireAnalysis();
    const t = a.siteTensors.get(site);
    if (t === undefined) {
      throw new Error(`${this.info.onnxFile}: hook site "${site}" not found. Sites found: ${[...a.siteTensors.keys()].join(', ')}`);
    }
    return t;
  }

  private requireAnalysis(): GraphAnalysis {
    if (this.analysisError) throw this.analysisError;
    return this.analysis as GraphAnalysis;
  }

  private get padId(): number {
    return this.info.eosId ?? 0;
  }

  private checkBatch(batch: readonly Int32Array[]): void {
    if (this.disposed) throw new Error(`${this.info.onnxFile}: the model was disposed`);
    if (batch.length === 0) throw new Error('empty batch: pass at least one sequence');
    batch.forEach((ids, b) => {
      if (ids.length === 0) throw new Error(`sequence ${b} is empty: a forward pass needs at least one token`);
      if (ids.length > this.info.contextLength) {
        throw new Error(
          `sequence ${b} has ${ids.length} tokens but ${this.info.onnxFile} takes at most ${this.info.contextLength}; use activationsLong for windowed processing`,
        );
      }
      for (let t = 0; t < ids.length; t++) {
        const id = ids[t];
        if (!Number.isInteger(id) || id < 0 || id >= this.info.vocabSize) {
          throw new RangeError(
            `${this.info.onnxFile}: token id ${id} at position ${t}${batch.length > 1 ? ` of sequence ${b}` : ''} is outside the model's vocabulary (0..${this.info.vocabSize - 1})`,
          );
        }
      }
    });
  }

  async activations(batch: readonly Int32Array[], sites: readonly string[]): Promise<Map<string, Matrix[]>> {
    this.checkBatch(batch);
    const tensors = sites.map((s) => this.siteTensor(s));
    const unique = [...new Set(tensors)];
    // One tensor: run only the graph up to it (no later blocks, no logits), as the splice prefix does.
    const session = unique.length === 1 && !this.large ? (await this.spliceSessionsFor(unique[0])).prefix : this.main;
    const { feeds, padded } = buildFeeds(session, batch, this.padId);
    const out = await session.run(feeds, unique);
    const result = new Map<string, Matrix[]>();
    sites.forEach((s, i) => {
      const t = out[tensors[i]];
      result.set(
        s,
        padded.lengths.map((len, b) => sequenceRows(t, b, len)),
      );
    });
    return result;
  }

  async activationsLong(ids: Int32Array, sites: readonly string[], opts: WindowOptions & { signal?: AbortSignal } = {}): Promise<LongActivations> {
    const window = Math.min(opts.window ?? this.info.contextLength, this.info.contextLength);
    const stride = opts.stride ?? Math.max(1, Math.floor(window / 2));
    const maxTokens = opts.maxTokens ?? DEFAULT_MAX_TOKENS;
    const batchSize = Math.max(1, opts.batchSize ?? 8);
    const used = Math.min(ids.length, maxTokens);
    const truncated = used < ids.length;
    for (const s of sites) this.siteTensor(s);
    const windows = planWindows(used, window, stride);
    const acts = new Map<string, Matrix>();
    for (const s of sites) acts.set(s, matrix(used, this.info.dModel));
    for (let w0 = 0; w0 < windows.length; w0 += batchSize) {
      opts.signal?.throwIfAborted();
      const group = windows.slice(w0, w0 + batchSize);
      const got = await this.activations(
        group.map((w) => ids.subarray(w.start, w.end)),
        sites,
      );
      for (const s of sites) {
        const dst = acts.get(s) as Matrix;
        const per = got.get(s) as Matrix[];
        group.forEach((w, k) => {
          const from = (w.takeFrom - w.start) * dst.cols;
          dst.data.set(per[k].data.subarray(from), w.takeFrom * dst.cols);
        });
      }
    }
    let message: string | undefined;
    if (truncated) message = truncationMessage(ids.length, used);
    else if (windows.length > 1) {
      message = `${used} tokens processed in ${windows.length} windows of ${window} (each token sees at least ${window - stride} tokens of left context).`;
    }
    return { acts, tokensUsed: used, tokensTotal: ids.length, truncated, message };
  }

  async logits(batch: readonly Int32Array[]): Promise<Matrix[]> {
    this.checkBatch(batch);
    const { feeds, padded } = buildFeeds(this.main, batch, this.padId);
    const out = await this.main.run(feeds, [this.logitsName]);
    return padded.lengths.map((len, b) => sequenceRows(out[this.logitsName], b, len));
  }

  async runWithSplice(ids: Int32Array, site: string, replacement: Matrix): Promise<Matrix> {
    const r = await this.spliced([ids], site, () => replacement);
    return r.logits[0];
  }

  async spliced(batch: readonly Int32Array[], site: string, edit: SiteEdit): Promise<SpliceResult> {
    this.checkBatch(batch);
    const tensor = this.siteTensor(site);
    const sessions = await this.spliceSessionsFor(tensor);
    const { feeds, padded } = buildFeeds(this.main, batch, this.padId);
    const prefixOut = await sessions.prefix.run(feeds, [tensor, ...sessions.cut.boundary]);
    const siteValue = prefixOut[tensor];
    const original = padded.lengths.map((len, b) => sequenceRows(siteValue, b, len));
    const replaced = original.map((acts, b) => {
      const r = edit(acts, b);
      if (r.rows !== acts.rows || r.cols !== acts.cols) {
        throw new Error(`splice at ${site}: sequence ${b} needs a ${acts.rows}×${acts.cols} replacement, got ${r.rows}×${r.cols}`);
      }
      return r;
    });
    const suffix = await this.suffixSession(sessions, tensor, site, prefixOut);
    const siteDims = siteValue.dims;
    const suffixFeeds: Record<string, OrtTensor> = { ...feeds };
    for (const name of sessions.cut.boundary) suffixFeeds[name] = prefixOut[name];
    suffixFeeds[tensor] = batchTensor(replaced, siteDims[1], siteDims[2], siteValue);
    const out = await suffix.run(suffixFeeds, [this.logitsName]);
    return { original, logits: padded.lengths.map((len, b) => sequenceRows(out[this.logitsName], b, len)) };
  }

  /** The graph after the site, built once the prefix has run (its outputs give the cut tensors' types). */
  private async suffixSession(sessions: SpliceSessions, tensor: string, site: string, prefixOut: Record<string, OrtTensor>): Promise<OrtSession> {
    if (sessions.suffix) return sessions.suffix;
    const types = new Map<string, number>();
    const ranks = new Map<string, number>();
    for (const [name, t] of Object.entries(prefixOut)) {
      types.set(name, onnxElemType(t));
      ranks.set(name, t.dims.length);
    }
    const key = `suffix:${tensor}:${[...types].map(([k, v]) => `${k}=${v}/${ranks.get(k)}`).join(',')}`;
    sessions.suffix = await this.open(key, () => encodeModel(sessions.cut.suffix(types, ranks)), `${this.info.onnxFile} (after ${site})`);
    return sessions.suffix;
  }

  /** The suffix with the head applied to the last position only, else the full suffix. */
  private async lastPositionSuffix(sessions: SpliceSessions, tensor: string, site: string, prefixOut: Record<string, OrtTensor>): Promise<OrtSession> {
    const full = await this.suffixSession(sessions, tensor, site, prefixOut);
    if (sessions.lastSuffix === undefined) {
      sessions.lastSuffix = null;
      const types = new Map<string, number>();
      const ranks = new Map<string, number>();
      for (const [name, t] of Object.entries(prefixOut)) {
        types.set(name, onnxElemType(t));
        ranks.set(name, t.dims.length);
      }
      const edited = lastPositionHead(sessions.cut.suffix(types, ranks), this.logitsName);
      if (edited) {
        const key = `suffix-last:${tensor}:${[...types].map(([k, v]) => `${k}=${v}/${ranks.get(k)}`).join(',')}`;
        try {
          sessions.lastSuffix = await this.open(key, () => encodeModel(edited), `${this.info.onnxFile} (after ${site}, last position)`);
        } catch {
          // the full suffix gives the same last row
        }
      }
    }
    return sessions.lastSuffix ?? full;
  }

  async cutAtSite(ids: Int32Array, site: string): Promise<SiteCut> {
    this.checkBatch([ids]);
    const tensor = this.siteTensor(site);
    const sessions = await this.spliceSessionsFor(tensor);
    const fetches = [tensor, ...sessions.cut.boundary];
    const { feeds } = buildFeeds(this.main, [ids], this.padId);
    const prefixOut = await sessions.prefix.run(feeds, fetches);
    const siteValue = prefixOut[tensor];
    const acts = sequenceRows(siteValue, 0, ids.length);
    const suffix = await this.lastPositionSuffix(sessions, tensor, site, prefixOut);
    if (sessions.copyRule === undefined) sessions.copyRule = siteValue.dims.length === 3 ? await this.probeCopyRule(sessions, ids, fetches, prefixOut) : null;
    const rule = sessions.copyRule;
    const n = ids.length;
    const dim = acts.cols;
    return {
      site,
      acts,
      lastLogits: async (variants, signal) => {
        for (const [i, v] of variants.entries()) {
          if (v.rows !== n || v.cols !== dim) throw new Error(`cut at ${site}: variant ${i} is ${v.rows}×${v.cols}, expected ${n}×${dim}`);
        }
        const out: Float32Array[] = [];
        // Logits of a batch are [B, n, vocab]: bound B·n so a long text with many variants stays small.
        const per = rule === null ? 1 : Math.max(1, Math.floor(CUT_BATCH_TOKENS / n));
        for (let i = 0; i < variants.length; i += per) {
          signal?.throwIfAborted();
          const group = variants.slice(i, i + per);
          const copies = group.map(() => ids);
          const built = buildFeeds(this.main, copies, this.padId);
          const suffixFeeds: Record<string, OrtTensor> = { ...built.feeds };
          if (rule && group.length > 1) {
            for (const name of sessions.cut.boundary) suffixFeeds[name] = rule.get(name) === 'copy' ? repeatBatch(prefixOut[name], group.length) : prefixOut[name];
          } else if (group.length > 1) {
            const again = await sessions.prefix.run(built.feeds, fetches);
            for (const name of sessions.cut.boundary) suffixFeeds[name] = again[name];
          } else {
            for (const name of sessions.cut.boundary) suffixFeeds[name] = prefixOut[name];
          }
          suffixFeeds[tensor] = group.length === 1 && siteValue.dims.length !== 3 ? batchTensor(group, n, dim, siteValue) : batchTensor(group, n, dim);
          const res = (await suffix.run(suffixFeeds, [this.logitsName]))[this.logitsName];
          const len = res.dims.length === 3 ? res.dims[1] : n;
          group.forEach((_, b) => {
            const rows = sequenceRows(res, b, len);
            out.push(rows.data.slice((len - 1) * rows.cols));
          });
        }
        return out;
      },
    };
  }

  /**
   * How the tensors crossing the cut behave when the same sequence is batched: each is either the same
   * ('shared', e.g. a mask broadcast over the batch) or repeated along axis 0 ('copy'). Found by running
   * the prefix on the sequence twice; anything else (a tensor holding the batch size, say) → null, and
   * batches of variants then run the prefix on as many copies.
   */
  private async probeCopyRule(sessions: SpliceSessions, ids: Int32Array, fetches: string[], single: Record<string, OrtTensor>): Promise<Map<string, 'shared' | 'copy'> | null> {
    const { feeds } = buildFeeds(this.main, [ids, ids], this.padId);
    const twice = await sessions.prefix.run(feeds, fetches);
    const rule = new Map<string, 'shared' | 'copy'>();
    for (const name of sessions.cut.boundary) {
      const a = single[name];
      const b = twice[name];
      const same = (x: ArrayLike<unknown>, y: ArrayLike<unknown>, offset: number) => {
        for (let i = 0; i < x.length; i++) if (x[i] !== y[offset + i] && !(Number.isNaN(x[i]) && Number.isNaN(y[offset + i]))) return false;
        return true;
      };
      const ad = a.data as ArrayLike<unknown>;
      const bd = b.data as ArrayLike<unknown>;
      if (a.dims.length === b.dims.length && a.dims.every((d, k) => d === b.dims[k]) && same(ad, bd, 0)) {
        rule.set(name, 'shared');
      } else if (
        a.dims.length > 0 &&
        a.dims[0] === 1 &&
        b.dims[0] === 2 &&
        a.dims.length === b.dims.length &&
        a.dims.every((d, k) => k === 0 || d === b.dims[k]) &&
        same(ad, bd, 0) &&
        same(ad, bd, ad.length)
      ) {
        rule.set(name, 'copy');
      } else {
        return null;
      }
    }
    return rule;
  }

  private async spliceSessionsFor(tensor: string): Promise<SpliceSessions> {
    const existing = this.spliceSessions.get(tensor);
    if (existing) return existing;
    const cut = cutAt(this.proto, tensor, [this.logitsName]);
    const prefix = await this.open(`prefix:${tensor}`, () => encodeModel(cut.prefix), `${this.info.onnxFile} (up to ${tensor})`);
    const s: SpliceSessions = { cut, prefix };
    this.spliceSessions.set(tensor, s);
    return s;
  }

  /**
   * Next-token logits of `ids` growing token by token, through the KV cache (see kvCache.ts); undefined when
   * the model has no cache interface. The logits equal those of lastLogits on the same tokens.
   */
  async nextTokenStream(ids: Int32Array): Promise<NextTokenStream | undefined> {
    if (!this.cache) return undefined;
    if (this.disposed) throw new Error(`${this.info.onnxFile}: the model was disposed`);
    if (ids.length === 0) throw new Error('generation needs at least one token');
    this.cacheSession ??= this.cache.open();
    const session = await this.cacheSession;
    return openCachedStream(
      { session, cache: this.cache.iface, logitsName: this.logitsName, contextLength: this.info.contextLength, padId: this.padId, check: (w) => this.checkBatch([w]) },
      ids,
    );
  }

  async generate(ids: Int32Array, tokens: number, opts: { cache?: boolean } = {}): Promise<Int32Array> {
    const stream = tokens > 0 && (opts.cache ?? true) ? await this.nextTokenStream(ids) : undefined;
    if (stream) {
      const fresh: number[] = [];
      const one = (logits: Float32Array) => argmaxRow(matrix(1, logits.length, logits), 0);
      fresh.push(one(stream.logits));
      while (fresh.length < tokens) fresh.push(one(await stream.append(fresh[fresh.length - 1])));
      return Int32Array.from(fresh);
    }
    const out = Array.from(ids);
    for (let k = 0; k < tokens; k++) {
      const ctx = Int32Array.from(out.slice(-this.info.contextLength));
      const [logits] = await this.logits([ctx]);
      out.push(argmaxRow(logits, logits.rows - 1));
    }
    return Int32Array.from(out.slice(ids.length));
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    const all = [this.main, ...[...this.spliceSessions.values()].flatMap(spliceSessionList)];
    const cacheSession = this.cacheSession && !this.cache?.shared ? await this.cacheSession.catch(() => undefined) : undefined;
    if (cacheSession) all.push(cacheSession);
    this.spliceSessions.clear();
    await Promise.all(all.map((s) => s.release()));
  }
}

/** Every session a splice opened: the prefix, the full suffix and the last-position suffix. */
function spliceSessionList(s: SpliceSessions): OrtSession[] {
  return [s.prefix, s.suffix, s.lastSuffix].filter((x): x is OrtSession => x != null);
}
