// The products over sparse codes, JavaScript (src/core/tensor/sparseKernels.ts) against WebAssembly SIMD
// (src/core/tensor/wasmKernels.ts, one and two threads), interleaved in one run on the same random code:
// decode S·W_dec (+ b_dec), the weight gradient Sᵀ·A accumulated into [d_sae × d_in], and sampled dot
// products A[r]·W_dec[c] at the code's entries. "copy" is what moving the same operands into and out of a
// shared memory costs on its own (the WebAssembly path pays it on every call).
//   npx tsx bench/sparse-kernels.ts [--shapes 4096x512x8192,1024x128x2048] [--l0 32] [--iters 7]
import { parseArgs } from 'node:util';
import type { Matrix, SparseRows } from '../src/core/tensor';
import { jsSparseKernels, type SparseKernelSet } from '../src/core/tensor/sparseKernels';
import { loadWasmSparseKernels } from '../src/core/tensor/wasmKernels';
import { Rng } from '../src/core/util/rng';

const { values: opts } = parseArgs({
  options: {
    shapes: { type: 'string', default: '4096x512x8192,1024x128x2048' },
    l0: { type: 'string', default: '32' },
    iters: { type: 'string', default: '7' },
  },
});
const L0 = Number(opts.l0);
const ITERS = Number(opts.iters);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function randomCode(rng: Rng, rows: number, cols: number, perRow: number): SparseRows {
  const rowPtr = new Int32Array(rows + 1);
  const colIdx = new Int32Array(rows * perRow);
  const values = new Float32Array(rows * perRow);
  for (let r = 0; r < rows; r++) {
    const picked = new Set<number>();
    while (picked.size < perRow) picked.add(rng.int(cols));
    [...picked].sort((a, b) => a - b).forEach((c, i) => {
      colIdx[r * perRow + i] = c;
      values[r * perRow + i] = rng.normal();
    });
    rowPtr[r + 1] = (r + 1) * perRow;
  }
  return { rows, cols, rowPtr, colIdx, values };
}

function main(): void {
  const wasm1 = loadWasmSparseKernels({ threads: 1 });
  const wasm2 = loadWasmSparseKernels({ threads: 2 });
  const sets: SparseKernelSet[] = [jsSparseKernels, wasm1, wasm2];
  const labels = ['JavaScript', 'wasm SIMD, 1 thread', 'wasm SIMD, 2 threads'];
  for (const shape of opts.shapes.split(',')) {
    const [B, d, n] = shape.split('x').map(Number);
    const rng = new Rng(9);
    const s = randomCode(rng, B, n, L0);
    const w: Matrix = { data: Float32Array.from({ length: n * d }, () => rng.normal()), rows: n, cols: d };
    const x: Matrix = { data: Float32Array.from({ length: B * d }, () => rng.normal()), rows: B, cols: d };
    const bias = Float32Array.from({ length: d }, () => rng.normal());
    const grad: Matrix = { data: new Float32Array(n * d), rows: n, cols: d };
    const dots = new Float32Array(s.colIdx.length);
    const ops: [string, (k: SparseKernelSet) => void, number][] = [
      ['decode', (k) => k.sparseTimesDense(s, w, bias), (3 * s.colIdx.length + n * d + 2 * B * d) * 4],
      ['weight gradient', (k) => k.sparseTransposeTimesDenseAcc(s, x, grad), (2 * s.colIdx.length + n + B * d + 2 * n * d) * 4],
      ['sampled dots', (k) => k.sampledDots(s, x, w, dots), (3 * s.colIdx.length + B + B * d + n * d) * 4],
    ];
    console.log(`\nbatch ${B}, d_in ${d}, d_sae ${n}, L0 ${L0} (${((s.colIdx.length * d) / 1e6).toFixed(0)} M multiply-adds per product); ms, median of ${ITERS}`);
    console.log('product            ' + labels.map((l) => l.padStart(22)).join('') + '   copy   speed-up (1 / 2 threads)');
    const scratch = new Uint8Array(new SharedArrayBuffer(64 << 20));
    for (const [name, run, bytes] of ops) {
      const times: number[][] = sets.map(() => []);
      const copies: number[] = [];
      for (let i = 0; i < ITERS + 1; i++) {
        // Interleaved: each repetition times every variant, so load drift hits them alike.
        sets.forEach((k, j) => {
          const t = performance.now();
          run(k);
          if (i > 0) times[j].push(performance.now() - t);
        });
        const src = new Uint8Array(w.data.buffer, 0, Math.min(bytes, w.data.byteLength, scratch.length));
        const t = performance.now();
        for (let done = 0; done < bytes; done += src.length) scratch.set(src.subarray(0, Math.min(src.length, bytes - done)));
        if (i > 0) copies.push(performance.now() - t);
      }
      const m = times.map(median);
      console.log(
        `${name.padEnd(19)}${m.map((v) => v.toFixed(1).padStart(22)).join('')}${median(copies).toFixed(1).padStart(7)}   ${(m[0] / m[1]).toFixed(1)}× / ${(m[0] / m[2]).toFixed(1)}×`,
      );
    }
  }
  wasm2.dispose();
}

main();
