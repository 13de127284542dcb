// Memory of a real training run on activations streamed from disk: writes N × d float32 rows to a .npy
// (default 10 M × 512 = 20 GB; pass a folder with room), runs `feature-lens train --acts` on it for one
// pass over every row in a child process, and reports that process's peak RSS as the kernel measured it
// (getrusage via /usr/bin/time, or the child's own report), never an extrapolation. Deletes the file.
//   npx tsx bench/train-memory.ts [--rows 10000000] [--dim 512] [--d-sae 2048] [--arch topk] [--dir /tmp]
//     [--log train.log]   (the training's progress lines, appended as they come, to follow a long run)
//     [--acts existing.npy]   (train on an existing float32 .npy instead of writing one; it is kept)
import { spawn } from 'node:child_process';
import { appendFileSync, closeSync, existsSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { encodeNpyHeader, readNpyMatrixInfo } from '../src/core/npy';

const { values: opts } = parseArgs({
  options: {
    rows: { type: 'string', default: '10000000' },
    dim: { type: 'string', default: '512' },
    'd-sae': { type: 'string', default: '2048' },
    arch: { type: 'string', default: 'topk' },
    batch: { type: 'string', default: '4096' },
    dir: { type: 'string', default: tmpdir() },
    backend: { type: 'string', default: 'auto' },
    json: { type: 'string' },
    log: { type: 'string' },
    acts: { type: 'string' },
  },
});
const rows = Number(opts.rows);
const dim = Number(opts.dim);

function writeActivations(path: string): number {
  const fd = openSync(path, 'w');
  const t0 = performance.now();
  try {
    writeSync(fd, encodeNpyHeader([rows, dim]));
    const chunkRows = 8192;
    const buf = new Float32Array(chunkRows * dim);
    let seed = 12345;
    for (let r = 0; r < rows; r += chunkRows) {
      const n = Math.min(chunkRows, rows - r);
      // Sparse-ish rows: a few large coordinates over small noise, like residual-stream activations.
      for (let i = 0; i < n * dim; i++) {
        seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
        const u = seed / 2 ** 32;
        buf[i] = u < 0.02 ? (u - 0.01) * 400 : u - 0.5;
      }
      writeSync(fd, buf, 0, n * dim * 4);
    }
  } finally {
    closeSync(fd);
  }
  return (performance.now() - t0) / 1000;
}

/** Runs the command to its end; stdout kept whole, stderr's tail kept (and appended to `log` as it arrives). */
function run(command: string, args: string[], log?: string): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr = (stderr + d).slice(-(1 << 16));
      if (log) appendFileSync(log, d);
    });
    child.on('error', fail);
    child.on('close', (status) => done({ status, stdout, stderr }));
  });
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(resolve(opts.dir), 'fl-train-mem-'));
  const acts = opts.acts ? resolve(opts.acts) : join(work, 'acts.npy');
  try {
    if (opts.acts) {
      const info = readNpyMatrixInfo(acts);
      if (info.rows !== rows || info.cols !== dim) throw new Error(`${acts} is ${info.rows} × ${info.cols}, not ${rows} × ${dim} (pass --rows/--dim)`);
    } else {
      const writeSeconds = writeActivations(acts);
      process.stderr.write(`wrote ${rows} × ${dim} float32 (${((rows * dim * 4) / 2 ** 30).toFixed(1)} GiB) in ${writeSeconds.toFixed(0)} s\n`);
    }
    const cli = [resolve(__dirname, '../src/cli/main.ts')];
    const args = ['train', '--acts', acts, '--arch', opts.arch, '--d-sae', opts['d-sae'], '--tokens', String(rows), '--batch', opts.batch,
      '--checkpoint-every', '0', '--backend', opts.backend, '--out', join(work, 'sae'), ...(opts.arch === 'topk' || opts.arch === 'batchtopk' ? ['--k', '32'] : [])];
    const time = existsSync('/usr/bin/time') ? ['/usr/bin/time', '-f', 'MAXRSS_KB %M'] : [];
    const tsx = resolve(__dirname, '../node_modules/.bin/tsx');
    const t0 = performance.now();
    const child = await run(time[0] ?? tsx, [...time.slice(1), ...(time.length ? [tsx] : []), ...cli, ...args], opts.log);
    const seconds = (performance.now() - t0) / 1000;
    const maxRss = /MAXRSS_KB (\d+)/.exec(child.stderr ?? '');
    if (child.status !== 0) throw new Error(`train failed (${child.status}): ${child.stderr?.slice(-2000)}`);
    const summary = JSON.parse(child.stdout) as { tokens: number; final: { fvu: number; l0: number } };
    const result = {
      rows,
      dim,
      dataGiB: Number(((rows * dim * 4) / 2 ** 30).toFixed(2)),
      arch: opts.arch,
      dSae: Number(opts['d-sae']),
      batch: Number(opts.batch),
      tokensTrained: summary.tokens,
      trainSeconds: Number(seconds.toFixed(1)),
      tokensPerSecond: Math.round(summary.tokens / seconds),
      peakRssMiB: maxRss ? Math.round(Number(maxRss[1]) / 1024) : undefined,
      final: summary.final,
      backendLine: (child.stderr ?? '').split('\n').find((l) => l.includes('backend')),
    };
    process.stdout.write(JSON.stringify(result, null, 2) + '\n');
    if (opts.json) writeFileSync(opts.json, JSON.stringify(result, null, 1));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

void main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});
