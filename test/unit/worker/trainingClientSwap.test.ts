// A training worker that dies between the two renames of a checkpoint swap must not leave the user
// without a checkpoint: the host puts the previous folder back before it reports the crash.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { TrainingRun } from '../../../src/extension/training/trainingClient';

test('a worker killed mid-swap: the crash outcome names the checkpoint and the folder is whole again', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fl-client-'));
  try {
    const run = path.join(dir, 'run');
    // The state an interrupted swap leaves: the run folder renamed aside, the new copy never moved in.
    const aside = path.join(dir, '.run.old-123-abcd');
    fs.mkdirSync(aside);
    fs.writeFileSync(path.join(aside, 'trainer_state.json'), JSON.stringify({ step: 25 }));
    const worker = path.join(dir, 'worker.cjs');
    fs.writeFileSync(
      worker,
      `const { parentPort } = require('node:worker_threads');
parentPort.postMessage({ type: 'checkpoint-saved', dir: ${JSON.stringify(run)}, step: 25, tokens: 3200 });
setTimeout(() => process.exit(3), 50);`,
    );
    const seen: number[] = [];
    const training = new TrainingRun(worker, { kind: 'resume', checkpointDir: run }, {
      progress: () => {},
      checkpoint: (_dir, step) => seen.push(step),
      log: () => {},
    });
    const outcome = await training.outcome;
    assert.equal(outcome.kind, 'crashed');
    assert.match(outcome.kind === 'crashed' ? outcome.message : '', /exited with code 3.*last checkpoint \(step 25\)/);
    assert.deepEqual(seen, [25]);
    assert.equal(JSON.parse(fs.readFileSync(path.join(run, 'trainer_state.json'), 'utf8')).step, 25);
    assert.deepEqual(fs.readdirSync(dir).filter((n) => n.startsWith('.run.old-')), []);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
