import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

// The committed WebAssembly (base64 in src/core/tensor/wasm/sparseKernelsWasm.ts) is what
// assembly/sparseKernels.ts compiles to now: a kernel edited without `node tools/build-wasm.mjs` fails here.
test('the committed sparse-kernel WebAssembly is the current compile of its AssemblyScript source', async () => {
  const tool = (await import(join(__dirname, '../../../tools/build-wasm.mjs'))) as {
    compileKernels(): Promise<Uint8Array>;
    moduleText(binary: Uint8Array): string;
  };
  const fresh = tool.moduleText(await tool.compileKernels());
  const committed = readFileSync(join(__dirname, '../../../src/core/tensor/wasm/sparseKernelsWasm.ts'), 'utf8');
  assert.ok(committed === fresh, 'src/core/tensor/wasm/sparseKernelsWasm.ts is stale: run node tools/build-wasm.mjs');
});
