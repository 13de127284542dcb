import { parentPort } from 'node:worker_threads';
import type { HostToWorker, WorkerToHost } from '../protocol/worker';

// The worker answers each request once; a failure becomes an error message, never a crash of the host.
const port = parentPort;
if (!port) throw new Error('worker.js must run inside a worker thread');

function send(message: WorkerToHost): void {
  port!.postMessage(message);
}

port.on('message', (message: HostToWorker) => {
  if (message.type !== 'request') return;
  switch (message.request.kind) {
    case 'ping':
      send({ type: 'result', id: message.id, result: 'pong' });
      break;
    default:
      send({ type: 'error', id: message.id, message: `unknown request ${JSON.stringify(message.request)}` });
  }
});
