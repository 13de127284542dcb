// `npm run bench`: runs every benchmark in bench/ one after another and writes bench/RESULTS.md with the
// machine, the date, the training table (project vs PyTorch acts/s, ratio, step/GEMM floor) and each
// benchmark's own output. Absolute numbers drift on shared machines; the ratios are measured side by side.
//   npx tsx bench/run-all.ts [--only train,gemm-candidates] [--skip train-memory]
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { archLabel, type ScaleResult } from './trainResult';

const { values: opts } = parseArgs({ options: { only: { type: 'string' }, skip: { type: 'string', default: '' } } });
const benchDir = __dirname;
const tsx = resolve(benchDir, '../node_modules/.bin/tsx');
const only = opts.only?.split(',');
const skip = opts.skip.split(',').filter(Boolean);
// Modules the benchmarks import (randomDecoder is also a CLI that needs arguments) and acts-screen (needs
// activation files), not benchmarks to run without arguments.
const HELPERS = new Set(['run-all', 'trainResult', 'randomDecoder', 'syntheticToy', 'cliFlags', 'deepMerge', 'poolSource', 'acts-screen']);
const names = readdirSync(benchDir)
  .filter((f) => f.endsWith('.ts') && !HELPERS.has(f.replace(/\.ts$/, '')))
  .map((f) => f.replace(/\.ts$/, ''))
  .filter((n) => (!only || only.includes(n)) && !skip.includes(n))
  // The training table first: it is what RESULTS.md leads with.
  .sort((a, b) => (a === 'train' ? -1 : b === 'train' ? 1 : a.localeCompare(b)));

const trainJson = join(tmpdir(), `fl-bench-train-${process.pid}.json`);
const resultsPath = join(benchDir, 'RESULTS.md');
// With --only/--skip, the benchmarks not run keep their sections from the previous RESULTS.md (marked so).
const previous = existsSync(resultsPath) ? previousSections(readFileSync(resultsPath, 'utf8')) : { written: '', sections: new Map<string, string>(), trainTable: '' };
const sections: string[] = [];
const ran = new Set<string>();
let trainTable = '';
for (const name of names) {
  process.stderr.write(`bench: ${name}…\n`);
  const t0 = performance.now();
  const args = name === 'train' ? ['--json', trainJson] : [];
  const r = spawnSync(tsx, [join(benchDir, `${name}.ts`), ...args], { encoding: 'utf8', maxBuffer: 1 << 26, timeout: 4 * 3600_000 });
  const minutes = ((performance.now() - t0) / 60000).toFixed(1);
  const out = (r.stdout ?? '').trim();
  const status = r.status === 0 ? `${minutes} min` : `FAILED (exit ${r.status ?? r.signal}): ${(r.stderr ?? '').trim().split('\n').slice(-3).join(' ')}`;
  sections.push(`### ${name}.ts (${status})\n\n\`\`\`\n${out}\n\`\`\``);
  ran.add(name);
  if (name === 'train' && existsSync(trainJson)) {
    trainTable = table(JSON.parse(readFileSync(trainJson, 'utf8')) as { threads: number; engine: string; results: ScaleResult[] });
    rmSync(trainJson, { force: true });
  }
}

/** The per-benchmark sections (by benchmark name), the training table and the date of an earlier RESULTS.md. */
function previousSections(md: string): { written: string; sections: Map<string, string>; trainTable: string } {
  const written = /on (\d{4}-\d\d-\d\d \d\d:\d\d) UTC/.exec(md)?.[1] ?? 'an earlier run';
  const sections = new Map<string, string>();
  const every = md.indexOf('## Every benchmark');
  const parts = every < 0 ? [] : md.slice(every).split(/\n(?=### )/).slice(1);
  for (const part of parts) {
    const name = /^### ([\w-]+)\.ts/.exec(part)?.[1];
    if (name) sections.set(name, part.trim());
  }
  const start = md.indexOf('## Training throughput');
  const trainTable = start < 0 || every < 0 ? '' : md.slice(md.indexOf('\n', start) + 1, every).trim();
  return { written, sections, trainTable };
}

function table(res: { threads: number; engine: string; results: ScaleResult[] }): string {
  const lines = [
    `Batch 4096, ${res.threads} threads, ${res.engine}; Gaussian activations, the same rows for both sides. PyTorch is`,
    'timed right after the project for each architecture (same process tree, same data, same threads).',
    '',
    'Gated and ReLU have two rows: "init" times the first steps of a run (half the latents fire, L0 ≈ d_sae/2, the',
    'fused dense step); "op" the same weights with the gate/encoder bias lowered so that L0 ≈ 48, where the L1 penalty',
    'holds a run after its first few percent of steps (the sparse path). PyTorch starts from the same weights.',
    '',
    '| d_in / d_sae | arch | project acts/s | PyTorch acts/s | ratio | step / dense-encoder GEMM | L0 | PyTorch L0 |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const s of res.results) {
    for (const a of s.archs) {
      const t = a.torchActsPerSecond;
      lines.push(
        `| ${s.dIn} / ${s.dSae} | ${archLabel(a)} | ${a.actsPerSecond.toFixed(0)} | ${t ? t.toFixed(0) : 'n/a'} | ${t ? `**${(a.actsPerSecond / t).toFixed(2)}×**` : 'n/a'} | ${(a.stepSeconds / s.gemmSeconds).toFixed(2)}× (GEMM ${(s.gemmSeconds * 1000).toFixed(0)} ms) | ${a.l0.toFixed(1)} | ${a.torchL0 !== undefined ? a.torchL0.toFixed(1) : 'n/a'} |`,
      );
    }
  }
  return lines.join('\n');
}

const cpu = cpus();
const md = [
  '# Benchmark results',
  '',
  `Written by \`npm run bench\` (bench/run-all.ts) on ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC.`,
  `Machine: ${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, Node ${process.version}; load average at the end ${loadavg().map((l) => l.toFixed(1)).join(' / ')}.`,
  'This machine is shared with other jobs: absolute numbers move by 2× or more between runs; ratios measured',
  'side by side in one run are what these tables claim. See docs/performance.md for the reasoning.',
  '',
  '## Training throughput: project (fast backend) vs PyTorch reference',
  '',
  trainTable || (previous.trainTable ? `(kept from the run of ${previous.written})\n\n${previous.trainTable}` : '(train.ts not run)'),
  '',
  '## Every benchmark',
  '',
  ...sections.flatMap((s) => [s, '']),
  ...[...previous.sections]
    .filter(([name]) => !ran.has(name) && !HELPERS.has(name))
    .flatMap(([, text]) => [text.includes('kept from the run of') ? text : text.replace(/^(### [\w-]+\.ts \()/, `$1kept from the run of ${previous.written}; `), '']),
].join('\n');
writeFileSync(resultsPath, md);
process.stderr.write(`bench: wrote ${resultsPath}\n`);
