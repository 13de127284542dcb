// The second thread of the WebAssembly sparse kernels (wasmKernels.ts): a worker running the same module
// on the same shared memory that takes the second half of a large product's output rows. The main thread
// never waits on it blindly: a job the helper has not claimed by the time the main thread finished its
// own half is claimed back and computed on the main thread, and a claimed job is waited for in slices
// that check whether the helper has stopped (it flags that itself on any exit or error) or overran a
// deadline. Either way run() throws HelperLost and the caller recomputes the product on one thread.
import { Worker } from 'node:worker_threads';
import type { WasmMemory } from './wasmRuntime';

// Control block shared with the helper: [POSTED] job number posted (−1 = stop), [DONE] job number done,
// [CLAIMED] the last job number someone took (helper or main, by compare-exchange from job − 1),
// [GONE] 1 once the helper is leaving (exit, error, stop), [OP] kernel, [ARGS..] its arguments.
const POSTED = 0;
const DONE = 1;
const CLAIMED = 2;
const GONE = 3;
const OP = 4;
const ARGS = 5;
const CONTROL_INTS = ARGS + 10;
export const OP_GATHER_AXPY = 1;
export const OP_SAMPLED_DOTS = 2;

/** How often a main thread waiting for the helper checks that it is still there. */
const WAIT_SLICE_MS = 100;
/** A claimed half not done after this long counts as lost (normally it takes milliseconds). */
const DEFAULT_DEADLINE_MS = 10_000;

/** Makes the helper fail at one job, as a thread can die: for the tests of the recovery path only. */
export interface HelperFault {
  /** The helper fails at the first job it takes from its n-th wake-up (1-based) on. */
  readonly onJob: number;
  /**
   * After claiming the job: 'throw' an error, 'exit' the thread, or 'hang' (spin, never finishing);
   * 'vanish': exit without claiming it (a thread that died while idle).
   */
  readonly kind: 'throw' | 'exit' | 'hang' | 'vanish';
}

// CommonJS source of the helper thread (eval'd, so no file has to ship next to the bundles).
const HELPER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { module, memory, control, fault } = workerData;
const c = new Int32Array(control);
const leave = () => { Atomics.store(c, ${GONE}, 1); Atomics.notify(c, ${DONE}); };
process.on('exit', leave);
try {
  const k = new WebAssembly.Instance(module, { env: { memory } }).exports;
  let seen = 0;
  let woken = 0;
  for (;;) {
    Atomics.wait(c, ${POSTED}, seen);
    const job = Atomics.load(c, ${POSTED});
    if (job < 0) break;
    if (job === seen) continue;
    seen = job;
    const failNow = fault !== undefined && ++woken >= fault.onJob;
    if (failNow && fault.kind === 'vanish') process.exit(3);
    // The main thread may have taken this job back already (it does when it finishes first).
    if (Atomics.compareExchange(c, ${CLAIMED}, job - 1, job) !== job - 1) continue;
    if (failNow) {
      if (fault.kind === 'throw') throw new Error('injected helper fault');
      if (fault.kind === 'exit') process.exit(3);
      for (;;);
    }
    const a = (i) => c[${ARGS} + i];
    if (c[${OP}] === ${OP_GATHER_AXPY}) k.gatherAxpy(a(0), a(1), a(2), a(3), a(4), a(5), a(6), a(7), a(8));
    else k.sampledDots(a(0), a(1), a(2), a(3), a(4), a(5), a(6), a(7));
    Atomics.store(c, ${DONE}, job);
    Atomics.notify(c, ${DONE});
  }
} finally {
  leave();
}
`;

/** The helper stopped or overran: the product in flight must be recomputed without it. */
export class HelperLost extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'HelperLost';
  }
}

let live = 0;

/** Helper threads started and not yet exited, in this process (the dispose tests read it). */
export function liveSparseHelperThreads(): number {
  return live;
}

export interface HelperOptions {
  readonly deadlineMs?: number;
  readonly fault?: HelperFault;
}

export class SparseHelperThread {
  private readonly control = new Int32Array(new SharedArrayBuffer(CONTROL_INTS * 4));
  private readonly worker: Worker;
  private readonly deadlineMs: number;
  private job = 0;
  private disposed = false;
  /** Set from the worker's 'error' / 'exit' events (seen whenever the event loop turns). */
  private lostBecause: string | undefined;

  constructor(module: object, memory: WasmMemory, options: HelperOptions = {}) {
    this.deadlineMs = options.deadlineMs ?? DEFAULT_DEADLINE_MS;
    this.worker = new Worker(HELPER_SOURCE, {
      eval: true,
      workerData: { module, memory, control: this.control.buffer, ...(options.fault ? { fault: options.fault } : {}) },
    });
    live++;
    // Never keeps a process alive by itself: a caller that forgets dispose still exits.
    this.worker.unref();
    this.worker.on('error', (err: Error) => {
      this.lostBecause ??= `it failed: ${err.message.split('\n')[0]}`;
    });
    this.worker.once('exit', (code: number) => {
      live--;
      this.lostBecause ??= `it exited with code ${code}`;
    });
  }

  /** Why the helper can no longer be used, if it cannot. */
  get lost(): string | undefined {
    if (this.disposed) return 'it was disposed';
    if (this.lostBecause) return this.lostBecause;
    return Atomics.load(this.control, GONE) !== 0 ? 'it stopped' : undefined;
  }

  /**
   * Posts `op(args)` for the helper, runs `mine` here, then either waits for the helper's half or, if the
   * helper has not started it yet, runs `theirs` here too. Throws HelperLost (with no half left running
   * on the helper's side that this call knows of being needed) when the helper is gone or overran.
   */
  run(op: number, args: readonly number[], mine: () => void, theirs: () => void): void {
    const why = this.lost;
    if (why) throw new HelperLost(why);
    const c = this.control;
    c[OP] = op;
    args.forEach((v, i) => (c[ARGS + i] = v));
    const job = ++this.job;
    Atomics.store(c, POSTED, job);
    Atomics.notify(c, POSTED);
    mine();
    if (Atomics.compareExchange(c, CLAIMED, job - 1, job) === job - 1) {
      theirs();
      return;
    }
    const start = performance.now();
    while (Atomics.load(c, DONE) !== job) {
      if (Atomics.load(c, GONE) !== 0) throw new HelperLost(this.lostBecause ?? 'it stopped during a product');
      if (performance.now() - start > this.deadlineMs) throw new HelperLost(`its half of a product took over ${this.deadlineMs} ms`);
      Atomics.wait(c, DONE, job - 1, WAIT_SLICE_MS);
    }
  }

  /** Stops the thread (asynchronously; it holds no resource a caller waits for). */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    Atomics.store(this.control, POSTED, -1);
    Atomics.notify(this.control, POSTED);
    void this.worker.terminate();
  }
}
