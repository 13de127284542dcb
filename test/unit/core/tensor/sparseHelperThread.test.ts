// The sparse kernels' helper thread failing in every way a thread can (an error, an exit, a hang in the
// middle of its half of a product, or an exit while idle): the main thread never hangs, every product
// still equals the one-thread kernels' bit for bit, the kernels say so in one notice and go on with
// one thread. Also a whole JumpReLU training run whose helper dies part-way through: the same losses
// and L0s as a one-thread run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createOrtDenseEngine } from '../../../../src/core/runtime/ortDenseEngine';
import { createFastBackend, SparseBuilder, type Matrix, type SparseRows } from '../../../../src/core/tensor';
import { liveSparseHelperThreads, type HelperFault } from '../../../../src/core/tensor/sparseHelperThread';
import { loadWasmSparseKernels } from '../../../../src/core/tensor/wasmKernels';
import { presetConfig } from '../../../../src/core/train/presets';
import { SyntheticSource } from '../../../../src/core/train/syntheticData';
import { SaeTrainer } from '../../../../src/core/train/trainer';
import { Rng } from '../../../../src/core/util/rng';

const rng = new Rng(11);
const oneThread = loadWasmSparseKernels();

function rand(rows: number, cols: number): Matrix {
  return { data: Float32Array.from({ length: rows * cols }, () => rng.normal()), rows, cols };
}
function randomSparse(rows: number, cols: number, perRow: number): SparseRows {
  const b = new SparseBuilder(rows, cols);
  for (let r = 0; r < rows; r++) {
    const picked = new Set<number>();
    while (picked.size < perRow) picked.add(rng.int(cols));
    for (const j of [...picked].sort((x, y) => x - y)) b.push(j, rng.normal());
    b.endRow();
  }
  return b.finish();
}

/** Products large enough to split (≥ 2^18 multiply-adds), each against the one-thread kernels. */
function productsAgree(kernels: ReturnType<typeof loadWasmSparseKernels>, round: number): void {
  const s = randomSparse(512, 1024, 24);
  const w = rand(1024, 48);
  const bias = Float32Array.from({ length: 48 }, (_, i) => i / 5);
  assert.deepEqual(kernels.sparseTimesDense(s, w, bias).data, oneThread.sparseTimesDense(s, w, bias).data, `decode, round ${round}`);
  const a = rand(512, 48);
  const g1 = rand(1024, 48);
  const g2: Matrix = { ...g1, data: g1.data.slice() };
  kernels.sparseTransposeTimesDenseAcc(s, a, g2);
  oneThread.sparseTransposeTimesDenseAcc(s, a, g1);
  assert.deepEqual(g2.data, g1.data, `transposed accumulation, round ${round}`);
  assert.deepEqual(kernels.sparseTransposeTimesDense(s, a, true), oneThread.sparseTransposeTimesDense(s, a, true), `fresh transposed product, round ${round}`);
  const one = new Float32Array(s.colIdx.length);
  const two = new Float32Array(s.colIdx.length);
  oneThread.sampledDots(s, a, w, one);
  kernels.sampledDots(s, a, w, two);
  assert.deepEqual(two, one, `sampled dots, round ${round}`);
}

for (const kind of ['throw', 'exit', 'hang', 'vanish'] as const) {
  test(`sparse kernels: a helper thread that fails (${kind}) costs one notice and a recomputed product, never a hang or a wrong result`, async () => {
    const notices: string[] = [];
    const fault: HelperFault = { onJob: 3, kind };
    const kernels = loadWasmSparseKernels({ threads: 2, helperFault: fault, helperDeadlineMs: 400, onNotice: (m) => notices.push(m) });
    try {
      assert.equal(kernels.threads, 2);
      // The helper fails at the first job it takes from its third wake-up on; the main thread takes a
      // job back when it finishes its own half first, so under load that may be a few rounds later.
      for (let round = 0; round < 300 && notices.length === 0; round++) {
        productsAgree(kernels, round);
        // Let the worker's events through now and then, as an asynchronous training loop does.
        if (round % 4 === 3) await new Promise((r) => setTimeout(r, 5));
      }
      assert.equal(notices.length, 1, 'one notice once the helper is lost');
      assert.match(notices[0], /^sparse kernels: the helper thread was lost \(.+\); continuing on one thread$/);
      assert.equal(kernels.threads, 1);
      for (let round = 0; round < 2; round++) productsAgree(kernels, 100 + round); // on one thread from here
      assert.equal(notices.length, 1, 'no further notices');
    } finally {
      kernels.dispose();
    }
  });
}

const MAX_STEPS = 300;

test('a JumpReLU training run whose helper thread exits part-way gives the losses and L0s of a one-thread run', async () => {
  const engine = createOrtDenseEngine({ intraOpThreads: 1 });
  try {
    const notices: string[] = [];
    const base = presetConfig({ architecture: 'jumprelu', dSae: 1024, totalTokens: 512 * MAX_STEPS, batchSize: 512, targetL0: 24, seed: 5 });
    // JumpReLU's own steps from the start (no TopK warm start), so every step decodes and backpropagates.
    const config = { ...base, initRows: 1024, jumpRelu: { ...base.jumpRelu!, topKWarmupSteps: 0 } };
    // Trains `steps` steps, or with `untilLost` at least 10 and on until the helper is lost: under load the
    // main thread takes jobs back before the helper wakes, so its sixth job may come many steps later.
    const trajectory = async (kernels: ReturnType<typeof loadWasmSparseKernels>, steps: number, untilLost = false): Promise<string[]> => {
      const backend = createFastBackend(engine, { sparseKernels: kernels });
      const source = new SyntheticSource({ dIn: 64, nFeatures: 256, firingProb: 0.05, noiseStd: 0.02, seed: 3 });
      const trainer = await SaeTrainer.create(config, source, backend);
      const out: string[] = [];
      for (let i = 0; i < steps && !(untilLost && i >= 10 && notices.length > 0); i++) {
        if (untilLost && i % 4 === 3) await new Promise((r) => setTimeout(r, 5)); // let the worker's events through
        const m = trainer.trainStep(await source.nextBatch(512));
        assert.ok(m, `step ${i + 1} skipped`);
        out.push(`${m.loss} ${m.l0}`);
      }
      return out;
    };
    const dying = loadWasmSparseKernels({ threads: 2, helperFault: { onJob: 6, kind: 'exit' }, onNotice: (m) => notices.push(m) });
    try {
      const withDeath = await trajectory(dying, MAX_STEPS, true);
      assert.equal(notices.length, 1, `the helper was lost once within ${MAX_STEPS} steps (${notices.join(' | ')})`);
      assert.deepEqual(withDeath, await trajectory(oneThread, withDeath.length));
      assert.equal(notices.length, 1, `the helper was lost once (${notices.join(' | ')})`);
      assert.equal(dying.threads, 1);
    } finally {
      dying.dispose();
    }
  } finally {
    engine.dispose();
  }
});

/** Waits (up to 10 s) for the helper threads of this process to number `n`. */
async function settles(n: number): Promise<number> {
  for (let i = 0; i < 400 && liveSparseHelperThreads() !== n; i++) await new Promise((r) => setTimeout(r, 25));
  return liveSparseHelperThreads();
}

test('disposed kernels stop their helper thread', async () => {
  assert.equal(await settles(0), 0, 'every earlier test disposed its kernels');
  const kernels = loadWasmSparseKernels({ threads: 2 });
  assert.equal(liveSparseHelperThreads(), 1);
  productsAgree(kernels, 0);
  assert.equal(kernels.threads, 2);
  const notices: string[] = [];
  const used = loadWasmSparseKernels({ threads: 2, onNotice: (m) => notices.push(m) });
  kernels.dispose();
  used.dispose();
  assert.equal(await settles(0), 0);
  productsAgree(used, 1); // still computes after dispose, on one thread, without a notice
  assert.equal(used.threads, 1);
  assert.deepEqual(notices, []);
});
