import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';

// The committed WebAssembly (base64 in src/core/tensor/wasm/*.ts) is what each assembly/*.ts compiles to
// now: a kernel edited without `node tools/build-wasm.mjs` fails here. Skipped (with the reason shown) only
// in a checkout whose node_modules predate the compiler; CI's npm ci has it.
interface KernelModule {
  source: string;
  target: string;
}

test('every committed WebAssembly module is the current compile of its AssemblyScript source', async (t) => {
  const tool = (await import(join(__dirname, '../../../tools/build-wasm.mjs'))) as {
    MODULES: KernelModule[];
    loadCompiler(): Promise<unknown>;
    compileModule(asc: unknown, m: KernelModule): Promise<Uint8Array>;
    moduleText(m: KernelModule, binary: Uint8Array): string;
    committedText(m: KernelModule): string;
  };
  assert.deepEqual(
    tool.MODULES.map((m) => m.source),
    ['assembly/sparseKernels.ts', 'assembly/densePasses.ts'],
  );
  const asc = await tool.loadCompiler();
  if (!asc) {
    t.skip('assemblyscript is not installed here (run npm ci)');
    return;
  }
  for (const m of tool.MODULES) {
    const fresh = tool.moduleText(m, await tool.compileModule(asc, m));
    assert.ok(tool.committedText(m) === fresh, `${m.target} is stale: run node tools/build-wasm.mjs`);
  }
});
