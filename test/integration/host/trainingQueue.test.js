// The run queue, pause/continue and resume of CLI-written folders inside a real VS Code: runs started
// with Run This Config (the command) queue and train one after the other in dist/trainWorker.js, the
// tree shows their statuses, and Resume Training continues a folder `feature-lens train` wrote.
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const vscode = require('vscode');
const { writeActs } = require('../fixtures/acts');
const { test, activeExtension, waitFor, closeAllEditors } = require('./harness');

const runs = () => vscode.commands.executeCommand('featureLens._test.trainingRuns');
const runOf = async (outDir) => (await runs()).filter((r) => r.outDir === outDir).pop();
/** Cancels every run still queued or training, so a failed test does not hold up the next one's queue. */
async function cancelLiveRuns() {
  for (const r of await runs()) {
    if (['queued', 'running', 'paused'].includes(r.status)) await vscode.commands.executeCommand('featureLens.tree.cancelRun', vscode.Uri.file(r.outDir));
  }
  await waitFor(async () => (await runs()).every((r) => !['queued', 'running', 'paused'].includes(r.status)), { timeout: 60_000, what: 'every run ended' });
}
const treeRuns = async () => (await vscode.commands.executeCommand('featureLens._test.treeSnapshot')).find((g) => g.group === 'Training runs').rows;

test(
  'two runs started with Run This Config queue and train in order; pause and continue; the tree shows each status',
  async () => {
    await activeExtension();
    await closeAllEditors();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fl-it-queue-'));
    writeActs(path.join(dir, 'acts.npy'), 4096, 32);
    const runFile = (name, tokens) => {
      const file = path.join(dir, `${name}.featurelens-run.json`);
      fs.writeFileSync(file, JSON.stringify({ site: 'blocks.0.hook_resid_post', arch: 'topk', k: 4, dSae: 128, tokens, batchSize: 128, checkpointEvery: 20, outDir: name, data: { kind: 'acts', path: 'acts.npy' } }, null, 2));
      return vscode.Uri.file(file);
    };
    const first = path.join(dir, 'first');
    const second = path.join(dir, 'second');
    try {
      const firstDone = vscode.commands.executeCommand('featureLens.runConfig', runFile('first', 128 * 200_000));
      // The command reads the file before queueing: wait until the first is in the queue.
      await waitFor(async () => (await runOf(first)) !== undefined, { timeout: 30_000, what: 'the first run queued' });
      const secondDone = vscode.commands.executeCommand('featureLens.runConfig', runFile('second', 128 * 30));
      const seen = [];
      const sample = async () => {
        const [a, b] = [await runOf(first), await runOf(second)];
        if (!a || !b) return undefined;
        seen.push([a.status, b.status]);
        // In a queue the second run never steps while the first is live.
        if (b.status !== 'queued' && b.status !== 'cancelled') assert.ok(['finished', 'cancelled', 'failed'].includes(a.status), `second ${b.status} while first ${a.status}`);
        return { a, b };
      };
      // The first run steps and its curves grow; the second waits in the queue.
      const early = await waitFor(async () => {
        const s = await sample();
        return s && s.a.status === 'running' && s.a.points >= 3 ? s : undefined;
      }, { timeout: 120_000, what: 'the first run stepping with curve points' });
      assert.equal(early.b.status, 'queued');
      assert.equal(early.a.viewOpen, true, 'a started run opens its Training view');
      const rows = await waitFor(async () => {
        const r = await treeRuns();
        const a = r.find((x) => x.label === 'first');
        const b = r.find((x) => x.label === 'second');
        return a && b && /^running [▰▱]{10} \d+ %$/.test(a.description) ? { a, b } : undefined;
      }, { timeout: 30_000, what: 'the tree showing the running run' });
      assert.equal(rows.a.context, 'featureLens.run.running');
      assert.equal(rows.b.description, 'queued');
      assert.equal(rows.b.context, 'featureLens.run.queued');

      // Pause from the tree's action: the worker stops stepping and saves a checkpoint first.
      assert.equal(await vscode.commands.executeCommand('featureLens.tree.pauseRun', vscode.Uri.file(first)), true);
      const paused = await waitFor(async () => {
        const a = await runOf(first);
        return a.status === 'paused' ? a : undefined;
      }, { timeout: 60_000, what: 'the first run paused' });
      const state = JSON.parse(fs.readFileSync(path.join(first, 'trainer_state.json'), 'utf8'));
      assert.ok(state.step >= paused.lastStep, `checkpoint at step ${state.step} covers the last reported step ${paused.lastStep}`);
      assert.match((await treeRuns()).find((x) => x.label === 'first').description, /^paused [▰▱]{10} \d+ %$/);
      // Still paused a moment later: no steps were taken in between (the state on disk is the paused step).
      const still = await runOf(first);
      assert.equal(still.status, 'paused');
      assert.equal(still.lastStep, paused.lastStep);
      // Resume continues the same run (the tree's resume on a paused run).
      // (The command's promise is the run's outcome: not awaited here.)
      void vscode.commands.executeCommand('featureLens.tree.resume', vscode.Uri.file(first));
      await waitFor(async () => {
        const a = await runOf(first);
        return a.status === 'running' && a.lastStep > paused.lastStep;
      }, { timeout: 60_000, what: 'the first run stepping past the pause' });

      // Cancel the long run: the second then starts and finishes.
      assert.equal(await vscode.commands.executeCommand('featureLens.tree.cancelRun', vscode.Uri.file(first)), true);
      const a = await firstDone;
      assert.equal(a.kind, 'done', JSON.stringify(a));
      assert.equal(a.summary.cancelled, true);
      const b = await secondDone;
      assert.equal(b.kind, 'done', JSON.stringify(b));
      assert.equal(b.summary.cancelled, false);
      assert.equal(b.summary.steps, 30);
      await sample();
      assert.deepEqual(seen[seen.length - 1], ['cancelled', 'finished']);
      const finalRows = await waitFor(async () => {
        const r = await treeRuns();
        const x = r.find((y) => y.label === 'first');
        const y = r.find((z) => z.label === 'second');
        return x && y && x.context === 'featureLens.run.cancelled' && y.context === 'featureLens.run.finished' ? { x, y } : undefined;
      }, { timeout: 30_000, what: 'the tree showing cancelled and finished' });
      assert.equal(finalRows.x.description, 'cancelled — can resume');
    } finally {
      await cancelLiveRuns();
      await closeAllEditors();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
  { timeout: 400_000 },
);

test(
  'Resume Training continues a folder written by feature-lens train (CLI) to its budget',
  async () => {
    const extension = await activeExtension();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fl-it-cli-resume-'));
    try {
      const acts = path.join(dir, 'acts.npy');
      writeActs(acts, 2048, 32);
      const out = path.join(dir, 'cli-run');
      const cli = path.join(extension.extensionUri.fsPath, 'dist', 'cli.js');
      const r = spawnSync(process.execPath, [cli, 'train', '--acts', acts, '--arch', 'topk', '--k', '4', '--d-sae', '64', '--tokens', String(128 * 40), '--batch', '128', '--checkpoint-every', '5', '--max-steps', '10', '--out', out], {
        encoding: 'utf8',
        env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
      });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(JSON.parse(fs.readFileSync(path.join(out, 'trainer_state.json'), 'utf8')).scalars.job.command, 'train');
      const outcome = await vscode.commands.executeCommand('featureLens.resumeTraining', out);
      assert.equal(outcome && outcome.kind, 'done', JSON.stringify(outcome));
      assert.deepEqual([outcome.summary.steps, outcome.summary.cancelled], [40, false]);
      const metrics = JSON.parse(fs.readFileSync(path.join(out, 'metrics.json'), 'utf8'));
      assert.equal(metrics.summary.steps, 40);
      const run = await runOf(out);
      assert.equal(run.status, 'finished');
    } finally {
      await cancelLiveRuns();
      await closeAllEditors();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
  { timeout: 180_000 },
);

test(
  'a run into an unwritable folder or on an empty corpus fails with a clear error, and the next queued run still trains',
  async () => {
    const extension = await activeExtension();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fl-it-bad-'));
    try {
      const acts = path.join(dir, 'acts.npy');
      writeActs(acts, 1024, 16);
      const job = (outDir) => ({ site: 's', arch: 'topk', k: 2, dSae: 32, tokens: 128 * 5, batchSize: 128, data: { kind: 'acts', path: acts }, outDir, checkpointEvery: 0, seed: 0 });
      // A folder path under a file cannot be created, even by root.
      const bad = vscode.commands.executeCommand('featureLens._test.trainJob', job(path.join(acts, 'out')));
      const emptyCorpus = path.join(dir, 'empty-corpus');
      fs.mkdirSync(emptyCorpus);
      const empty = vscode.commands.executeCommand('featureLens._test.trainJob', {
        ...job(path.join(dir, 'empty-out')),
        site: 'blocks.1.hook_resid_post',
        data: { kind: 'corpus', modelPath: path.join(extension.extensionUri.fsPath, 'models/tiny-lm'), corpusDir: emptyCorpus, cacheDir: '' },
      });
      const good = vscode.commands.executeCommand('featureLens._test.trainJob', job(path.join(dir, 'good')));
      const failed = await bad;
      assert.equal(failed.kind, 'error');
      assert.match(failed.message, /cannot write the output folder .*acts\.npy.*(ENOTDIR|EEXIST)/);
      const badRun = await runOf(path.join(acts, 'out'));
      assert.equal(badRun.status, 'failed');
      const emptied = await empty;
      assert.equal(emptied.kind, 'error');
      assert.match(emptied.message, /empty-corpus holds no text files/);
      assert.equal(fs.existsSync(path.join(dir, 'empty-out')), false, 'nothing half-written');
      const ok = await good;
      assert.equal(ok.kind, 'done', JSON.stringify(ok));
    } finally {
      await cancelLiveRuns();
      await closeAllEditors();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
  { timeout: 180_000 },
);

test(
  'a run whose worker stops mid-run (the window closed) ends as failed naming its checkpoint, and Resume finishes it',
  async () => {
    await activeExtension();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fl-it-stopped-'));
    try {
      const acts = path.join(dir, 'acts.npy');
      writeActs(acts, 2048, 32);
      const out = path.join(dir, 'run');
      const steps = 4000;
      const stopped = vscode.commands.executeCommand('featureLens._test.trainJob', {
        site: 'blocks.0.hook_resid_post', arch: 'topk', k: 4, dSae: 64, tokens: 128 * steps, batchSize: 128,
        data: { kind: 'acts', path: acts }, outDir: out, checkpointEvery: 25, seed: 0,
      });
      const before = await waitFor(async () => {
        const r = await runOf(out);
        return r && r.status === 'running' && r.checkpointStep !== undefined ? r : undefined;
      }, { timeout: 120_000, what: 'a checkpoint written' });
      assert.equal(await vscode.commands.executeCommand('featureLens._test.stopTrainingNow'), true);
      const outcome = await stopped;
      assert.equal(outcome.kind, 'crashed', JSON.stringify(outcome));
      assert.match(outcome.message, /The last checkpoint \(step \d+\) is in .*Resume Training/);
      const failed = await runOf(out);
      assert.equal(failed.status, 'failed');
      // Nothing corrupt: the folder holds a whole checkpoint at or after the one seen before the stop.
      const state = JSON.parse(fs.readFileSync(path.join(out, 'trainer_state.json'), 'utf8'));
      assert.ok(state.step >= before.checkpointStep && state.step < steps, `state at step ${state.step}`);
      // Stopped mid-write, a half-written copy may sit beside the folder; never a folder moved aside.
      assert.deepEqual(fs.readdirSync(dir).filter((n) => n.startsWith('.run.old-')), [], 'no half-swapped folders');
      for (const f of ['cfg.json', 'sae_weights.safetensors', 'trainer_state.json', 'training_state.safetensors']) assert.ok(fs.existsSync(path.join(out, f)), f);
      const row = await waitFor(async () => (await treeRuns()).find((x) => x.label === 'run' && x.context === 'featureLens.run.failed'), { timeout: 30_000, what: 'the failed run in the tree' });
      assert.match(row.description, /^failed: The training worker stopped unexpectedly/);
      const resumed = await vscode.commands.executeCommand('featureLens.tree.resume', vscode.Uri.file(out));
      assert.equal(resumed.kind, 'done', JSON.stringify(resumed));
      assert.deepEqual([resumed.summary.steps, resumed.summary.cancelled], [steps, false]);
      const history = await runOf(out);
      assert.equal(history.status, 'finished');
      assert.deepEqual(fs.readdirSync(dir).filter((n) => n.startsWith('.run.')), [], 'the resumed run cleared any unfinished write');
    } finally {
      await cancelLiveRuns();
      await closeAllEditors();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
  { timeout: 300_000 },
);
