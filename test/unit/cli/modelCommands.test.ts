// The sites / activations / generate commands, run as a user would (tsx on src/cli/main.ts).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { bundledModelPath } from '../../../src/cli/commands/modelOption';
import { readNpyMatrix } from '../../../src/core/npy';
import { loadModel } from '../../../src/core/runtime';
import { BUNDLED_MODEL, tempDir } from '../../fixtures/tempModel';

const ROOT = join(__dirname, '..', '..', '..');

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), ...args], { cwd: ROOT, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('model CLI commands', () => {
  test('the default model is the bundled one, found from the source tree', () => {
    assert.equal(bundledModelPath(join(ROOT, 'src', 'cli', 'commands')), BUNDLED_MODEL);
    assert.equal(bundledModelPath(join(ROOT, 'dist')), BUNDLED_MODEL);
  });

  test('sites --json lists 5 sites per layer of the bundled model', () => {
    const r = cli('sites', '--json');
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout) as { model: { layers: number }; sites: { name: string; dim: number }[] };
    assert.equal(j.sites.length, 5 * j.model.layers);
    assert.ok(j.sites.some((s) => s.name === 'blocks.0.hook_resid_pre' && s.dim === 128));
  });

  test('activations writes the same [n_tokens, d] float32 matrix the runtime returns', async () => {
    const tmp = tempDir();
    try {
      const out = tmp.path('acts.npy');
      const r = cli('activations', '--site', 'blocks.1.hook_mlp_out', '--ids', '5,6,7,8', '--out', out, '--cache-dir', tmp.path('cache'));
      assert.equal(r.code, 0, r.stderr);
      assert.equal((JSON.parse(r.stdout) as { tokens: number }).tokens, 4);
      const file = readNpyMatrix(out);
      const lm = await loadModel(BUNDLED_MODEL, { cacheDir: tmp.path('cache') });
      const want = (await lm.activations([Int32Array.of(5, 6, 7, 8)], ['blocks.1.hook_mlp_out'])).get('blocks.1.hook_mlp_out')![0];
      await lm.dispose();
      assert.deepEqual([file.rows, file.cols], [want.rows, want.cols]);
      assert.deepEqual(Array.from(file.data), Array.from(want.data));
    } finally {
      tmp.cleanup();
    }
  });

  test('bad input exits non-zero with a clear message', () => {
    const both = cli('activations', '--site', 'x', '--text', 'a', '--ids', '1', '--out', '/tmp/never.npy');
    assert.equal(both.code, 2);
    assert.match(both.stderr, /exactly one of --text and --ids/);
    const vocab = cli('activations', '--site', 'blocks.0.hook_resid_pre', '--ids', '1,99999', '--out', '/tmp/never.npy');
    assert.equal(vocab.code, 1);
    assert.match(vocab.stderr, /token id 99999 at position 1 is outside the model's vocabulary/);
  });

  test('generate prints the prompt and a continuation', () => {
    const r = cli('generate', '--prompt', 'The', '--tokens', '3', '--json');
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout) as { ids: number[] };
    assert.equal(j.ids.length, 3);
  });
});
