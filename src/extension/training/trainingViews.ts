// The Training webviews: one per run folder, showing the newest run that writes there (queued, live or
// ended in this window) or, for a folder this window did not train, its curves read back from disk. The
// host keeps the history (RunQueue), so a view can be closed and reopened at any time without touching
// the run; a page that (re)loads gets the whole history, then appended points at most a few times a
// second, batched here so a fast run never floods the webview or blocks the host.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { readRunHistory } from '../../core/train/runHistory';
import type { TrainingAction, TrainingPoint, TrainingRunInfo } from '../../protocol/trainingView';
import type { HostToWebview } from '../../protocol/webview';
import { LensPanel } from '../panel/lensPanel';
import type { QueuedRun, RunQueue } from './runQueue';

/** The fewest milliseconds between two posts to one view. */
export const VIEW_UPDATE_INTERVAL_MS = 250;

interface OpenView {
  readonly panel: LensPanel;
  readonly outDir: string;
  /** Points of the shown run the page has, and the history revision they belong to. */
  sent: number;
  revision: number;
  runId?: string;
  timer?: ReturnType<typeof setTimeout>;
  lastPost: number;
  /** What the view shows: a queued run, or a folder on disk. */
  snapshot(): { run: TrainingRunInfo; history: TrainingPoint[]; revision: number };
}

/** A run folder this window did not train (or trained before a reload): its state on disk. */
export function diskRun(outDir: string): { run: TrainingRunInfo; history: TrainingPoint[] } {
  const h = readRunHistory(outDir);
  const total = h.totalTokens;
  const last = h.points[h.points.length - 1];
  return {
    run: {
      id: `disk:${outDir}`,
      title: path.basename(outDir),
      outDir,
      status: h.finished ? 'finished' : 'interrupted',
      pausing: false,
      phase: 'train',
      fraction: h.finished ? 1 : total && last ? Math.min(1, last.tokens / total) : 0,
      ...(total !== undefined ? { totalTokens: total } : {}),
      ...(h.targetL0 !== undefined ? { targetL0: h.targetL0 } : {}),
      ...(h.step !== undefined ? { checkpointStep: h.step } : {}),
      message: h.finished ? 'Curves read back from the folder (logged every few steps).' : 'Stopped before its budget: Resume continues from the last checkpoint.',
    },
    history: h.points,
  };
}

export class TrainingViews implements vscode.Disposable {
  private readonly views = new Map<string, OpenView>();

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly queue: RunQueue,
    private readonly onAction: (outDir: string, run: QueuedRun | undefined, action: TrainingAction) => void | Promise<void>,
  ) {}

  /** The open view of a folder, if any (for tests and the tree). */
  has(outDir: string): boolean {
    return this.views.has(outDir);
  }

  /** Opens (or reveals) the view of the run folder `outDir`. */
  open(outDir: string, preserveFocus = false): void {
    const existing = this.views.get(outDir);
    if (existing) {
      existing.panel.panel.reveal(undefined, preserveFocus);
      return;
    }
    const view: OpenView = {
      outDir,
      sent: 0,
      revision: 0,
      lastPost: 0,
      panel: undefined as unknown as LensPanel,
      snapshot: () => {
        const run = this.queue.byOutDir(outDir);
        return run ? { run: run.info, history: run.history, revision: run.historyRevision } : { ...diskRun(outDir), revision: 0 };
      },
    };
    const full = (): HostToWebview[] => {
      const s = view.snapshot();
      view.sent = s.history.length;
      view.revision = s.revision;
      view.runId = s.run.id;
      return [{ type: 'trainingRun', run: s.run, history: [...s.history] }];
    };
    (view as { panel: LensPanel }).panel = LensPanel.create(this.context, {
      viewType: 'featureLens.training',
      title: `Training: ${path.basename(outDir)}`,
      view: 'training',
      column: { viewColumn: vscode.ViewColumn.Active, preserveFocus },
      replay: full,
      onMessage: async (message) => {
        if (message.type !== 'trainingAction') return;
        await this.onAction(outDir, this.queue.byOutDir(outDir), message.action);
      },
    });
    view.panel.onDidDispose(() => {
      if (view.timer) clearTimeout(view.timer);
      this.views.delete(outDir);
    });
    this.views.set(outDir, view);
    for (const m of full()) view.panel.post(m);
  }

  /** A run changed or grew: its view (if open) is updated within VIEW_UPDATE_INTERVAL_MS. */
  touch(run: QueuedRun): void {
    const view = this.views.get(run.info.outDir);
    if (!view || view.timer) return;
    const wait = Math.max(0, VIEW_UPDATE_INTERVAL_MS - (Date.now() - view.lastPost));
    view.timer = setTimeout(() => {
      view.timer = undefined;
      view.lastPost = Date.now();
      this.flush(view);
    }, wait);
  }

  private flush(view: OpenView): void {
    const s = view.snapshot();
    if (s.run.id !== view.runId || s.revision !== view.revision || s.history.length < view.sent) {
      view.sent = s.history.length;
      view.revision = s.revision;
      view.runId = s.run.id;
      view.panel.post({ type: 'trainingRun', run: s.run, history: [...s.history] });
      return;
    }
    view.panel.post({ type: 'trainingUpdate', run: s.run, start: view.sent, points: s.history.slice(view.sent) });
    view.sent = s.history.length;
  }

  dispose(): void {
    for (const view of [...this.views.values()]) view.panel.panel.dispose();
  }
}
