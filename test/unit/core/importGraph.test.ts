import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

// The core's rooms form layers: an import cycle or an upward import would tie them back together.
const coreDir = resolve('src/core');

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return tsFiles(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

/** Core files imported by `file` (type-only imports included: they tie the rooms together too). */
function coreImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/^\s*(?:import|export)\b[^'";]*?from\s+'(\.[^']*)'/gm)].map((m) => m[1]);
  return specs.map((spec) => {
    const base = resolve(dirname(file), spec);
    const candidates = [`${base}.ts`, join(base, 'index.ts')];
    const found = candidates.find((c) => existsSync(c));
    assert.ok(found, `${relative(coreDir, file)}: cannot resolve '${spec}'`);
    return found;
  }).filter((path) => path.startsWith(coreDir + '/'));
}

const graph = new Map(tsFiles(coreDir).map((file) => [file, coreImports(file)]));
const name = (file: string) => relative(coreDir, file);

test('the import graph parser sees the imports it should', () => {
  const trainer = graph.get(join(coreDir, 'train/trainer.ts'));
  assert.ok(trainer?.includes(join(coreDir, 'tensor/index.ts')), 'train/trainer.ts imports the tensor room');
  assert.ok(trainer?.includes(join(coreDir, 'train/config.ts')));
});

test('the core import graph has no cycle', () => {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const cycles: string[] = [];
  const visit = (file: string) => {
    state.set(file, 'open');
    stack.push(file);
    for (const next of graph.get(file) ?? []) {
      if (state.get(next) === 'open') cycles.push([...stack.slice(stack.indexOf(next)), next].map(name).join(' → '));
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(file, 'done');
  };
  for (const file of graph.keys()) if (!state.has(file)) visit(file);
  assert.deepEqual(cycles, []);
});

test('sae, inference, metrics, store and tensor do not import train', () => {
  const upward: string[] = [];
  for (const [file, imports] of graph) {
    const room = name(file).split('/')[0];
    if (!['sae', 'inference', 'metrics', 'store', 'tensor'].includes(room)) continue;
    for (const target of imports) if (name(target).startsWith('train/')) upward.push(`${name(file)} → ${name(target)}`);
  }
  assert.deepEqual(upward, []);
});

test('the tensor room imports nothing else from the core', () => {
  const outward: string[] = [];
  for (const [file, imports] of graph) {
    if (!name(file).startsWith('tensor/')) continue;
    for (const target of imports) if (!name(target).startsWith('tensor/')) outward.push(`${name(file)} → ${name(target)}`);
  }
  assert.deepEqual(outward, []);
});
