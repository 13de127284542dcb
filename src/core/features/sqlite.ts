// SQLite in WebAssembly (sql.js): the embedded database of the feature index. It runs wherever VS Code
// runs, with no native binary; the whole database lives in memory once opened (a few MB).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import initSqlJs, { type SqlJsStatic } from 'sql.js';

export type { Database } from 'sql.js';

let loading: Promise<SqlJsStatic> | undefined;

/** The wasm file: beside the bundle (dist/, copied by tools/build.mjs), else from the sql.js package. */
function wasmPath(): string {
  const beside = join(__dirname, 'sql-wasm.wasm');
  if (existsSync(beside)) return beside;
  return require.resolve('sql.js/dist/sql-wasm.wasm');
}

export function sqlite(): Promise<SqlJsStatic> {
  loading ??= initSqlJs({ locateFile: () => wasmPath() }).catch((err: unknown) => {
    loading = undefined;
    throw new Error(`could not start SQLite (sql.js): ${err instanceof Error ? err.message : String(err)}`);
  });
  return loading;
}
