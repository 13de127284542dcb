// A reproducible training run is a JSON file (`*.featurelens-run.json`): the fields of a TrainJob, with
// paths relative to the file. One field table makes both the JSON schema the editor validates with
// (package.json contributes.jsonValidation) and the parser the extension and `feature-lens train --config`
// run before starting, so the two cannot drift apart and refuse a file with the same words. The messages
// for unknown keys, missing keys and minimums are the ones VS Code's JSON validation prints; type and enum
// errors use the schema's `errorMessage`, which the editor shows as is.
// Lives in the protocol (not the core) because both the host and the CLI parse it, and the parser is pure.
import { SAE_ARCHITECTURES } from './architectures';
import type { TrainData, TrainJob } from './training';
import { isRecord, type Parsed } from './validate';

export const RUN_CONFIG_SUFFIX = '.featurelens-run.json';

interface FieldSpec {
  readonly type: 'integer' | 'number' | 'string';
  readonly description: string;
  readonly minimum?: number;
  readonly minLength?: number;
  readonly enum?: readonly string[];
  readonly default?: number | string;
  readonly errorMessage: string;
}

// The core's PRESET_NAMES (the protocol may not import the core; a unit test keeps the two equal).
export const RUN_PRESETS = ['default', 'paper', 'paper-scaled', 'anthropic', 'matryoshka'] as const;

/** The run's own fields (everything but `data`). */
export const RUN_FIELDS: Readonly<Record<string, FieldSpec>> = {
  site: { type: 'string', minLength: 1, description: 'Hook site the SAE reads, e.g. blocks.0.hook_resid_post.', errorMessage: 'site must be a non-empty string' },
  arch: { type: 'string', enum: SAE_ARCHITECTURES, description: 'SAE architecture.', errorMessage: `arch must be one of ${SAE_ARCHITECTURES.join(', ')}` },
  dSae: { type: 'integer', minimum: 1, description: 'Number of SAE latents (dictionary width).', errorMessage: 'dSae must be a positive integer' },
  tokens: { type: 'integer', minimum: 1, description: 'Training budget in activation rows (tokens).', errorMessage: 'tokens must be a positive integer' },
  targetL0: { type: 'integer', minimum: 1, description: 'Default JumpReLU recipe: the L0 to reach.', errorMessage: 'targetL0 must be a positive integer' },
  k: { type: 'integer', minimum: 1, description: 'TopK / BatchTopK: active latents per row.', errorMessage: 'k must be a positive integer' },
  l0Coeff: { type: 'number', minimum: 0, description: 'Fixed sparsity coefficient λ (paper preset, gated, relu).', errorMessage: 'l0Coeff must be a number ≥ 0' },
  preset: { type: 'string', enum: RUN_PRESETS, description: 'Trainer recipe.', errorMessage: `preset must be one of ${RUN_PRESETS.join(', ')}` },
  batchSize: { type: 'integer', minimum: 1, description: 'Rows per training step.', errorMessage: 'batchSize must be a positive integer' },
  outDir: { type: 'string', minLength: 1, description: 'Output SAE folder (relative to this file).', errorMessage: 'outDir must be a non-empty string' },
  checkpointEvery: { type: 'integer', minimum: 0, default: 500, description: 'Steps between checkpoints (0: only at the end and on cancel).', errorMessage: 'checkpointEvery must be an integer ≥ 0' },
  seed: { type: 'integer', minimum: 0, default: 0, description: 'Random seed.', errorMessage: 'seed must be an integer ≥ 0' },
};
const REQUIRED_RUN_FIELDS = ['site', 'arch', 'dSae', 'tokens', 'outDir', 'data'];

/** The fields of `data`; which ones a kind needs is in DATA_KINDS. */
export const DATA_FIELDS: Readonly<Record<string, FieldSpec>> = {
  kind: { type: 'string', enum: ['corpus', 'acts'], description: 'corpus: text harvested through a model; acts: a float32 [N, d] .npy.', errorMessage: 'data.kind must be "corpus" or "acts"' },
  modelPath: { type: 'string', minLength: 1, description: 'ONNX model folder (relative to this file).', errorMessage: 'data.modelPath must be a non-empty string' },
  corpusDir: { type: 'string', minLength: 1, description: 'Folder of text files (relative to this file).', errorMessage: 'data.corpusDir must be a non-empty string' },
  cacheDir: { type: 'string', minLength: 1, description: 'Activation cache folder (default: the extension\'s or the CLI\'s).', errorMessage: 'data.cacheDir must be a non-empty string' },
  maxFileBytes: { type: 'integer', minimum: 1, description: 'Corpus files larger than this are skipped.', errorMessage: 'data.maxFileBytes must be a positive integer' },
  path: { type: 'string', minLength: 1, description: 'float32 [N, d] .npy of activations (relative to this file).', errorMessage: 'data.path must be a non-empty string' },
};
const DATA_KINDS: Readonly<Record<'corpus' | 'acts', readonly string[]>> = { corpus: ['modelPath', 'corpusDir'], acts: ['path'] };

function fieldSchema(spec: FieldSpec): Record<string, unknown> {
  const { errorMessage, ...rest } = spec;
  return { ...rest, ...(spec.enum ? { enum: [...spec.enum] } : {}), errorMessage };
}

/** The JSON schema of a run file (written to schemas/featurelens-run.schema.json, checked by a unit test). */
export function runConfigSchema(): Record<string, unknown> {
  const properties = Object.fromEntries(Object.entries(RUN_FIELDS).map(([k, s]) => [k, fieldSchema(s)]));
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: 'Feature Lens training run',
    description: 'A reproducible SAE training run: start it with "Feature Lens: Run This Config" or `feature-lens train --config <file>`.',
    type: 'object',
    additionalProperties: false,
    required: REQUIRED_RUN_FIELDS,
    properties: {
      $schema: { type: 'string', description: 'This file\'s schema.' },
      ...properties,
      data: {
        type: 'object',
        description: 'Where the training rows come from.',
        additionalProperties: false,
        required: ['kind'],
        properties: Object.fromEntries(Object.entries(DATA_FIELDS).map(([k, s]) => [k, fieldSchema(s)])),
        allOf: Object.entries(DATA_KINDS).map(([kind, needs]) => ({ if: { properties: { kind: { const: kind } } }, then: { required: needs } })),
      },
    },
    allOf: [
      { if: { properties: { arch: { enum: ['topk', 'batchtopk'] } } }, then: { required: ['k'] } },
    ],
  };
}

/** How paths in the file become real paths, and the cache folder to use when the file names none. */
export interface RunConfigContext {
  readonly resolvePath: (relative: string) => string;
  readonly defaultCacheDir: string;
}

function checkField(path: string, spec: FieldSpec, v: unknown): string | undefined {
  const typeOk =
    spec.type === 'string' ? typeof v === 'string' : spec.type === 'integer' ? typeof v === 'number' && Number.isInteger(v) : typeof v === 'number' && Number.isFinite(v);
  if (!typeOk) return spec.errorMessage;
  if (spec.enum && !spec.enum.includes(v as string)) return spec.errorMessage;
  if (spec.minLength !== undefined && (v as string).length < spec.minLength) return `${path}: String is shorter than the minimum length of ${spec.minLength}.`;
  if (spec.minimum !== undefined && (v as number) < spec.minimum) return `${path}: Value is below the minimum of ${spec.minimum}.`;
  return undefined;
}

function checkObject(scope: string, r: Record<string, unknown>, fields: Readonly<Record<string, FieldSpec>>, extra: readonly string[], required: readonly string[]): string | undefined {
  const at = scope ? `${scope}: ` : '';
  for (const key of Object.keys(r)) if (!(key in fields) && !extra.includes(key)) return `${at}Property ${key} is not allowed.`;
  for (const key of required) if (r[key] === undefined) return `${at}Missing property "${key}".`;
  for (const [key, spec] of Object.entries(fields)) {
    if (r[key] === undefined) continue;
    const problem = checkField(scope ? `${scope}.${key}` : key, spec, r[key]);
    if (problem) return problem;
  }
  return undefined;
}

/** Reads a run file's JSON into the TrainJob it describes, or says (in the schema's words) why not. */
export function parseRunConfig(raw: unknown, context: RunConfigContext): Parsed<TrainJob> {
  if (!isRecord(raw)) return { ok: false, reason: 'a run file holds one JSON object' };
  const top = checkObject('', raw, RUN_FIELDS, ['$schema', 'data'], REQUIRED_RUN_FIELDS);
  if (top) return { ok: false, reason: top };
  if ((raw.arch === 'topk' || raw.arch === 'batchtopk') && raw.k === undefined) return { ok: false, reason: 'Missing property "k".' };
  const d = raw.data;
  if (!isRecord(d)) return { ok: false, reason: 'data: Incorrect type. Expected "object".' };
  const inner = checkObject('data', d, DATA_FIELDS, [], ['kind']);
  if (inner) return { ok: false, reason: inner };
  const kind = d.kind as 'corpus' | 'acts';
  for (const key of DATA_KINDS[kind]) if (d[key] === undefined) return { ok: false, reason: `data: Missing property "${key}".` };
  const data: TrainData =
    kind === 'acts'
      ? { kind, path: context.resolvePath(d.path as string) }
      : {
          kind,
          modelPath: context.resolvePath(d.modelPath as string),
          corpusDir: context.resolvePath(d.corpusDir as string),
          cacheDir: typeof d.cacheDir === 'string' ? context.resolvePath(d.cacheDir) : context.defaultCacheDir,
          ...(d.maxFileBytes !== undefined ? { maxFileBytes: d.maxFileBytes as number } : {}),
        };
  const optional = <K extends string>(key: K) => (raw[key] !== undefined ? ({ [key]: raw[key] } as Record<K, never>) : {});
  const job: TrainJob = {
    site: raw.site as string,
    arch: raw.arch as TrainJob['arch'],
    dSae: raw.dSae as number,
    tokens: raw.tokens as number,
    outDir: context.resolvePath(raw.outDir as string),
    checkpointEvery: (raw.checkpointEvery as number | undefined) ?? (RUN_FIELDS.checkpointEvery.default as number),
    seed: (raw.seed as number | undefined) ?? (RUN_FIELDS.seed.default as number),
    ...optional('targetL0'),
    ...optional('k'),
    ...optional('l0Coeff'),
    ...optional('preset'),
    ...optional('batchSize'),
    data,
  };
  return { ok: true, value: job };
}

/** A TrainJob written as a run file, paths made relative by `relativePath` (the inverse of parseRunConfig). */
export function runConfigOf(job: TrainJob, relativePath: (absolute: string) => string, schemaUrl?: string): Record<string, unknown> {
  const { data, outDir, ...rest } = job;
  return {
    ...(schemaUrl ? { $schema: schemaUrl } : {}),
    ...rest,
    outDir: relativePath(outDir),
    data:
      data.kind === 'acts'
        ? { kind: 'acts', path: relativePath(data.path) }
        : {
            kind: 'corpus',
            modelPath: relativePath(data.modelPath),
            corpusDir: relativePath(data.corpusDir),
            ...(data.maxFileBytes !== undefined ? { maxFileBytes: data.maxFileBytes } : {}),
          },
  };
}
