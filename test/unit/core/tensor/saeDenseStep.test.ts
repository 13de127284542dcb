import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createOrtDenseEngine } from '../../../../src/core/runtime/ortDenseEngine';
import { createFastBackend, NonFiniteError, referenceBackend as ref, type DenseEngine, type Matrix, type SaeDenseStepInputs } from '../../../../src/core/tensor';
import { presetConfig } from '../../../../src/core/train/presets';
import { SyntheticSource } from '../../../../src/core/train/syntheticData';
import { SaeTrainer } from '../../../../src/core/train/trainer';
import { Rng } from '../../../../src/core/util/rng';

// The fast backend's fused dense ReLU / Gated step (one ONNX Runtime graph) against the same quantities
// written out from the reference backend's products and plain loops (SaeDenseStepInputs' definitions).
const engine = createOrtDenseEngine({ intraOpThreads: 1 });
const fast = createFastBackend(engine, { minEngineWork: 0 });
// The same engine running each batch as slices of at most 16 rows (48 → 3 × 16, 37 → 13 + 13 + 11, 40 → 14 + 14 + 12).
const slicedEngine = createOrtDenseEngine({ intraOpThreads: 1, denseStepRows: 16 });
const sliced = createFastBackend(slicedEngine, { minEngineWork: 0 });
const rng = new Rng(5);

const rand = (rows: number, cols: number, scale = 1): Matrix => ({ data: Float32Array.from({ length: rows * cols }, () => scale * rng.normal()), rows, cols });
const vec = (n: number, scale: number, shift = 0): Float32Array => Float32Array.from({ length: n }, () => shift + scale * rng.normal());
const map = (m: Matrix, f: (v: number, i: number) => number): Matrix => ({ ...m, data: Float32Array.from(m.data, f) });
const colSums = (m: Matrix): Float64Array => {
  const s = new Float64Array(m.cols);
  for (let i = 0; i < m.data.length; i++) s[i % m.cols] += m.data[i];
  return s;
};
function near(a: ArrayLike<number>, b: ArrayLike<number>, what: string, tol = 1e-4): void {
  assert.equal(a.length, b.length, `${what}: length`);
  let scale = 0;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]));
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= tol * (1 + scale), `${what}[${i}]: ${a[i]} vs ${b[i]}`);
}

interface Expected {
  xHat: Matrix;
  sqErr: number;
  auxSqErr: number;
  gWEnc: Matrix;
  gWDec: Matrix;
  dXHatSums: Float64Array;
  preSums: Float64Array;
  actSums: Float64Array;
  gateSums?: Float64Array;
  magSums?: Float64Array;
  magPSums?: Float64Array;
  fireCount: Float64Array;
  lastRow: Float64Array;
}

/** dL/dx̂ = 2(x̂ − x)/B and Σ‖x̂ − x‖². */
function mseGrad(xHat: Matrix, x: Matrix): { d: Matrix; sq: number } {
  let sq = 0;
  const d = map(xHat, (v, i) => {
    const r = v - x.data[i];
    sq += r * r;
    return (2 / x.rows) * r;
  });
  return { d, sq };
}

function firing(code: Matrix): { fireCount: Float64Array; lastRow: Float64Array } {
  const fireCount = new Float64Array(code.cols);
  const lastRow = new Float64Array(code.cols);
  for (let r = 0; r < code.rows; r++) {
    for (let j = 0; j < code.cols; j++) {
      if (code.data[r * code.cols + j] > 0) {
        fireCount[j]++;
        lastRow[j] = r + 1;
      }
    }
  }
  return { fireCount, lastRow };
}

function expected(i: SaeDenseStepInputs): Expected {
  const { x, xin, wEnc, wDec, bDec, bias, penalty } = i;
  const n = wEnc.cols;
  const p = ref.matmul(xin, wEnc);
  if (i.kind === 'relu') {
    const pre = map(p, (v, k) => v + bias[k % n]);
    const f = map(pre, (v) => Math.max(v, 0));
    const xHat = ref.matmul(f, wDec, bDec);
    const { d, sq } = mseGrad(xHat, x);
    const df = ref.matmulTransB(d, wDec);
    const dPre = map(df, (v, k) => (f.data[k] > 0 ? v + penalty[k % n] : 0));
    return {
      xHat,
      sqErr: sq,
      auxSqErr: 0,
      gWEnc: ref.matmulTransA(xin, dPre),
      gWDec: ref.matmulTransA(f, d),
      dXHatSums: colSums(d),
      preSums: colSums(dPre),
      actSums: colSums(f),
      ...firing(f),
    };
  }
  const scale = i.scale!;
  const bMag = i.bMag!;
  const g = map(p, (v, k) => Math.max(v + bias[k % n], 0));
  const f = map(p, (v, k) => (g.data[k] > 0 ? Math.max(scale[k % n] * v + bMag[k % n], 0) : 0));
  const xHat = ref.matmul(f, wDec, bDec);
  const { d, sq } = mseGrad(xHat, x);
  const { d: dAux, sq: auxSq } = mseGrad(ref.matmul(g, wDec, bDec), x);
  const dGate = map(ref.matmulTransB(dAux, wDec), (v, k) => (g.data[k] > 0 ? v + penalty[k % n] : 0));
  const dMag = map(ref.matmulTransB(d, wDec), (v, k) => (f.data[k] > 0 ? v : 0));
  const dP = map(dGate, (v, k) => v + scale[k % n] * dMag.data[k]);
  return {
    xHat,
    sqErr: sq,
    auxSqErr: auxSq,
    gWEnc: ref.matmulTransA(xin, dP),
    gWDec: ref.matmulTransA(f, d),
    dXHatSums: colSums(d),
    preSums: colSums(dP),
    actSums: colSums(g),
    gateSums: colSums(dGate),
    magSums: colSums(dMag),
    magPSums: colSums(map(dMag, (v, k) => v * p.data[k])),
    ...firing(f),
  };
}

function inputs(kind: 'relu' | 'gated', B: number, d: number, n: number): SaeDenseStepInputs {
  const x = rand(B, d);
  const bDec = vec(d, 0.1);
  return {
    kind,
    x,
    xin: kind === 'gated' ? map(x, (v, k) => v - bDec[k % d]) : x,
    wEnc: rand(d, n, 0.4),
    wDec: rand(n, d, 0.4),
    bDec,
    bias: vec(n, 0.3, -0.2),
    penalty: kind === 'gated' ? new Float32Array(n).fill(0.01) : vec(n, 0.003, 0.01),
    ...(kind === 'gated' ? { bMag: vec(n, 0.3), scale: vec(n, 0.2, 1).map(Math.abs) } : {}),
  };
}

// 48 rows: firing bit masks of 24 rows; 37 (prime): one row per mask; 40: 20 rows per mask.
for (const [how, backend] of [['', fast], [' in slices of 16 rows', sliced]] as const) {
for (const kind of ['relu', 'gated'] as const) {
  for (const B of [48, 37, 40]) {
    test(`fused dense ${kind} step (batch ${B})${how} equals the reference backend's products and loops`, () => {
      const inp = inputs(kind, B, 7, 29);
      const got = backend.saeDenseStep!(inp);
      const want = expected(inp);
      near(got.reconstruction.data, want.xHat.data, 'x̂');
      near([got.sqErr, got.auxSqErr], [want.sqErr, want.auxSqErr], 'squared errors');
      near(got.gWEnc, want.gWEnc.data, 'W_enc gradient');
      near(got.gWDec, want.gWDec.data, 'W_dec gradient');
      near(got.dXHatSums, want.dXHatSums, 'Σ dL/dx̂');
      near(got.preSums, want.preSums, 'Σ dL/dpre');
      near(got.actSums, want.actSums, 'Σ activations');
      if (kind === 'gated') {
        near(got.gateSums!, want.gateSums!, 'Σ dL/dπ_gate');
        near(got.magSums!, want.magSums!, 'Σ dL/dπ_mag');
        near(got.magPSums!, want.magPSums!, 'Σ dL/dπ_mag·P');
      }
      assert.deepEqual([...got.fireCount], [...want.fireCount], 'fire counts');
      assert.deepEqual([...got.lastRow], [...want.lastRow], 'last firing rows');
      // Not vacuous: some latents fire, some rows do not fire every latent.
      const fired = want.fireCount.reduce((a, b) => a + b, 0);
      assert.ok(fired > 0 && fired < B * 29, `fired ${fired}`);
    });
  }
}
}

test('firing statistics and masks at the extremes: latents that fire in every row of full 24-row bit masks, in none, and Gated gates open with no magnitude', () => {
  for (const kind of ['relu', 'gated'] as const) {
    for (const backend of [fast, sliced]) {
      const inp = inputs(kind, 48, 7, 29);
      const bias = inp.bias.slice();
      bias[0] = 100; // π > 0 in every row: all 24 bits of both masks set
      bias[1] = -100; // never
      const bMag = inp.bMag?.slice();
      if (bMag) {
        bMag[0] = 100; // the magnitude of latent 0 too
        bias[2] = 100; // the gate is open in every row…
        bMag[2] = -100; // …but the magnitude is never positive: no firing, yet an activation sum and a gate gradient
      }
      const run = { ...inp, bias, ...(bMag ? { bMag } : {}) };
      const got = backend.saeDenseStep!(run);
      const want = expected(run);
      assert.deepEqual([...got.fireCount], [...want.fireCount], `${kind}: fire counts`);
      assert.deepEqual([...got.lastRow], [...want.lastRow], `${kind}: last firing rows`);
      assert.deepEqual([got.fireCount[0], got.lastRow[0], got.fireCount[1], got.lastRow[1]], [48, 48, 0, 0], kind);
      near(got.actSums, want.actSums, `${kind}: Σ activations`);
      near(got.preSums, want.preSums, `${kind}: Σ dL/dpre`);
      near(got.gWEnc, want.gWEnc.data, `${kind}: W_enc gradient`);
      if (kind === 'gated') {
        assert.equal(got.fireCount[2], 0);
        assert.ok(got.actSums[2] > 48 * 50, `gate 2 open: Σ G ${got.actSums[2]}`);
        near(got.gateSums!, want.gateSums!, 'Σ dL/dπ_gate');
        near(got.magSums!, want.magSums!, 'Σ dL/dπ_mag');
        near(got.magPSums!, want.magPSums!, 'Σ dL/dπ_mag·P');
      }
    }
  }
});

test('a sparse selection releases the fused dense step, and the next dense step builds it again with the same result', () => {
  const inp = inputs('gated', 40, 7, 29);
  const before = slicedEngine.saeDenseStep!(inp);
  slicedEngine.gemmAbove(inp.xin, inp.wEnc, undefined, new Float32Array(29));
  const after = slicedEngine.saeDenseStep!(inp);
  assert.deepEqual([...after.gWEnc], [...before.gWEnc]);
  assert.deepEqual([...after.lastRow], [...before.lastRow]);
  assert.equal(after.sqErr, before.sqErr);
});

test('a NaN in the fused dense step is a NonFiniteError, not a silently dropped pre-activation', () => {
  const inp = inputs('relu', 48, 7, 29);
  const wEnc = { ...inp.wEnc, data: inp.wEnc.data.slice() };
  wEnc.data[3] = Number.NaN;
  assert.throws(() => fast.saeDenseStep!({ ...inp, wEnc }), NonFiniteError);
});

test('a NaN or ∞ only in the last, shorter slice still makes the sliced step a NonFiniteError (the slices add up inside the engine)', () => {
  for (const kind of ['relu', 'gated'] as const) {
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      const inp = inputs(kind, 37, 7, 29); // slices of 13, 13 and 11 rows
      const xin = { ...inp.xin, data: inp.xin.data.slice() };
      xin.data[36 * 7 + 2] = bad; // the last row
      assert.throws(() => sliced.saeDenseStep!({ ...inp, xin }), NonFiniteError, `${kind} with ${bad}`);
      // The same inputs without it are finite everywhere (the error is the bad entry's, not the slicing's).
      const ok = sliced.saeDenseStep!(inp);
      assert.ok(Number.isFinite(ok.checksum) && ok.gWEnc.every(Number.isFinite) && ok.gWDec.every(Number.isFinite), `${kind}: finite without it`);
    }
  }
});

test('a fused dense step that turns non-finite mid-run is replaced by the reference backend, with one notice and finite weights', async () => {
  for (const arch of ['relu', 'gated'] as const) {
    let calls = 0;
    const poisoned: DenseEngine = Object.assign(Object.create(engine) as DenseEngine, {
      saeDenseStep: (i: SaeDenseStepInputs) => {
        const r = engine.saeDenseStep!(i);
        return ++calls > 2 ? { ...r, gWEnc: r.gWEnc.map(() => Number.NaN) } : r;
      },
    });
    const source = new SyntheticSource({ dIn: 16, nFeatures: 48, firingProb: 0.05, seed: 2 });
    const config = { ...presetConfig({ architecture: arch, dSae: 96, totalTokens: 64 * 6, batchSize: 64 }), initRows: 256 };
    const trainer = await SaeTrainer.create(config, source, createFastBackend(poisoned, { minEngineWork: 0 }));
    const notices: string[] = [];
    trainer.onNotice = (m) => notices.push(m);
    for (let i = 0; i < 6; i++) assert.ok(trainer.trainStep(await source.nextBatch(64)), `${arch} step ${i + 1} skipped`);
    assert.ok(calls > 2, `${arch}: the fused step ran ${calls} times`);
    assert.equal(notices.length, 1, `${arch}: ${notices.join(' | ')}`);
    assert.match(notices[0], /^step 3: the fast .* produced a non-finite value; continuing on the reference backend$/);
    assert.equal(trainer.backendName, 'reference');
    for (const [name, w] of trainer.model.params) assert.ok(w.every(Number.isFinite), `${arch} ${name} has a non-finite entry`);
  }
});
