// A second thread with its own ONNX Runtime sessions, so that one engine call can run two halves of its rows
// at once. The selection graphs' operators after the GEMM (NonZero, Greater, GatherND, TopK, Sub, ReduceSum)
// run on one thread whatever the intra-op pool's size; two sessions on two threads each run them over half
// the rows (docs/performance.md, "Session 7: the selection graphs on two threads").
//
// Protocol: the calling thread posts a job on a MessagePort (its inputs are copied by the structured clone:
// ONNX Runtime refuses SharedArrayBuffer-backed inputs), runs its own half, then blocks on a shared flag
// until the helper has posted its outputs, and takes them with receiveMessageOnPort — no event-loop turn,
// so the SAE step stays synchronous.
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';

/**
 * A tensor as it crosses to the helper: type, shape and data. The data is moved (transferred), not copied:
 * pass a compact array of its own (a structured clone of a view copies the view's whole buffer).
 */
export interface HelperTensor {
  readonly type: 'float32' | 'int32' | 'int64' | 'bool';
  readonly dims: readonly number[];
  readonly data: Float32Array | Int32Array | BigInt64Array | Uint8Array;
}

interface HelperReply {
  readonly job: number;
  readonly outputs?: Record<string, HelperTensor['data']>;
  readonly error?: string;
}

// Flag word: the number of the last job the helper finished (or STOPPED after its sessions are closed).
const STOPPED = -1;
/** A helper that has not answered in this long is taken for dead (a loaded machine answers in seconds). */
const REPLY_TIMEOUT_MS = 10 * 60 * 1000;

// CommonJS source of the helper thread (eval'd, so no file has to ship next to the bundles).
const HELPER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { ortPath, bindingPath, port, flag, sessionOptions, failStartup } = workerData;
const done = new Int32Array(flag);
const finish = (job) => { Atomics.store(done, 0, job); Atomics.notify(done, 0); };
// However this thread ends, the caller blocked in finish() must learn it now, not at its reply timeout.
process.on('exit', () => finish(${STOPPED}));
let Tensor, binding;
try {
  if (failStartup) throw new Error('injected startup failure');
  ({ Tensor } = require(ortPath));
  let initOrt;
  ({ binding, initOrt } = require(bindingPath));
  initOrt();
} catch (err) {
  finish(${STOPPED});
  throw err;
}
const sessions = new Map();
port.on('message', (msg) => {
  if (msg.stop) {
    for (const s of sessions.values()) {
      try { if (sessionOptions.enableProfiling) s.endProfiling(); s.dispose(); } catch {}
    }
    sessions.clear();
    port.close();
    finish(${STOPPED});
    return;
  }
  try {
    let s = sessions.get(msg.key);
    if (!s) {
      s = new binding.InferenceSession();
      const options = sessionOptions.enableProfiling
        ? { ...sessionOptions, profileFilePrefix: sessionOptions.profileFilePrefix + msg.key.replace(/[^a-z0-9-]/gi, '_') }
        : sessionOptions;
      s.loadModel(msg.model.buffer, msg.model.byteOffset, msg.model.byteLength, options);
      sessions.set(msg.key, s);
    }
    const feeds = {};
    for (const name of Object.keys(msg.feeds)) {
      const t = msg.feeds[name];
      feeds[name] = new Tensor(t.type, t.data, t.dims);
    }
    const fetches = {};
    for (const name of msg.outputs) fetches[name] = null;
    const out = s.run(feeds, fetches, {});
    const outputs = {};
    const transfer = [];
    for (const name of msg.outputs) {
      outputs[name] = out[name].data;
      if (!transfer.includes(out[name].data.buffer)) transfer.push(out[name].data.buffer);
    }
    try {
      port.postMessage({ job: msg.job, outputs }, transfer);
    } catch {
      port.postMessage({ job: msg.job, outputs });
    }
  } catch (err) {
    port.postMessage({ job: msg.job, error: String((err && err.message) || err) });
  }
  finish(msg.job);
});
`;

/** Session options for the helper's sessions (the engine's own, with the helper's thread count). */
export interface HelperSessionOptions {
  readonly intraOpNumThreads: number;
  readonly graphOptimizationLevel: 'disabled' | 'basic' | 'extended' | 'all';
  /** Per-node JSON profile of every helper session under this prefix (benchmarks only). */
  readonly profileFilePrefix?: string;
  /** Tests only: the thread fails while loading ONNX Runtime. */
  readonly failStartup?: boolean;
}

export class OrtHelperThread {
  private readonly worker: Worker;
  private readonly port: MessagePort;
  private readonly flag = new Int32Array(new SharedArrayBuffer(4));
  private readonly loaded = new Set<string>();
  private job = 0;
  private pending = 0;
  private closed = false;

  constructor(options: HelperSessionOptions) {
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    const sessionOptions = {
      executionProviders: ['cpu'],
      graphOptimizationLevel: options.graphOptimizationLevel,
      intraOpNumThreads: options.intraOpNumThreads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      logSeverityLevel: 3,
      ...(options.profileFilePrefix ? { enableProfiling: true, profileFilePrefix: options.profileFilePrefix } : {}),
      // Spinning pools steal the cores the JavaScript half of the step needs.
      extra: { session: { intra_op: { allow_spinning: '0' } } },
    };
    this.worker = new Worker(HELPER_SOURCE, {
      eval: true,
      workerData: {
        ortPath: require.resolve('onnxruntime-node'),
        bindingPath: require.resolve('onnxruntime-node/dist/binding'),
        port: port2,
        flag: this.flag.buffer,
        sessionOptions,
        failStartup: options.failStartup === true,
      },
      transferList: [port2],
    });
    // A thread that dies raises 'error' here; unheard, that event would crash the process. The death
    // itself reaches the caller through the flag (finish() throws), so nothing more to do.
    this.worker.on('error', () => {});
    // Neither the thread nor the port keeps the process alive.
    this.worker.unref();
    this.port.unref();
  }

  /**
   * Starts the graph `key` (built by `model` the first time) on the helper; returns at once. Every start
   * must be followed by finish() before the next start.
   */
  start(key: string, model: () => Uint8Array, feeds: Record<string, HelperTensor>, outputs: readonly string[]): void {
    if (this.closed) throw new Error('ONNX Runtime helper thread is closed');
    if (this.pending !== 0) throw new Error('ONNX Runtime helper thread: a job is still running');
    const job = ++this.job;
    const first = !this.loaded.has(key);
    const transfer: ArrayBuffer[] = [];
    for (const t of Object.values(feeds)) {
      const buffer = t.data.buffer as ArrayBuffer;
      if (t.data.byteOffset !== 0 || t.data.byteLength !== buffer.byteLength) throw new Error('ONNX Runtime helper thread: feeds must own their buffers');
      if (!transfer.includes(buffer)) transfer.push(buffer);
    }
    this.port.postMessage({ job, key, model: first ? model() : undefined, feeds, outputs }, transfer);
    this.loaded.add(key);
    this.pending = job;
  }

  /** Waits for the started job and returns its outputs; throws the helper's error (or if it stopped answering). */
  finish(): Record<string, HelperTensor['data']> {
    const job = this.pending;
    if (job === 0) throw new Error('ONNX Runtime helper thread: no job started');
    this.pending = 0;
    const deadline = Date.now() + REPLY_TIMEOUT_MS;
    while (Atomics.load(this.flag, 0) !== job) {
      const left = deadline - Date.now();
      if (left <= 0 || Atomics.load(this.flag, 0) === STOPPED) {
        this.closed = true;
        this.port.close();
        void this.worker.terminate();
        throw new Error('ONNX Runtime helper thread stopped answering');
      }
      Atomics.wait(this.flag, 0, job - 1, left);
    }
    let reply: HelperReply | undefined;
    for (let m = receiveMessageOnPort(this.port); m; m = receiveMessageOnPort(this.port)) {
      const r = m.message as HelperReply;
      if (r.job === job) reply = r;
    }
    if (!reply) throw new Error('ONNX Runtime helper thread: no reply');
    if (reply.error !== undefined || !reply.outputs) throw new Error(`ONNX Runtime helper thread: ${reply.error ?? 'no outputs'}`);
    return reply.outputs;
  }

  /** Closes the helper's sessions (writing their profiles, if any) and ends the thread. */
  dispose(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.pending !== 0) {
      // A job still running: wait for it so its sessions are not torn down under it.
      try {
        this.finish();
      } catch {
        // already reported by the call that started it
      }
    }
    this.port.postMessage({ stop: true });
    const deadline = Date.now() + 30_000;
    while (Atomics.load(this.flag, 0) !== STOPPED && Date.now() < deadline) Atomics.wait(this.flag, 0, Atomics.load(this.flag, 0), 100);
    this.port.close();
    void this.worker.terminate();
  }
}
