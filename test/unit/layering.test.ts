import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ESLint } from 'eslint';

// The layering rules are only worth having if they fire: lint snippets as if they lived in each folder.
const eslint = new ESLint({ overrideConfigFile: 'test/eslint.config.mjs' });

async function problems(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return result.messages.map((m) => m.message);
}

const vscodeImport = "import * as vscode from 'vscode';\nexport const v = vscode;\n";
const ortImport = "import * as ort from 'onnxruntime-node';\nexport const o = ort;\n";

test('src/core, src/protocol, src/worker and webview-ui may not import vscode', async () => {
  for (const file of ['src/core/x.ts', 'src/protocol/x.ts', 'src/worker/x.ts', 'webview-ui/src/x.ts']) {
    const found = await problems(file, vscodeImport);
    assert.ok(found.some((m) => m.includes("'vscode'")), `${file}: ${found.join('; ')}`);
  }
});

test('src/extension may import vscode', async () => {
  assert.deepEqual(await problems('src/extension/x.ts', vscodeImport), []);
});

test('only src/core/runtime may import onnxruntime-node', async () => {
  assert.deepEqual(await problems('src/core/runtime/x.ts', ortImport), []);
  for (const file of ['src/core/sae/x.ts', 'src/extension/x.ts', 'webview-ui/src/x.ts']) {
    assert.ok((await problems(file, ortImport)).length > 0, file);
  }
});

test('the webview may not reach into the core', async () => {
  const found = await problems('webview-ui/src/x.ts', "import { x } from '../../src/core/index';\nexport const y = x;\n");
  assert.ok(found.length > 0);
});

test('sae, inference, metrics, store and tensor may not import train, and may import the tensor room', async () => {
  for (const file of ['src/core/sae/x.ts', 'src/core/inference/x.ts', 'src/core/metrics/x.ts', 'src/core/store/x.ts', 'src/core/tensor/x.ts']) {
    const found = await problems(file, "import { SaeTrainer } from '../train/trainer';\nexport const t = SaeTrainer;\n");
    assert.ok(found.some((m) => m.includes('do not import train/')), `${file}: ${found.join('; ')}`);
    assert.deepEqual(await problems(file, "import { matrix } from '../tensor';\nexport const m = matrix;\n"), [], file);
  }
  assert.deepEqual(await problems('src/core/analysis/x.ts', "import { SaeTrainer } from '../train/trainer';\nexport const t = SaeTrainer;\n"), []);
});

test('the layering rule for the lower core rooms still keeps vscode out', async () => {
  const found = await problems('src/core/sae/x.ts', vscodeImport);
  assert.ok(found.some((m) => m.includes("'vscode'")), found.join('; '));
});

test('the core may use protocol types but not protocol code', async () => {
  const typeImport = "import type { AnalysisResult } from '../../protocol/analysis';\nexport type R = AnalysisResult;\n";
  const valueImport = "import { parseWorkerRequest } from '../../protocol/worker';\nexport const p = parseWorkerRequest;\n";
  for (const file of ['src/core/analysis/x.ts', 'src/core/runtime/x.ts', 'src/core/sae/x.ts']) {
    assert.deepEqual(await problems(file, typeImport), [], file);
    const found = await problems(file, valueImport);
    assert.ok(found.some((m) => m.includes('protocol')), `${file}: ${found.join('; ')}`);
  }
});

test('the protocol imports neither the core nor Node built-ins', async () => {
  for (const code of [
    "import type { Matrix } from '../core/tensor';\nexport type M = Matrix;\n",
    "import { analyzeText } from '../core/analysis/analyzeText';\nexport const a = analyzeText;\n",
    "import { join } from 'node:path';\nexport const j = join;\n",
  ]) {
    const found = await problems('src/protocol/x.ts', code);
    assert.ok(found.length > 0, code);
  }
});

test('JavaScript files (tools, integration tests) are linted too; CommonJS tests may require()', async () => {
  const unused = 'const unused = 1;\n';
  for (const file of ['tools/x.mjs', 'test/integration/ui/x.test.mjs', 'test/integration/host/x.test.js']) {
    const found = await problems(file, unused);
    assert.ok(found.some((m) => m.includes('unused')), `${file}: ${found.join('; ')}`);
  }
  assert.deepEqual(await problems('test/integration/host/x.test.js', "const assert = require('node:assert');\nmodule.exports = { assert };\n"), []);
});
