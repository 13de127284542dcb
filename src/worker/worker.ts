import { parentPort, workerData } from 'node:worker_threads';
import { defaultLoaders, writeFeatureLabel } from '../core/analysis/defaultLoaders';
import { isCancellation } from '../core/util/abort';
import { RpcPeer } from '../protocol/rpc';
import { parseWorkerRequest, type WorkerRequest, type WorkerResults } from '../protocol/worker';
import { AnalysisEngine } from './engine';

// The worker answers each request once; a failure becomes an error message, never a crash of the host.
const port = parentPort;
if (!port) throw new Error('worker.js must run inside a worker thread');

const data = (workerData ?? {}) as { root?: string; cacheDir?: string; intraOpThreads?: number };
const engine = new AnalysisEngine({
  root: data.root ?? process.cwd(),
  loaders: defaultLoaders({ cacheDir: data.cacheDir, intraOpThreads: data.intraOpThreads }),
  writeLabel: writeFeatureLabel,
});

const peer = new RpcPeer<never, Record<never, unknown>, WorkerRequest, WorkerResults>((message) => port.postMessage(message));
peer.serve(async (raw, context) => {
  const parsed = parseWorkerRequest(raw);
  if (!parsed.ok) throw new Error(parsed.reason);
  try {
    return await engine.handle(parsed.value, context);
  } catch (err) {
    if (isCancellation(err)) throw Object.assign(new Error('cancelled'), { code: 'cancelled' });
    throw err;
  }
});
port.on('message', (message: unknown) => peer.receive(message));
process.on('unhandledRejection', (reason) => {
  // Keep serving: one failed job must not take the worker down.
  console.error('feature-lens worker: unhandled rejection', reason);
});
