import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lrFactor, linearWarmup, geometricDecay } from '../../../../src/core/train/schedules';
import { Adam } from '../../../../src/core/train/adam';
import { Rng } from '../../../../src/core/util/rng';

test('paper lr schedule: cosine warm-up 0.1× → 1× over 1000 steps, then flat', () => {
  const o = { warmupSteps: 1000, warmupShape: 'cosine' as const, warmupStart: 0.1, decayFraction: 0, totalSteps: 5000 };
  assert.equal(lrFactor(0, o), 0.1);
  assert.ok(Math.abs(lrFactor(500, o) - 0.55) < 1e-12);
  assert.equal(lrFactor(1000, o), 1);
  assert.equal(lrFactor(4999, o), 1);
});

test('linear decay over the last fraction reaches 0 at the end', () => {
  const o = { warmupSteps: 0, warmupShape: 'linear' as const, warmupStart: 0, decayFraction: 0.2, totalSteps: 100 };
  assert.equal(lrFactor(79, o), 1);
  assert.equal(lrFactor(90, o), 0.5);
  assert.equal(lrFactor(100, o), 0);
});

test('λ warm-up and ε decay', () => {
  assert.equal(linearWarmup(0, 10_000), 0);
  assert.equal(linearWarmup(5000, 10_000), 0.5);
  assert.equal(linearWarmup(20_000, 10_000), 1);
  assert.equal(linearWarmup(3, 0), 1);
  assert.ok(Math.abs(geometricDecay(50, 0.1, 0.001, 100) - 0.01) < 1e-12);
  assert.equal(geometricDecay(200, 0.1, 0.001, 100), 0.001);
});

test('Adam with β1 = 0 moves each parameter by ≈ lr·sign(g) on the first step; β1 = 0.9 matches the formula', () => {
  const p = new Map([['w', Float32Array.of(1, -2, 3)]]);
  const g = new Map([['w', Float32Array.of(0.5, -4, 1e-3)]]);
  new Adam({ beta1: 0, beta2: 0.999, eps: 1e-8 }, p).step(p, g, 0.01, () => 1);
  const w = p.get('w');
  assert.ok(w);
  assert.ok(Math.abs(w[0] - 0.99) < 1e-6 && Math.abs(w[1] + 1.99) < 1e-6 && Math.abs(w[2] - 2.99) < 1e-5);
  // Two steps of β = (0.9, 0.999) by hand for one scalar.
  const q = new Map([['w', Float32Array.of(0)]]);
  const adam = new Adam({ beta1: 0.9, beta2: 0.999, eps: 0 }, q);
  adam.step(q, new Map([['w', Float32Array.of(1)]]), 0.1, () => 1);
  adam.step(q, new Map([['w', Float32Array.of(3)]]), 0.1, () => 2);
  const m = 0.9 * 0.1 + 0.1 * 3;
  const v = 0.999 * 0.001 + 0.001 * 9;
  const expected = -0.1 - (0.1 * (m / (1 - 0.81))) / Math.sqrt(v / (1 - 0.999 ** 2));
  assert.ok(Math.abs((q.get('w')?.[0] ?? NaN) - expected) < 1e-6);
});

test('Adam: a parameter without a gradient stays put, and its first update is bias-corrected as step 1', () => {
  const params = new Map([
    ['a', Float32Array.of(0)],
    ['theta', Float32Array.of(0)],
  ]);
  const adam = new Adam({ beta1: 0.9, beta2: 0.999, eps: 0 }, params);
  const counts = new Map([['a', 0], ['theta', 0]]);
  const t = (name: string): number => counts.get(name) ?? 0;
  for (let s = 0; s < 50; s++) {
    counts.set('a', s + 1);
    adam.step(params, new Map([['a', Float32Array.of(1)]]), 0.1, t); // θ has no gradient: frozen
  }
  assert.equal(params.get('theta')?.[0], 0);
  counts.set('a', 51);
  counts.set('theta', 1);
  adam.step(params, new Map([['a', Float32Array.of(1)], ['theta', Float32Array.of(1e-3)]]), 0.1, t);
  // Its own step 1: m̂ = g, v̂ = g², so it moves by exactly lr (bias-corrected as step 51 it would move by ≈ 0.07·lr).
  assert.ok(Math.abs((params.get('theta')?.[0] ?? NaN) + 0.1) < 1e-6, `θ moved to ${params.get('theta')?.[0]}`);
});

test('Rng: seeded, resumable, and roughly uniform', () => {
  const a = new Rng(42);
  const b = new Rng(42);
  for (let i = 0; i < 10; i++) assert.equal(a.nextUint32(), b.nextUint32());
  const saved = a.getState();
  const next = [a.next(), a.next()];
  const c = new Rng(saved);
  assert.deepEqual([c.next(), c.next()], next);
  assert.notEqual(new Rng(1).nextUint32(), new Rng(2).nextUint32());
  let mean = 0;
  for (let i = 0; i < 10_000; i++) mean += a.next() / 10_000;
  assert.ok(Math.abs(mean - 0.5) < 0.02);
});
