// "Feature Lens: Train SAE…", "Run This Config", "Cancel Training" and "Resume Training…": runs go into
// a queue and train one after another, each with its Training view (live curves, pause, cancel), a
// status-bar spinner and every progress line in the "Feature Lens Training" channel.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { parseRunConfig, RUN_CONFIG_SUFFIX, runConfigOf } from '../../protocol/runConfig';
import { Commands } from '../../protocol/commands';
import type { TrainingStart, TrainJob, TrainProgressEvent } from '../../protocol/training';
import type { TrainingRunInfo } from '../../protocol/trainingView';
import { RunQueue, type QueuedRun } from './runQueue';
import { diskRun, TrainingViews } from './trainingViews';
import { getConfig } from '../config';
import type { LensService } from '../services/lensService';
import { TrainingRun, type TrainingOutcome } from './trainingClient';
import { askTrainJob, vscodeDialogue, type DialogueUi } from './trainingOptions';

/** What the training commands do, for the commands, the tree and the test hooks alike. */
export interface Training {
  /** Activation caches of corpus jobs go here. */
  readonly cacheDir: string;
  /** The runs of this window, in the order they were queued. */
  readonly queue: RunQueue;
  /**
   * Queues a run (it starts when the runs before it end), opens its Training view and resolves with its
   * outcome; undefined when another live run already writes to the same folder.
   */
  run(start: TrainingStart, title: string): Promise<TrainingOutcome | undefined>;
  /** Queues a run and returns at once (undefined: refused, see run()). */
  enqueue(start: TrainingStart, title: string, options?: { openView?: boolean }): QueuedRun | undefined;
  /** Continues the run in `dir`: a paused run steps again; a stopped one is queued from its checkpoint. */
  resumeFolder(dir: string): QueuedRun | undefined;
  /** Opens the Training view of a run folder. */
  openView(outDir: string, preserveFocus?: boolean): void;
  readonly views: TrainingViews;
  /** The Train SAE… questions, for the active model (loaded first if need be) and its sites. */
  askJob(ui?: DialogueUi): Promise<TrainJob | undefined>;
  /** Run folders started from this VS Code (newest first), remembered across reloads for the tree. */
  readonly knownFolders: readonly string[];
  /** The run stepping in this window (running or paused): its output folder and a one-line status. */
  readonly active: { readonly outDir?: string; readonly status: string } | undefined;
  /** Fires when a run is queued, starts, reports progress (at most once a second) or ends. */
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

/** A ten-cell text progress bar (a tree row has no widget for one). */
function bar(fraction: number): string {
  const full = Math.max(0, Math.min(10, Math.round(fraction * 10)));
  return '▰'.repeat(full) + '▱'.repeat(10 - full);
}

/** One line for the tree and the status: what the run is doing. */
export function describeRun(info: TrainingRunInfo): string {
  const pct = `${Math.round(info.fraction * 100)} %`;
  switch (info.status) {
    case 'running':
      if (info.pausing) return `pausing… ${bar(info.fraction)} ${pct}`;
      return info.phase === 'harvest' ? `harvesting ${bar(info.fraction)} ${pct}` : info.phase === 'waiting' ? 'starting…' : `running ${bar(info.fraction)} ${pct}`;
    case 'paused':
      return `paused ${bar(info.fraction)} ${pct}`;
    case 'failed':
      return `failed: ${info.message ?? ''}`;
    case 'cancelled':
      return info.checkpointStep !== undefined ? 'cancelled — can resume' : 'cancelled';
    default:
      return info.status;
  }
}

const KNOWN_FOLDERS_KEY = 'featureLens.trainingRunFolders';
const MAX_KNOWN_FOLDERS = 50;

/** The L0 a job steers to, for the L0 chart: a target-L0 recipe's target, or TopK's k. */
function targetOf(job: TrainJob): number | undefined {
  if (job.arch === 'topk' || job.arch === 'batchtopk') return job.k;
  return job.targetL0 ?? (job.arch === 'jumprelu' && (job.preset ?? 'default') === 'default' && job.l0Coeff === undefined ? 32 : undefined);
}

export function registerTraining(context: vscode.ExtensionContext, service: LensService): { training: Training; disposable: vscode.Disposable } {
  const channel = vscode.window.createOutputChannel('Feature Lens Training');
  const workerFile = vscode.Uri.joinPath(context.extensionUri, 'dist', 'trainWorker.js').fsPath;
  const cacheDir = vscode.Uri.joinPath(context.globalStorageUri, 'activations').fsPath;
  const changed = new vscode.EventEmitter<void>();
  let lastFired = 0;
  let pendingFire: ReturnType<typeof setTimeout> | undefined;
  // The tree re-reads folders on each change: at most once a second while a run reports progress.
  const fireChanged = (throttle: boolean) => {
    if (!throttle) {
      lastFired = Date.now();
      changed.fire();
      return;
    }
    if (pendingFire) return;
    pendingFire = setTimeout(() => {
      pendingFire = undefined;
      lastFired = Date.now();
      changed.fire();
    }, Math.max(0, 1000 - (Date.now() - lastFired)));
  };
  const statuses = new Map<string, string>();

  const queue = new RunQueue(
    (start, listener) =>
      new TrainingRun(workerFile, start, {
        ...listener,
        progress(p) {
          channel.appendLine(formatProgress(p));
          listener.progress(p);
        },
      }, { backend: getConfig().trainingBackend, intraOpThreads: getConfig().intraOpThreads, sparseThreads: getConfig().sparseThreads }),
    {
      changed(run) {
        views.touch(run);
        const status = `${run.info.status}/${run.info.pausing}/${run.info.phase}`;
        const statusChanged = statuses.get(run.id) !== status;
        statuses.set(run.id, status);
        fireChanged(!statusChanged);
        if (statusChanged) onStatus(run);
      },
      points(run) {
        views.touch(run);
        fireChanged(true);
      },
      log(_run, line) {
        channel.appendLine(line);
      },
    },
  );

  const onStatus = (run: QueuedRun) => {
    const { info } = run;
    if (info.status === 'running' && info.phase === 'waiting') {
      channel.appendLine(`— ${new Date().toLocaleString()}: ${info.title} → ${info.outDir}`);
      void vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: `Feature Lens: ${info.title}` }, () => run.outcome);
    }
  };

  const reportOutcome = (run: QueuedRun, outcome: TrainingOutcome) => {
    if (outcome.kind === 'done') {
      const s = outcome.summary;
      channel.appendLine(`${s.cancelled ? 'cancelled' : 'done'} after ${s.steps} steps, ${s.tokens.toLocaleString('en-US')} tokens, ${s.seconds.toFixed(0)} s → ${s.outDir}`);
      const verb = s.cancelled ? 'Training cancelled; checkpoint kept in' : 'SAE trained:';
      void vscode.window.showInformationMessage(`${verb} ${s.outDir} (L0 ${s.final.l0.toFixed(1)}, FVU ${s.final.fvu.toFixed(3)})`);
    } else if (outcome.kind === 'error' && outcome.message === 'cancelled') {
      channel.appendLine(`${run.info.title}: ${run.info.message ?? 'cancelled'}`);
    } else {
      channel.appendLine(`error: ${outcome.message}`);
      void vscode.window.showErrorMessage(`Feature Lens: ${outcome.message}`);
    }
  };

  const enqueue = (start: TrainingStart, title: string, options: { openView?: boolean } = {}): QueuedRun | undefined => {
    const outDir = start.kind === 'start' ? start.job.outDir : start.checkpointDir;
    // A resumed run starts its curves from what the folder (or this window) already has.
    const earlier = queue.byOutDir(outDir);
    const onDisk = start.kind === 'resume' ? diskRun(outDir) : undefined;
    const history = start.kind === 'resume' ? (earlier && earlier.history.length > 0 ? earlier.history : onDisk?.history ?? []) : [];
    const targetL0 = start.kind === 'start' ? targetOf(start.job) : onDisk?.run.targetL0;
    const run = queue.enqueue(start, title, { history, ...(targetL0 !== undefined ? { targetL0 } : {}) });
    if (!run) {
      void vscode.window.showWarningMessage(`A run is already queued or training into ${outDir}.`);
      return undefined;
    }
    // After a reload (or a window closed mid-run) the tree still lists the folder, as interrupted.
    void context.globalState.update(KNOWN_FOLDERS_KEY, [outDir, ...knownFolders().filter((d) => d !== outDir)].slice(0, MAX_KNOWN_FOLDERS));
    if (queue.runs.some((r) => r !== run && (r.info.status === 'running' || r.info.status === 'paused'))) {
      channel.appendLine(`queued: ${title} (starts when the runs before it end)`);
    }
    void run.outcome.then((o) => reportOutcome(run, o));
    if (options.openView !== false) views.open(outDir, true);
    return run;
  };

  const knownFolders = (): string[] => {
    const v = context.globalState.get<unknown>(KNOWN_FOLDERS_KEY);
    return Array.isArray(v) ? v.filter((d): d is string => typeof d === 'string') : [];
  };

  const run = async (start: TrainingStart, title: string): Promise<TrainingOutcome | undefined> => {
    const queued = enqueue(start, title);
    return queued ? queued.outcome : undefined;
  };

  const resumeFolder = (dir: string): QueuedRun | undefined => {
    const live = queue.byOutDir(dir);
    if (live && (live.info.status === 'paused' || live.info.pausing)) {
      queue.resume(live.id);
      return live;
    }
    return enqueue({ kind: 'resume', checkpointDir: dir, cacheDir }, `Resuming ${path.basename(dir)}`);
  };

  const views: TrainingViews = new TrainingViews(context, queue, async (outDir, queued, action) => {
    switch (action) {
      case 'cancel':
        if (queued) queue.cancel(queued.id);
        break;
      case 'pause':
        if (queued) queue.pause(queued.id);
        break;
      case 'resume':
        resumeFolder(outDir);
        break;
      case 'openCheckpoint':
        await vscode.commands.executeCommand(Commands.analyzeWithSae, vscode.Uri.file(outDir));
        break;
    }
  });

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
      const current = queue.current;
      if (!current) {
        void vscode.window.showInformationMessage('No training run is going.');
        return;
      }
      queue.cancel(current.id);
    }),
    vscode.commands.registerCommand(Commands.resumeTraining, async (given?: string | vscode.Uri) => {
      // A folder given by another command (or a test) skips the dialog.
      const uris = given ? [typeof given === 'string' ? vscode.Uri.file(given) : given] : await vscode.window.showOpenDialog({
        canSelectFolders: true,
        canSelectFiles: false,
        title: 'SAE output folder (or its checkpoint folder) to resume',
        openLabel: 'Resume',
      });
      const dir = uris?.[0]?.fsPath;
      if (!dir) return undefined;
      const queued = resumeFolder(dir);
      return queued?.outcome;
    }),
    vscode.commands.registerCommand(Commands.runConfig, (uri?: vscode.Uri) => runConfigFile(uri)),
    views,
    { dispose: () => { if (pendingFire) clearTimeout(pendingFire); void queue.dispose(); } },
  );
  return {
    training: {
      cacheDir,
      queue,
      run,
      enqueue,
      resumeFolder,
      openView: (outDir, preserveFocus) => views.open(outDir, preserveFocus),
      views,
      askJob,
      get knownFolders() {
        return knownFolders();
      },
      get active() {
        const current = queue.current;
        return current ? { outDir: current.info.outDir, status: describeRun(current.info) } : undefined;
      },
      onDidChange: changed.event,
    },
    disposable,
  };
}
