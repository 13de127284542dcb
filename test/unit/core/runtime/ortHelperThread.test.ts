// The ONNX Runtime helper thread dying before it answers: the caller blocked in finish() learns it at once
// through the shared flag (not at the 10-minute reply timeout), and the thread's 'error' does not crash the
// process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OrtHelperThread } from '../../../../src/core/runtime/ortHelperThread';

test('a helper thread that fails while loading ONNX Runtime makes finish() throw at once, without crashing the process', { timeout: 60_000 }, () => {
  const helper = new OrtHelperThread({ intraOpNumThreads: 1, graphOptimizationLevel: 'all', failStartup: true });
  try {
    const model = (): Uint8Array => new Uint8Array(8); // never loaded: the thread is gone before the job
    helper.start('k', model, { a: { type: 'float32', dims: [1, 2], data: new Float32Array(2) } }, ['y']);
    // Without the flag the wait would last the 10-minute reply timeout: the test's 60 s timeout fails it.
    assert.throws(() => helper.finish(), /stopped answering/);
    assert.throws(() => helper.start('k', model, {}, ['y']), /closed/);
  } finally {
    helper.dispose();
  }
});
