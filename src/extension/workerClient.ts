import * as vscode from 'vscode';
import { Worker } from 'node:worker_threads';
import { RpcError, RpcPeer } from '../protocol/rpc';
import type { LoadSelection } from '../protocol/session';
import type { WorkerRequest, WorkerResults } from '../protocol/worker';
import { log } from './log';

/**
 * The analysis worker, started on first use. A crash fails the requests in flight with a message and
 * the next request starts a fresh worker (re-sending the last load), so the host never blocks or dies.
 */
export class WorkerClient implements vscode.Disposable {
  private worker?: Worker;
  private peer?: RpcPeer<WorkerRequest, WorkerResults>;
  private loaded?: Promise<WorkerResults['load']>;
  private selection: LoadSelection = {};
  private readonly onDidCrashEmitter = new vscode.EventEmitter<string>();
  readonly onDidCrash = this.onDidCrashEmitter.event;

  constructor(
    private readonly script: string,
    private readonly workerData: { root: string; cacheDir?: string; intraOpThreads?: number },
  ) {}

  /** Loads (or reloads) model, SAE and site; later requests wait for it. */
  load(selection: LoadSelection): Promise<WorkerResults['load']> {
    this.selection = selection;
    this.loaded = this.send({ kind: 'load', ...selection });
    return this.loaded;
  }

  async request<K extends Exclude<WorkerRequest['kind'], 'load'>>(
    request: Extract<WorkerRequest, { kind: K }>,
    token?: vscode.CancellationToken,
    onProgress?: (progress: unknown) => void,
  ): Promise<WorkerResults[K]> {
    this.ensureStarted();
    await (this.loaded ??= this.send({ kind: 'load', ...this.selection }));
    return this.send(request, token, onProgress);
  }

  private send<K extends WorkerRequest['kind']>(
    request: Extract<WorkerRequest, { kind: K }>,
    token?: vscode.CancellationToken,
    onProgress?: (progress: unknown) => void,
  ): Promise<WorkerResults[K]> {
    const peer = this.ensureStarted();
    const controller = new AbortController();
    const sub = token?.onCancellationRequested(() => controller.abort());
    if (token?.isCancellationRequested) controller.abort();
    return peer.request(request, { signal: controller.signal, ...(onProgress ? { onProgress } : {}) }).finally(() => sub?.dispose());
  }

  get running(): boolean {
    return this.worker !== undefined;
  }

  private ensureStarted(): RpcPeer<WorkerRequest, WorkerResults> {
    if (this.worker && this.peer) return this.peer;
    const worker = new Worker(this.script, { workerData: this.workerData });
    const peer = new RpcPeer<WorkerRequest, WorkerResults>((m) => worker.postMessage(m));
    worker.on('message', (m: unknown) => peer.receive(m));
    const died = (reason: string) => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      this.peer = undefined;
      this.loaded = undefined;
      log().error(`Feature Lens worker stopped: ${reason}`);
      peer.failAll(new RpcError(`The analysis worker stopped (${reason}). Run the command again to restart it.`, 'workerCrashed'));
      this.onDidCrashEmitter.fire(reason);
    };
    worker.on('error', (err) => died(err.message));
    worker.on('exit', (code) => died(`exit code ${code}`));
    this.worker = worker;
    this.peer = peer;
    log().info(`Feature Lens worker started (${this.script})`);
    return peer;
  }

  /** For tests and recovery: ends the worker as if it had crashed. */
  async terminate(): Promise<void> {
    await this.worker?.terminate();
  }

  dispose(): void {
    const w = this.worker;
    this.worker = undefined;
    this.peer?.failAll(new RpcError('Feature Lens is shutting down', 'disposed'));
    this.peer = undefined;
    void w?.terminate();
    this.onDidCrashEmitter.dispose();
  }
}
