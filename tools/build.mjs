// One esbuild script, one entry per runtime target (extension host, worker, CLI, webview).
import * as esbuild from 'esbuild';
import { cpSync, mkdirSync } from 'node:fs';

const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');

// Native or optional packages stay outside the bundles: they load their own binaries at run time.
const nodeExternals = ['onnxruntime-node'];

/** @type {esbuild.BuildOptions} */
const common = {
  bundle: true,
  sourcemap: true,
  minify: production,
  logLevel: 'info',
  target: 'es2022',
};

const targets = [
  {
    ...common,
    entryPoints: { extension: 'src/extension/extension.ts' },
    outdir: 'dist',
    platform: 'node',
    format: 'cjs',
    external: ['vscode', ...nodeExternals],
  },
  {
    // No `vscode` external here: a vscode import reaching the worker fails the build.
    ...common,
    entryPoints: { worker: 'src/worker/worker.ts' },
    outdir: 'dist',
    platform: 'node',
    format: 'cjs',
    external: nodeExternals,
  },
  {
    // Training runs in its own worker so a long run never blocks analysis.
    ...common,
    entryPoints: { trainWorker: 'src/worker/trainWorker.ts' },
    outdir: 'dist',
    platform: 'node',
    format: 'cjs',
    external: nodeExternals,
  },
  {
    ...common,
    entryPoints: { cli: 'src/cli/main.ts' },
    outdir: 'dist',
    platform: 'node',
    format: 'cjs',
    external: nodeExternals,
    banner: { js: '#!/usr/bin/env node' },
  },
  {
    ...common,
    entryPoints: { main: 'webview-ui/src/main.ts' },
    outdir: 'dist/webview',
    platform: 'browser',
    format: 'iife',
    loader: { '.css': 'css' },
  },
];

function copyStatic() {
  mkdirSync('dist/webview', { recursive: true });
  // SQLite (sql.js) loads its WebAssembly from beside the bundle that uses it (src/core/features/sqlite.ts).
  cpSync('node_modules/sql.js/dist/sql-wasm.wasm', 'dist/sql-wasm.wasm');
  cpSync('webview-ui/src/styles', 'dist/webview/styles', { recursive: true });
}

if (watch) {
  const contexts = await Promise.all(targets.map((t) => esbuild.context(t)));
  copyStatic();
  await Promise.all(contexts.map((c) => c.watch()));
} else {
  await Promise.all(targets.map((t) => esbuild.build(t)));
  copyStatic();
}
