// Adam: the WebAssembly SIMD update gives the JavaScript one's results bit for bit (both float64, same
// order) over several steps, including odd lengths (the scalar tails), skipped parameters, per-parameter
// learning rates and steps, and the unit-norm decoder rows fused into the pass.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Adam } from '../../../../src/core/train/adam';
import { normalizeRows, removeParallelComponent } from '../../../../src/core/sae/model';
import { Rng } from '../../../../src/core/util/rng';

const config = { beta1: 0.9, beta2: 0.999, eps: 1e-8 };

function randomParams(rng: Rng, sizes: Record<string, number>): Map<string, Float32Array> {
  return new Map(Object.entries(sizes).map(([k, n]) => [k, Float32Array.from({ length: n }, () => rng.normal())]));
}

function copy(m: ReadonlyMap<string, Float32Array>): Map<string, Float32Array> {
  return new Map([...m].map(([k, v]) => [k, v.slice()]));
}


test('the first step moves every entry by about lr against its gradient sign (both kernels)', () => {
  for (const wasm of [false, true]) {
    const p = new Map([['w', Float32Array.of(1, -2, 3, 0.5, 7)]]);
    const g = new Map([['w', Float32Array.of(0.3, -4, 1e-3, -2, 0)]]);
    const adam = new Adam(config, p, { wasm });
    adam.step(p, g, 0.01, () => 1);
    const w = p.get('w')!;
    assert.ok(Math.abs(w[0] - 0.99) < 1e-6 && Math.abs(w[1] + 1.99) < 1e-6 && Math.abs(w[3] - 0.51) < 1e-6, `${adam.kernelName}: ${w}`);
    assert.ok(Math.abs(w[2] - (3 - 0.01 * (1e-3 / (1e-3 + 1e-8)))) < 1e-6, adam.kernelName);
    assert.equal(w[4], 7, `${adam.kernelName}: a zero gradient leaves the entry`);
  }
});

test('WebAssembly and JavaScript Adam agree over several steps, with skipped parameters and unit-norm rows', () => {
  const rng = new Rng(5);
  const rows = 37;
  const cols = 19; // odd: every kernel's scalar tail runs
  const init = randomParams(rng, { W_enc: 19 * 37, W_dec: rows * cols, b_enc: 37, theta: 37, b_dec: 19 });
  normalizeRows(init.get('W_dec')!, rows, cols);
  const js = copy(init);
  const wa = copy(init);
  const adamJs = new Adam(config, js);
  const adamWa = new Adam(config, wa, { wasm: true });
  assert.equal(adamJs.kernelName, 'JavaScript');
  assert.equal(adamWa.kernelName, 'WebAssembly SIMD');
  const unit = { name: 'W_dec', rows, cols };
  for (let step = 1; step <= 6; step++) {
    const grads = randomParams(rng, { W_enc: 19 * 37, W_dec: rows * cols, b_enc: 37, theta: 37, b_dec: 19 });
    if (step <= 2) grads.delete('theta'); // frozen θ: no gradient, no count
    const lr = (name: string): number => (name === 'theta' ? 0.003 : 0.01);
    const t = (name: string): number => (name === 'theta' ? step - 2 : step);
    adamJs.step(js, copy(grads), lr, t, unit);
    adamWa.step(wa, copy(grads), lr, t, unit);
  }
  for (const [name, p] of js) {
    assert.notDeepEqual(p, init.get(name), `${name} moved`);
    assert.deepEqual(wa.get(name), p, name);
    assert.deepEqual(adamWa.m.get(name), adamJs.m.get(name), `${name} m`);
    assert.deepEqual(adamWa.v.get(name), adamJs.v.get(name), `${name} v`);
  }
  const wDec = wa.get('W_dec')!;
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let j = 0; j < cols; j++) s += wDec[r * cols + j] ** 2;
    assert.ok(Math.abs(Math.sqrt(s) - 1) < 1e-5, `row ${r} norm ${Math.sqrt(s)}`);
  }
});

test('the fused unit-norm step equals removing the parallel component, Adam, then renormalising', () => {
  const rng = new Rng(9);
  const rows = 8;
  const cols = 12;
  const p0 = randomParams(rng, { W_dec: rows * cols }).get('W_dec')!;
  normalizeRows(p0, rows, cols);
  const g = randomParams(rng, { W_dec: rows * cols }).get('W_dec')!;
  // By hand with the JavaScript pieces.
  const byHand = new Map([['W_dec', p0.slice()]]);
  const gHand = g.slice();
  removeParallelComponent(byHand.get('W_dec')!, gHand, rows, cols);
  new Adam(config, byHand).step(byHand, new Map([['W_dec', gHand]]), 0.05, () => 1);
  normalizeRows(byHand.get('W_dec')!, rows, cols);
  for (const wasm of [false, true]) {
    const fused = new Map([['W_dec', p0.slice()]]);
    new Adam(config, fused, { wasm }).step(fused, new Map([['W_dec', g.slice()]]), 0.05, () => 1, { name: 'W_dec', rows, cols });
    assert.deepEqual(fused.get('W_dec'), byHand.get('W_dec'), `wasm ${wasm}`);
  }
});

test('moments written through the views (a resumed checkpoint) are what the next WebAssembly step uses', () => {
  const p = new Map([['w', Float32Array.of(1, 1, 1, 1, 1)]]);
  const q = new Map([['w', Float32Array.of(1, 1, 1, 1, 1)]]);
  const a = new Adam(config, p, { wasm: true });
  const b = new Adam(config, q);
  for (const adam of [a, b]) {
    adam.m.get('w')!.set([0.5, -0.5, 0.1, 0, 2]);
    adam.v.get('w')!.set([1, 2, 3, 4, 5]);
    adam.step(adam === a ? p : q, new Map([['w', Float32Array.of(1, 2, 3, 4, 5)]]), 0.1, () => 7);
  }
  assert.notDeepEqual(p.get('w'), Float32Array.of(1, 1, 1, 1, 1));
  assert.deepEqual(p.get('w'), q.get('w'));
  assert.deepEqual(a.m.get('w'), b.m.get('w'));
});

test('adopted parameters (views of the WebAssembly memory, updated in place) follow the JavaScript update bit for bit', () => {
  const rng = new Rng(9);
  const rows = 13;
  const cols = 7;
  const init = randomParams(rng, { W_dec: rows * cols, b_enc: 13, b_dec: 7 });
  normalizeRows(init.get('W_dec')!, rows, cols);
  const js = copy(init);
  const adopted = copy(init);
  const before = adopted.get('b_enc')!;
  const adamJs = new Adam(config, js);
  const adamWa = new Adam(config, adopted, { wasm: true });
  adamWa.adopt(adopted);
  assert.notEqual(adopted.get('b_enc'), before, 'the map now holds a view of the module memory');
  assert.deepEqual(adopted.get('b_enc'), before, 'with the same values');
  adamWa.adopt(adopted); // a second adoption changes nothing
  const unit = { name: 'W_dec', rows, cols };
  for (let step = 1; step <= 5; step++) {
    const grads = randomParams(rng, { W_dec: rows * cols, b_enc: 13, b_dec: 7 });
    adamJs.step(js, copy(grads), 0.02, () => step, unit);
    adamWa.step(adopted, copy(grads), 0.02, () => step, unit);
  }
  for (const [name, p] of js) assert.deepEqual(adopted.get(name), p, name);
  // A parameter array that is not the adopted view (e.g. a copy) is still updated, by the copying path.
  const other = copy(adopted);
  const g = randomParams(rng, { W_dec: rows * cols, b_enc: 13, b_dec: 7 });
  const otherJs = copy(js);
  adamWa.step(other, copy(g), 0.02, () => 6, unit);
  adamJs.step(otherJs, copy(g), 0.02, () => 6, unit);
  for (const [name, p] of otherJs) assert.deepEqual(other.get(name), p, `${name} (copy)`);
  // Without WebAssembly, adopt leaves the map alone.
  const plain = copy(init);
  const b = plain.get('b_dec');
  new Adam(config, plain).adopt(plain);
  assert.equal(plain.get('b_dec'), b);
});
