// Select Model on a transformers.js folder holding several copies of the weights (onnx/model.onnx and
// onnx/model_quantized.onnx, both the bundled model's bytes here): the chosen variant is what loads and
// analyses, and a later selection without a variant loads fp32.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const vscode = require('vscode');
const { test, activeExtension, closeAllEditors, editorWith } = require('./harness');

const TEXT = 'The quick brown fox jumps over the lazy dog.';

test(
  'a variant picked for a transformers.js folder is loaded and analyses a selection',
  async () => {
    const extension = await activeExtension();
    const bundled = path.join(extension.extensionUri.fsPath, 'models/tiny-lm');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fl-it-variants-'));
    fs.mkdirSync(path.join(dir, 'onnx'));
    for (const name of ['tokenizer.json', 'config.json']) fs.copyFileSync(path.join(bundled, name), path.join(dir, name));
    fs.copyFileSync(path.join(bundled, 'model.onnx'), path.join(dir, 'onnx', 'model.onnx'));
    fs.copyFileSync(path.join(bundled, 'model.onnx'), path.join(dir, 'onnx', 'model_quantized.onnx'));
    try {
      const int8 = await vscode.commands.executeCommand('featureLens.selectModel', dir, 'int8');
      assert.ok(int8, 'Select Model returned nothing (an error was shown)');
      assert.equal(int8.model.variant, 'int8');
      assert.match(int8.model.file, /onnx[/\\]model_quantized\.onnx$/);
      await closeAllEditors();
      await editorWith(TEXT);
      const analysed = await vscode.commands.executeCommand('featureLens.analyzeSelection');
      assert.ok(analysed, 'no analysis');
      assert.equal(analysed.result.tokens.map((t) => t.text).join(''), TEXT);

      const fp32 = await vscode.commands.executeCommand('featureLens.selectModel', dir);
      assert.equal(fp32.model.variant, undefined, 'no variant asked for and none remembered: fp32');
      assert.equal(fp32.model.path, dir);
    } finally {
      await vscode.commands.executeCommand('featureLens.selectModel', '');
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
  { timeout: 180_000 },
);
