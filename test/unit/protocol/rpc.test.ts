import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CANCELLED, RpcError, RpcPeer, type RpcEnvelope } from '../../../src/protocol/rpc';

type Req = { kind: 'add'; a: number; b: number } | { kind: 'slow' } | { kind: 'fail' };
type Res = { add: number; slow: string; fail: never };

/** Two peers wired back to back through a queue, like two ends of a worker channel. */
function pair() {
  const sent: RpcEnvelope[] = [];
  const client: RpcPeer<Req, Res> = new RpcPeer<Req, Res>((m) => {
    sent.push(m);
    queueMicrotask(() => server.receive(structuredClone(m)));
  });
  const server: RpcPeer<never, Record<never, unknown>, Req, Res> = new RpcPeer<never, Record<never, unknown>, Req, Res>((m) => queueMicrotask(() => client.receive(structuredClone(m))));
  return { client, server, sent };
}

test('a request gets its result, progress reaches the caller', async () => {
  const { client, server } = pair();
  server.serve(async (r, ctx) => {
    if (r.kind !== 'add') throw new Error('unexpected');
    ctx.progress(0.5);
    return r.a + r.b;
  });
  const progress: unknown[] = [];
  const sum = await client.request({ kind: 'add', a: 2, b: 3 }, { onProgress: (p) => progress.push(p) });
  assert.equal(sum, 5);
  assert.deepEqual(progress, [0.5]);
  assert.equal(client.outstanding, 0);
});

test('a thrown error comes back as an RpcError with its code', async () => {
  const { client, server } = pair();
  server.serve(async () => {
    throw Object.assign(new Error('SAE x has d_in 2, but site y has width 3'), { code: 'saeMismatch' });
  });
  await assert.rejects(client.request({ kind: 'fail' }), (e: unknown) => e instanceof RpcError && e.code === 'saeMismatch' && /d_in 2/.test(e.message));
});

test('aborting sends cancel, the handler sees its signal abort, and the caller rejects as cancelled', async () => {
  const { client, server, sent } = pair();
  let handlerSawAbort = false;
  server.serve(
    (_r, ctx) =>
      new Promise((_resolve, reject) => {
        ctx.signal.addEventListener('abort', () => {
          handlerSawAbort = true;
          reject(new Error('stopped'));
        });
      }),
  );
  const controller = new AbortController();
  const pending = client.request({ kind: 'slow' }, { signal: controller.signal });
  await new Promise((r) => setTimeout(r, 5));
  controller.abort();
  await assert.rejects(pending, (e: unknown) => e instanceof RpcError && e.code === CANCELLED);
  await new Promise((r) => setTimeout(r, 5));
  assert.ok(sent.some((m) => m.type === 'cancel'));
  assert.equal(handlerSawAbort, true);
});

test('failAll rejects everything outstanding (a crashed worker)', async () => {
  const client = new RpcPeer<Req, Res>(() => {});
  const a = client.request({ kind: 'slow' });
  const b = client.request({ kind: 'add', a: 1, b: 1 });
  client.failAll(new Error('worker exited with code 1'));
  await assert.rejects(a, /exited/);
  await assert.rejects(b, /exited/);
});

test('malformed envelopes are ignored', () => {
  const client = new RpcPeer<Req, Res>(() => {});
  for (const bad of [null, 1, {}, { type: 'result' }, { type: 'error', id: 1 }, { type: 'request', id: 1, request: {} }]) {
    assert.equal(client.receive(bad), false, JSON.stringify(bad));
  }
});
