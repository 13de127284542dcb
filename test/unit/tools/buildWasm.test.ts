import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

// The committed WebAssembly (base64 in src/core/tensor/wasm/sparseKernelsWasm.ts) is what
// assembly/sparseKernels.ts compiles to now: a kernel edited without `node tools/build-wasm.mjs` fails here.
// Skipped (with the reason shown) only in a checkout whose node_modules predate the compiler; CI's npm ci has it.
test('the committed sparse-kernel WebAssembly is the current compile of its AssemblyScript source', async (t) => {
  const tool = (await import(join(__dirname, '../../../tools/build-wasm.mjs'))) as {
    loadCompiler(): Promise<unknown>;
    compileKernels(asc: unknown): Promise<Uint8Array>;
    moduleText(binary: Uint8Array): string;
  };
  const asc = await tool.loadCompiler();
  if (!asc) {
    t.skip('assemblyscript is not installed here (run npm ci)');
    return;
  }
  const fresh = tool.moduleText(await tool.compileKernels(asc));
  const committed = readFileSync(join(__dirname, '../../../src/core/tensor/wasm/sparseKernelsWasm.ts'), 'utf8');
  assert.ok(committed === fresh, 'src/core/tensor/wasm/sparseKernelsWasm.ts is stale: run node tools/build-wasm.mjs');
});
