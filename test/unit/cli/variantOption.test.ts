// --variant on the command line: resolved into --model <the variant's file> before a command runs.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { UsageError } from '../../../src/cli/args';
import { applyVariant } from '../../../src/cli/variantOption';
import { buildFamily, FAMILY_BASE } from '../../fixtures/familyModel';
import { tempDir, type TempDir } from '../../fixtures/tempModel';

const ROOT = join(__dirname, '..', '..', '..');

describe('--variant', () => {
  let tmp: TempDir;
  let dir: string;
  before(() => {
    tmp = tempDir();
    dir = tmp.path('tjs');
    tmp.write('tjs/config.json', JSON.stringify({ _name_or_path: 'tiny-tjs', model_type: 'llama' }));
    tmp.write('tjs/onnx/model.onnx', buildFamily({ ...FAMILY_BASE, norm: 'rms' }).bytes);
    tmp.write('tjs/onnx/model_quantized.onnx', buildFamily({ ...FAMILY_BASE, norm: 'rms', weights: 'int8' }).bytes);
    tmp.write('tjs/onnx/model_q4.onnx', buildFamily({ ...FAMILY_BASE, norm: 'rms', weights: 'q4' }).bytes);
  });
  after(() => tmp.cleanup());

  const noDefault = () => {
    throw new Error('the default model is not asked for when --model is given');
  };

  test('replaces --model by the variant file, in both spellings, and leaves other options alone', () => {
    assert.deepEqual(applyVariant(['--model', dir, '--variant', 'q4', '--json'], true, noDefault), ['--model', join(dir, 'onnx', 'model_q4.onnx'), '--json']);
    assert.deepEqual(applyVariant(['--variant=int8', `--model=${dir}`], true, noDefault), [`--model=${join(dir, 'onnx', 'model_quantized.onnx')}`]);
    assert.deepEqual(applyVariant(['--model', dir, '--json'], true, noDefault), ['--model', dir, '--json'], 'no --variant: unchanged');
    assert.deepEqual(applyVariant(['--variant', 'fp32'], true, () => dir), ['--model', join(dir, 'onnx', 'model.onnx')], 'the default model when --model is absent');
  });

  test('an absent variant names those found; a file or a command without a model is refused', () => {
    assert.throws(() => applyVariant(['--model', dir, '--variant', 'fp16'], true, noDefault), (e: Error) => e instanceof UsageError && /--variant fp16: .* has fp32, int8, q4/.test(e.message));
    assert.throws(() => applyVariant(['--model', join(dir, 'onnx', 'model.onnx'), '--variant', 'q4'], true, noDefault), /is a file/);
    assert.throws(() => applyVariant(['--variant', 'q4'], false, noDefault), /loads no model/);
    assert.throws(() => applyVariant(['--model', dir, '--variant'], true, noDefault), /--variant needs a value/);
  });

  test('feature-lens sites --variant q4 loads the q4 weights', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'sites', '--model', dir, '--variant', 'q4', '--json', '--cache-dir', tmp.path('cache')], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
    const j = JSON.parse(r.stdout) as { model: { onnxFile: string; name: string }; sites: unknown[] };
    assert.match(j.model.onnxFile, /onnx[/\\]model_q4\.onnx$/);
    assert.equal(j.model.name, 'tiny-tjs', 'config.json from the folder above onnx/');
    assert.equal(j.sites.length, 10);
  });
});
