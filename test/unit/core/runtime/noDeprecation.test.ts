// Bundled code (dist/*.js) is outside node_modules, so Node reports deprecated calls its dependencies make.
// protobufjs 6 (under onnx-proto) built `new Buffer(0)` for every empty bytes field of an ONNX model; the
// package.json override lifts it to protobufjs 7. This bundles the model decoder the way tools/build.mjs
// does and decodes a model with an empty bytes field under --throw-deprecation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { build } from 'esbuild';
import { onnx } from 'onnx-proto';
import { buildLlama } from '../../../fixtures/llamaModel';
import { tempDir } from '../../../fixtures/tempModel';

const ROOT = join(__dirname, '..', '..', '..', '..');

test('decoding an ONNX model from bundled code prints no deprecation warning', async () => {
  const tmp = tempDir();
  try {
    // An empty raw_data field is what made protobufjs 6 call new Buffer(0).
    const m = onnx.ModelProto.decode(buildLlama().bytes);
    m.graph?.initializer?.push({ name: 'empty', dataType: 1, dims: [0], rawData: new Uint8Array(0) });
    const model = tmp.write('model.onnx', onnx.ModelProto.encode(m).finish());
    tmp.write(
      'entry.ts',
      `import { readFileSync } from 'node:fs';\nimport { decodeModel } from ${JSON.stringify(join(ROOT, 'src/core/runtime/onnxProto'))};\n` +
        `const m = decodeModel(readFileSync(process.argv[2]), 'model');\nconsole.log(m.graph?.initializer?.length);\n`,
    );
    await build({ entryPoints: [tmp.path('entry.ts')], bundle: true, platform: 'node', format: 'cjs', outfile: tmp.path('bundle.js'), logLevel: 'silent' });
    const r = spawnSync(process.execPath, ['--throw-deprecation', tmp.path('bundle.js'), model], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /DeprecationWarning/);
    assert.equal(Number(r.stdout.trim()), (m.graph?.initializer ?? []).length);
  } finally {
    tmp.cleanup();
  }
});
