// worker_threads entry for SAE training (dist/trainWorker.js), separate from the analysis worker so a
// long run never blocks analysis. One job per worker: start or resume, optional cancel, then exactly
// one done or error message. Failures become messages; the worker never takes the host down.
import { parentPort, workerData } from 'node:worker_threads';
import { isCancellation } from '../core/util/abort';
import { PauseGate } from '../core/util/pauseGate';
import { parseHostToTrainer, type TrainerToHost, type TrainWorkerSettings } from '../protocol/training';
import { runTrainJob } from './training/trainJob';

const port = parentPort;
if (!port) throw new Error('trainWorker.js must run inside a worker thread');

/** From the host: the featureLens.trainingBackend, intraOpThreads and sparseThreads settings. */
const settings = (workerData ?? {}) as TrainWorkerSettings;
const controller = new AbortController();
const gate = new PauseGate();
/** Progress at most this often: the host draws curves from it (and throttles what it shows). */
const PROGRESS_INTERVAL_MS = 250;
let started = false;
/** Set by `stop-now`: the worker exits at the next point where no onnxruntime call is in flight. */
let stopRequested = false;

function exitIfStopRequested(where: string): void {
  if (!stopRequested) return;
  send({ type: 'log', message: `stopped at once ${where}, without a final save` });
  // A non-zero exit code: the host reports the run as stopped, naming its last checkpoint.
  process.exit(1);
}

function send(message: TrainerToHost): void {
  port!.postMessage(message);
}

function finish(message: TrainerToHost): void {
  send(message);
  port!.close();
}

process.on('uncaughtException', (err) => finish({ type: 'error', message: `training worker: ${err.message}` }));
process.on('unhandledRejection', (err) => finish({ type: 'error', message: `training worker: ${err instanceof Error ? err.message : String(err)}` }));

port.on('message', (raw: unknown) => {
  const parsed = parseHostToTrainer(raw);
  if (!parsed.ok) {
    send({ type: 'log', message: `ignored a malformed message: ${parsed.reason}` });
    return;
  }
  const message = parsed.value;
  if (message.type === 'cancel') {
    controller.abort();
    return;
  }
  if (message.type === 'pause') {
    gate.pause();
    return;
  }
  if (message.type === 'continue') {
    gate.resume();
    return;
  }
  if (message.type === 'stop-now') {
    stopRequested = true;
    // Idle or waiting at the pause gate: nothing is in flight, so exit now; otherwise at the next step.
    if (!started || gate.paused) exitIfStopRequested(gate.paused ? 'while paused' : 'before the job started');
    return;
  }
  if (started) {
    send({ type: 'log', message: 'this worker already runs a job; start another worker for another job' });
    return;
  }
  started = true;
  const start =
    message.type === 'start'
      ? ({ kind: 'start', job: message.job } as const)
      : ({ kind: 'resume', checkpointDir: message.checkpointDir, ...(message.cacheDir !== undefined ? { cacheDir: message.cacheDir } : {}) } as const);
  runTrainJob(start, controller.signal, {
    progress: (event) => {
      send(event);
      exitIfStopRequested(`after step ${event.step}`);
    },
    checkpoint: (dir, step, tokens) => {
      send({ type: 'checkpoint-saved', dir, step, tokens });
      exitIfStopRequested(`after the checkpoint of step ${step}`);
    },
    log: (text) => send({ type: 'log', message: text }),
    paused: (step) => send({ type: 'paused', step }),
    continued: (step) => send({ type: 'continued', step }),
  }, { pause: gate, progressIntervalMs: PROGRESS_INTERVAL_MS, ...(settings.backend !== undefined ? { backend: settings.backend } : {}), ...(settings.intraOpThreads !== undefined ? { intraOpThreads: settings.intraOpThreads } : {}), ...(settings.sparseThreads !== undefined ? { sparseThreads: settings.sparseThreads } : {}) }).then(
    (summary) => finish({ type: 'done', summary }),
    (err: unknown) => finish({ type: 'error', message: isCancellation(err) ? 'cancelled' : err instanceof Error ? err.message : String(err) }),
  );
});
