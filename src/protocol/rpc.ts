// One request/response helper for every channel (host ⇄ worker, host ⇄ webview). Each side owns a
// peer; a peer can both send requests and serve them, so the same code runs on both ends.

export type RpcEnvelope =
  | { type: 'request'; id: number; request: { kind: string } }
  | { type: 'cancel'; id: number }
  | { type: 'result'; id: number; result: unknown }
  | { type: 'error'; id: number; message: string; code?: string }
  | { type: 'progress'; id: number; progress: unknown };

/** Errors that reached the other side keep their code, e.g. 'cancelled' or 'saeMismatch'. */
export class RpcError extends Error {
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
    this.name = 'RpcError';
  }
}

export const CANCELLED = 'cancelled';

export interface RequestContext {
  readonly signal: AbortSignal;
  progress(progress: unknown): void;
}

export interface RequestOptions {
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: unknown) => void;
}

/** What each request kind of a channel answers. */
export type ResultMap<R extends { kind: string }> = { [K in R['kind']]: unknown };

/**
 * One handler per request kind of a channel. A missing kind, or a handler whose answer is not the
 * channel's result type for that kind, is a compile error.
 */
export type RequestHandlers<In extends { kind: string }, InResults extends ResultMap<In>, Context = RequestContext> = {
  readonly [K in In['kind']]: (request: Extract<In, { kind: K }>, context: Context) => Promise<InResults[K]>;
};

/** Runs the handler for the request's kind; the result type follows the kind. */
export function dispatchRequest<In extends { kind: string }, InResults extends ResultMap<In>, Context, K extends In['kind']>(
  handlers: RequestHandlers<In, InResults, Context>,
  request: Extract<In, { kind: K }>,
  context: Context,
): Promise<InResults[K]> {
  const handler: RequestHandlers<In, InResults, Context>[K] = handlers[request.kind as K];
  return handler(request, context);
}

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
  onProgress?: (progress: unknown) => void;
}

/**
 * `Out`/`OutResults`: what this side asks for and what it gets back; `In`/`InResults`: what it serves.
 * Messages arrive through `receive`, which validates the envelope only (payloads are checked by the
 * channel's own parser before they reach a handler).
 */
export class RpcPeer<
  Out extends { kind: string },
  OutResults extends ResultMap<Out>,
  In extends { kind: string } = never,
  InResults extends ResultMap<In> = never,
> {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly running = new Map<number, AbortController>();
  private handler?: (request: In, context: RequestContext) => Promise<InResults[In['kind']]>;

  constructor(private readonly send: (message: RpcEnvelope) => void) {}

  request<K extends Out['kind']>(request: Extract<Out, { kind: K }>, options: RequestOptions = {}): Promise<OutResults[K]> {
    const id = this.nextId++;
    const { signal, onProgress } = options;
    if (signal?.aborted) return Promise.reject(new RpcError('cancelled', CANCELLED));
    return new Promise<OutResults[K]>((resolve, reject) => {
      const onAbort = () => {
        this.send({ type: 'cancel', id });
        // Settle now: the other side may be busy and answer late; its answer is then dropped.
        this.settle(id)?.reject(new RpcError('cancelled', CANCELLED));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.pending.set(id, {
        resolve: (v) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(v as OutResults[K]);
        },
        reject: (e) => {
          signal?.removeEventListener('abort', onAbort);
          reject(e);
        },
        onProgress,
      });
      this.send({ type: 'request', id, request });
    });
  }

  /** Serves incoming requests; a thrown error becomes an error message, never an unhandled rejection. */
  serve(handler: (request: In, context: RequestContext) => Promise<InResults[In['kind']]>): void {
    this.handler = handler;
  }

  /** Fails every outstanding request, e.g. when the worker died. */
  failAll(error: Error): void {
    for (const id of [...this.pending.keys()]) this.settle(id)?.reject(error);
  }

  get outstanding(): number {
    return this.pending.size;
  }

  receive(raw: unknown): boolean {
    const message = parseEnvelope(raw);
    if (!message) return false;
    switch (message.type) {
      case 'result':
        this.settle(message.id)?.resolve(message.result);
        break;
      case 'error':
        this.settle(message.id)?.reject(new RpcError(message.message, message.code));
        break;
      case 'progress':
        this.pending.get(message.id)?.onProgress?.(message.progress);
        break;
      case 'cancel':
        this.running.get(message.id)?.abort();
        break;
      case 'request':
        void this.run(message.id, message.request as In);
        break;
    }
    return true;
  }

  private settle(id: number): Pending | undefined {
    const p = this.pending.get(id);
    this.pending.delete(id);
    return p;
  }

  private async run(id: number, request: In): Promise<void> {
    if (!this.handler) {
      this.send({ type: 'error', id, message: `no handler for "${request.kind}"` });
      return;
    }
    const controller = new AbortController();
    this.running.set(id, controller);
    try {
      const result = await this.handler(request, {
        signal: controller.signal,
        progress: (progress) => this.send({ type: 'progress', id, progress }),
      });
      if (!controller.signal.aborted) this.send({ type: 'result', id, result });
    } catch (err) {
      const cancelled = controller.signal.aborted;
      const message = err instanceof Error ? err.message : String(err);
      const code = cancelled ? CANCELLED : errorCode(err);
      this.send({ type: 'error', id, message: cancelled ? 'cancelled' : message, ...(code ? { code } : {}) });
    } finally {
      this.running.delete(id);
    }
  }
}

function errorCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && typeof (err as { code?: unknown }).code === 'string') {
    return (err as { code: string }).code;
  }
  return undefined;
}

function parseEnvelope(raw: unknown): RpcEnvelope | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const m = raw as Record<string, unknown>;
  if (typeof m.id !== 'number' || !Number.isInteger(m.id)) return undefined;
  switch (m.type) {
    case 'request':
      return typeof m.request === 'object' && m.request !== null && typeof (m.request as { kind?: unknown }).kind === 'string'
        ? (m as RpcEnvelope)
        : undefined;
    case 'cancel':
    case 'result':
    case 'progress':
      return m as RpcEnvelope;
    case 'error':
      return typeof m.message === 'string' ? (m as RpcEnvelope) : undefined;
    default:
      return undefined;
  }
}
