// An SAE step's per-parameter passes: Adam over every parameter with a unit-norm decoder (its gradient's
// parallel component removed before, its rows renormalised after), JavaScript against the WebAssembly
// pass (src/core/tensor/wasmAdam.ts), interleaved in one run on the same parameters and gradients.
// Both give the same floats bit for bit (test/unit/core/train/adam.test.ts); this times them. Wall and
// process CPU time per step (median and minimum; CPU time is what to read on a loaded machine).
//   npx tsx bench/adam-passes.ts [--shapes 512x8192,128x2048] [--iters 9]
import { parseArgs } from 'node:util';
import { Adam } from '../src/core/train/adam';
import { normalizeRows } from '../src/core/sae/model';
import { Rng } from '../src/core/util/rng';

const { values: opts } = parseArgs({
  options: {
    shapes: { type: 'string', default: '512x8192,128x2048' },
    iters: { type: 'string', default: '9' },
  },
});
const ITERS = Number(opts.iters);
const config = { beta1: 0.9, beta2: 0.999, eps: 1e-8 };

function stats(xs: number[]): string {
  const s = [...xs].sort((a, b) => a - b);
  return `median ${s[Math.floor(s.length / 2)].toFixed(1)} min ${s[0].toFixed(1)}`;
}

for (const shape of opts.shapes.split(',')) {
  const [dIn, dSae] = shape.split('x').map(Number);
  const rng = new Rng(3);
  const sizes: Record<string, number> = { W_enc: dIn * dSae, W_dec: dSae * dIn, b_enc: dSae, b_dec: dIn, threshold: dSae };
  const fresh = (): Map<string, Float32Array> => new Map(Object.entries(sizes).map(([k, n]) => [k, Float32Array.from({ length: n }, () => rng.normal() * 0.05)]));
  const grads = fresh();
  const unit = { name: 'W_dec', rows: dSae, cols: dIn };
  const init = fresh();
  normalizeRows(init.get('W_dec')!, dSae, dIn);
  const runs = [false, true].map((wasm) => {
    const params = new Map([...init].map(([k, v]) => [k, v.slice()]));
    return { wasm, params, adam: new Adam(config, params, { wasm }), wall: [] as number[], cpu: [] as number[] };
  });
  for (let i = 0; i <= ITERS; i++) {
    for (const r of runs) {
      const g = new Map([...grads].map(([k, v]) => [k, v.slice()])); // the unit-norm pass may modify it
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      r.adam.step(r.params, g, 1e-3, () => i + 1, unit);
      const c = process.cpuUsage(c0);
      if (i === 0) continue; // warm-up
      r.wall.push(performance.now() - t0);
      r.cpu.push((c.user + c.system) / 1000);
    }
  }
  const [js, wa] = runs;
  const same = [...js.params].every(([k, v]) => Buffer.compare(Buffer.from(v.buffer, v.byteOffset, v.byteLength), Buffer.from(wa.params.get(k)!.buffer, wa.params.get(k)!.byteOffset, v.byteLength)) === 0);
  console.log(`${dIn}/${dSae} (${(2 * dIn * dSae + 2 * dSae + dIn).toLocaleString()} parameters), ms per step:`);
  for (const r of runs) console.log(`  ${r.adam.kernelName.padEnd(16)} wall ${stats(r.wall)} | cpu ${stats(r.cpu)}`);
  const ratio = (a: number[], b: number[]): string => (Math.min(...a) / Math.min(...b)).toFixed(2);
  console.log(`  JavaScript / WebAssembly (minima): wall ${ratio(js.wall, wa.wall)}×, cpu ${ratio(js.cpu, wa.cpu)}×; identical parameters after ${ITERS + 1} steps: ${same}`);
}
