// "Feature Lens: Train SAE…", "Cancel Training" and "Resume Training…": one run at a time, shown as a
// cancellable notification plus a log of every progress line in the "Feature Lens Training" channel.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { parseRunConfig, RUN_CONFIG_SUFFIX, runConfigOf } from '../../protocol/runConfig';
import { Commands } from '../../protocol/commands';
import type { TrainingStart, TrainJob, TrainProgressEvent } from '../../protocol/training';
import { getConfig } from '../config';
import type { LensService } from '../services/lensService';
import { TrainingRun, type TrainingOutcome } from './trainingClient';
import { askTrainJob, vscodeDialogue, type DialogueUi } from './trainingOptions';

/** What the training commands do, for the commands and the test hooks alike. */
export interface Training {
  /** Activation caches of corpus jobs go here. */
  readonly cacheDir: string;
  /** Runs one job with progress and log; undefined when another run is going. */
  run(start: TrainingStart, title: string): Promise<TrainingOutcome | undefined>;
  /** The Train SAE… questions, for the active model (loaded first if need be) and its sites. */
  askJob(ui?: DialogueUi): Promise<TrainJob | undefined>;
  /** The run going in this window: its output folder (when known) and a one-line status. */
  readonly active: { readonly outDir?: string; readonly status: string } | undefined;
  /** Fires when a run starts, reports progress (at most once a second) or ends. */
  readonly onDidChange: vscode.Event<void>;
}

export function formatProgress(p: TrainProgressEvent): string {
  if (p.phase === 'harvest') return `harvest: ${p.tokens.toLocaleString('en-US')} / ${p.totalTokens.toLocaleString('en-US')} tokens`;
  const f = (v: number, digits = 4) => (Number.isFinite(v) ? v.toPrecision(digits) : '–');
  return (
    `step ${p.step}  tokens ${p.tokens.toLocaleString('en-US')}/${p.totalTokens.toLocaleString('en-US')}  loss ${f(p.loss)}  ` +
    `MSE ${f(p.mse)}  FVU ${f(p.fvu, 3)}  L0 ${f(p.l0, 3)}  dead ${(p.deadFraction * 100).toFixed(1)}%  ` +
    `${Math.round(p.tokensPerSecond).toLocaleString('en-US')} tokens/s` +
    (p.skippedRows > 0 ? `  skipped ${p.skippedRows} NaN/Inf rows` : '')
  );
}

export function registerTraining(context: vscode.ExtensionContext, service: LensService): { training: Training; disposable: vscode.Disposable } {
  const channel = vscode.window.createOutputChannel('Feature Lens Training');
  const workerFile = vscode.Uri.joinPath(context.extensionUri, 'dist', 'trainWorker.js').fsPath;
  const cacheDir = vscode.Uri.joinPath(context.globalStorageUri, 'activations').fsPath;
  let current: TrainingRun | undefined;
  let active: { outDir?: string; status: string } | undefined;
  const changed = new vscode.EventEmitter<void>();
  let lastFired = 0;
  const setActive = (next: typeof active, throttle = false) => {
    active = next;
    if (throttle && Date.now() - lastFired < 1000) return;
    lastFired = Date.now();
    changed.fire();
  };

  const run = async (start: TrainingStart, title: string): Promise<TrainingOutcome | undefined> => {
    if (current) {
      void vscode.window.showWarningMessage('A training run is already going. Cancel it first ("Feature Lens: Cancel Training").');
      return undefined;
    }
    let result: TrainingOutcome | undefined;
    const outDir = start.kind === 'start' ? start.job.outDir : start.checkpointDir;
    setActive({ outDir, status: 'starting…' });
    channel.show(true);
    channel.appendLine(`— ${new Date().toLocaleString()}: ${title}`);
    await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title, cancellable: true },
      async (progress, token) => {
        let reported = 0;
        const training = new TrainingRun(workerFile, start, {
          progress(p) {
            channel.appendLine(formatProgress(p));
            const fraction = p.totalTokens > 0 ? Math.min(1, p.tokens / p.totalTokens) : 0;
            // withProgress takes increments; harvest and training each fill the bar once.
            const target = p.phase === 'harvest' ? 0 : fraction * 100;
            progress.report({ increment: Math.max(0, target - reported), message: p.phase === 'harvest' ? 'harvesting activations…' : `L0 ${p.l0.toFixed(1)}, FVU ${p.fvu.toFixed(3)}` });
            reported = Math.max(reported, target);
            setActive({ outDir, status: p.phase === 'harvest' ? 'harvesting…' : `running ${Math.round(fraction * 100)} %` }, true);
          },
          checkpoint(dir, step) {
            channel.appendLine(`checkpoint saved at step ${step}: ${dir}`);
          },
          log(message) {
            channel.appendLine(message);
          },
        }, { backend: getConfig().trainingBackend, intraOpThreads: getConfig().intraOpThreads });
        current = training;
        const onCancel = token.onCancellationRequested(() => {
          channel.appendLine('cancelling… (the worker saves a checkpoint first)');
          training.cancel();
        });
        try {
          const outcome = await training.outcome;
          result = outcome;
          if (outcome.kind === 'done') {
            const s = outcome.summary;
            channel.appendLine(`${s.cancelled ? 'cancelled' : 'done'} after ${s.steps} steps, ${s.tokens.toLocaleString('en-US')} tokens, ${s.seconds.toFixed(0)} s → ${s.outDir}`);
            const verb = s.cancelled ? 'Training cancelled; checkpoint kept in' : 'SAE trained:';
            void vscode.window.showInformationMessage(`${verb} ${s.outDir} (L0 ${s.final.l0.toFixed(1)}, FVU ${s.final.fvu.toFixed(3)})`);
          } else if (outcome.kind === 'error' && outcome.message === 'cancelled') {
            // Cancelled while harvesting: nothing was trained, so there is no checkpoint to mention.
            channel.appendLine('cancelled before training started');
            void vscode.window.showInformationMessage('Training cancelled before it started.');
          } else {
            channel.appendLine(`error: ${outcome.message}`);
            void vscode.window.showErrorMessage(outcome.message);
          }
        } finally {
          onCancel.dispose();
          current = undefined;
          setActive(undefined);
        }
      },
    );
    return result;
  };

  const askJob = async (ui: DialogueUi = vscodeDialogue): Promise<TrainJob | undefined> => {
    const loaded = service.loaded ?? (await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: 'Feature Lens: loading the model' }, () => service.ensureLoaded()));
    return askTrainJob(loaded, context.extensionUri, cacheDir, ui);
  };

  // Run This Config: the file as the editor holds it (unsaved edits included), through the schema's parser.
  const runConfigFile = async (uri?: vscode.Uri): Promise<TrainingOutcome | { kind: 'refused'; message: string } | undefined> => {
    const target = uri ?? vscode.window.activeTextEditor?.document.uri;
    if (!target || !target.fsPath.endsWith(RUN_CONFIG_SUFFIX)) {
      void vscode.window.showWarningMessage(`Open a *${RUN_CONFIG_SUFFIX} file to run it.`);
      return undefined;
    }
    const name = path.basename(target.fsPath);
    const text = (await vscode.workspace.openTextDocument(target)).getText();
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (err) {
      raw = err;
    }
    const parsed = raw instanceof Error ? { ok: false as const, reason: raw.message } : parseRunConfig(raw, { resolvePath: (p) => path.resolve(path.dirname(target.fsPath), p), defaultCacheDir: cacheDir });
    if (!parsed.ok) {
      const message = `${name}: ${parsed.reason}`;
      void vscode.window.showErrorMessage(`Feature Lens: ${message}`);
      return { kind: 'refused', message };
    }
    return run({ kind: 'start', job: parsed.value }, `Training ${parsed.value.arch} SAE on ${parsed.value.site} (${name})`);
  };

  const saveAsRunFile = async (job: TrainJob): Promise<void> => {
    const suggested = vscode.Uri.file(path.join(path.dirname(job.outDir), `${path.basename(job.outDir)}${RUN_CONFIG_SUFFIX}`));
    const uri = await vscode.window.showSaveDialog({ defaultUri: suggested, filters: { 'Feature Lens run': ['json'] }, title: 'Save the run as a file' });
    if (!uri) return;
    const file = uri.fsPath.endsWith(RUN_CONFIG_SUFFIX) ? uri.fsPath : uri.fsPath.replace(/(\.json)?$/, RUN_CONFIG_SUFFIX);
    const relative = (p: string) => path.relative(path.dirname(file), p) || '.';
    await vscode.workspace.fs.writeFile(vscode.Uri.file(file), Buffer.from(JSON.stringify(runConfigOf(job, relative), null, 2) + '\n'));
    await vscode.window.showTextDocument(vscode.Uri.file(file));
  };

  const disposable = vscode.Disposable.from(
    channel,
    changed,
    vscode.commands.registerCommand(Commands.trainSae, async () => {
      try {
        const job = await askJob();
        if (!job) return;
        const how = await vscode.window.showQuickPick(
          [
            { label: 'Start training', value: 'start' as const },
            { label: 'Save as run file…', description: `a *${RUN_CONFIG_SUFFIX} to edit and start with Run This Config`, value: 'save' as const },
          ],
          { title: 'Train SAE: start now or save the run?' },
        );
        if (how?.value === 'save') await saveAsRunFile(job);
        else if (how?.value === 'start') await run({ kind: 'start', job }, `Training ${job.arch} SAE on ${job.site}`);
      } catch (err) {
        void vscode.window.showErrorMessage(`Feature Lens: ${err instanceof Error ? err.message : String(err)}`);
      }
    }),
    vscode.commands.registerCommand(Commands.cancelTraining, () => {
      if (!current) {
        void vscode.window.showInformationMessage('No training run is going.');
        return;
      }
      current.cancel();
    }),
    vscode.commands.registerCommand(Commands.resumeTraining, async () => {
      const uris = await vscode.window.showOpenDialog({
        canSelectFolders: true,
        canSelectFiles: false,
        title: 'SAE output folder (or its checkpoint folder) to resume',
        openLabel: 'Resume',
      });
      const dir = uris?.[0]?.fsPath;
      if (dir) await run({ kind: 'resume', checkpointDir: dir }, 'Resuming SAE training');
    }),
    vscode.commands.registerCommand(Commands.runConfig, (uri?: vscode.Uri) => runConfigFile(uri)),
    { dispose: () => void current?.kill() },
  );
  return {
    training: {
      cacheDir,
      run,
      askJob,
      get active() {
        return active;
      },
      onDidChange: changed.event,
    },
    disposable,
  };
}
