import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import type { TrainJob } from '../../../src/protocol/training';
import { PRESET_NAMES } from '../../../src/core/train/presets';
import { DATA_FIELDS, RUN_PRESETS, parseRunConfig, RUN_CONFIG_SUFFIX, RUN_FIELDS, runConfigOf, runConfigSchema } from '../../../src/protocol/runConfig';

const SCHEMA_FILE = 'schemas/featurelens-run.schema.json';
const context = { resolvePath: (p: string) => `/base/${p}`, defaultCacheDir: '/cache' };
const valid = {
  $schema: './x.json',
  site: 'blocks.0.hook_resid_post',
  arch: 'topk',
  k: 8,
  dSae: 64,
  tokens: 4096,
  outDir: 'out',
  data: { kind: 'acts', path: 'acts.npy' },
};
type Schema = { properties: Record<string, { type?: string; minimum?: number; enum?: string[]; errorMessage?: string; properties?: Record<string, { type?: string; minimum?: number; errorMessage?: string }> }>; required: string[] };

test('the committed schema is the one the field table makes (UPDATE_SCHEMA=1 rewrites it)', () => {
  const made = JSON.stringify(runConfigSchema(), null, 2) + '\n';
  if (process.env.UPDATE_SCHEMA === '1') writeFileSync(SCHEMA_FILE, made);
  assert.equal(readFileSync(SCHEMA_FILE, 'utf8'), made);
});

test('package.json validates *.featurelens-run.json with that schema and offers Run This Config on it', () => {
  const manifest = JSON.parse(readFileSync('package.json', 'utf8'));
  const v = manifest.contributes.jsonValidation as { fileMatch: string; url: string }[];
  assert.ok(v.some((e) => e.fileMatch === `*${RUN_CONFIG_SUFFIX}` && e.url === `./${SCHEMA_FILE}`));
  const title = manifest.contributes.menus['editor/title'] as { command: string; when: string }[];
  assert.ok(title.some((e) => e.command === 'featureLens.runConfig' && e.when.includes('featurelens-run')));
});

test('a valid file becomes the TrainJob, paths resolved against the file and defaults filled', () => {
  const parsed = parseRunConfig(valid, context);
  assert.ok(parsed.ok, !parsed.ok ? parsed.reason : '');
  assert.deepEqual(parsed.value, { site: valid.site, arch: 'topk', k: 8, dSae: 64, tokens: 4096, outDir: '/base/out', checkpointEvery: 500, seed: 0, data: { kind: 'acts', path: '/base/acts.npy' } });
  const corpus = parseRunConfig({ ...valid, data: { kind: 'corpus', modelPath: 'm', corpusDir: 'c' } }, context);
  assert.ok(corpus.ok);
  assert.deepEqual(corpus.value.data, { kind: 'corpus', modelPath: '/base/m', corpusDir: '/base/c', cacheDir: '/cache' });
});

test('runConfigOf writes back what parseRunConfig reads', () => {
  const job = parseRunConfig({ ...valid, seed: 3, checkpointEvery: 7, data: { kind: 'corpus', modelPath: 'm', corpusDir: 'c', maxFileBytes: 10 } }, context);
  assert.ok(job.ok);
  const file = runConfigOf(job.value, (p) => p.replace('/base/', ''));
  const again = parseRunConfig(JSON.parse(JSON.stringify(file)), context);
  assert.ok(again.ok, !again.ok ? again.reason : '');
  assert.deepEqual(again.value, job.value);
});

test('every schema property is known to the parser, and every field the parser reads is in the schema', () => {
  const schema = runConfigSchema() as unknown as Schema;
  assert.deepEqual(Object.keys(schema.properties).sort(), ['$schema', 'data', ...Object.keys(RUN_FIELDS)].sort());
  assert.deepEqual(Object.keys(schema.properties.data!.properties!).sort(), Object.keys(DATA_FIELDS).sort());
  // Each property set to a wrong type is refused with the schema's errorMessage; below its minimum with the editor's words.
  for (const [key, prop] of Object.entries(schema.properties)) {
    if (key === '$schema' || key === 'data') continue;
    const wrong = prop.type === 'string' ? 12 : 'x';
    const r = parseRunConfig({ ...valid, [key]: wrong }, context);
    assert.deepEqual(r, { ok: false, reason: prop.errorMessage }, key);
    if (prop.minimum !== undefined) {
      const low = parseRunConfig({ ...valid, [key]: prop.minimum - 1 }, context);
      assert.deepEqual(low, { ok: false, reason: `${key}: Value is below the minimum of ${prop.minimum}.` }, key);
    }
    if (prop.enum) assert.deepEqual(parseRunConfig({ ...valid, [key]: 'nonsense' }, context), { ok: false, reason: prop.errorMessage });
  }
  for (const [key, prop] of Object.entries(schema.properties.data!.properties!)) {
    const r = parseRunConfig({ ...valid, data: { ...valid.data, [key]: prop.type === 'string' ? 12 : 'x' } }, context);
    assert.deepEqual(r, { ok: false, reason: prop.errorMessage }, key);
  }
  for (const key of schema.required) {
    const { [key as keyof typeof valid]: _dropped, ...rest } = valid;
    assert.deepEqual(parseRunConfig(rest, context), { ok: false, reason: `Missing property "${key}".` }, key);
  }
});

test('unknown keys and missing kind-specific fields are refused in the editor\'s words', () => {
  assert.deepEqual(parseRunConfig({ ...valid, learningRate: 1 }, context), { ok: false, reason: 'Property learningRate is not allowed.' });
  assert.deepEqual(parseRunConfig({ ...valid, data: { ...valid.data, extra: 1 } }, context), { ok: false, reason: 'data: Property extra is not allowed.' });
  assert.deepEqual(parseRunConfig({ ...valid, data: { kind: 'corpus', modelPath: 'm' } }, context), { ok: false, reason: 'data: Missing property "corpusDir".' });
  const { k: _k, ...noK } = valid;
  assert.deepEqual(parseRunConfig(noK, context), { ok: false, reason: 'Missing property "k".' });
  assert.equal(parseRunConfig([], context).ok, false);
});

test('the presets a run file may name are the trainer\'s presets', () => {
  assert.deepEqual([...RUN_PRESETS], [...PRESET_NAMES]);
});

test('every TrainJob field has a run-file field (a field added to TrainJob fails to type-check here)', () => {
  const every = {
    site: 's', arch: 'jumprelu', dSae: 1, targetL0: 1, k: 1, l0Coeff: 0, preset: 'default', tokens: 1, outDir: 'o', checkpointEvery: 0, seed: 0, batchSize: 1,
    data: { kind: 'acts', path: 'p' },
  } satisfies Required<TrainJob>;
  assert.deepEqual(Object.keys(every).filter((k) => k !== 'data').sort(), Object.keys(RUN_FIELDS).sort());
});
