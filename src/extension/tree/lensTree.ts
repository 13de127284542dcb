// The "Feature Lens" activity-bar view: models, SAEs (architecture, site, L0, FVU), training runs with their
// status and checkpoint. Everything is read back from disk (bundled models/, the workspace, the chosen
// model and SAE) plus the run going in this window, so a window reload shows the same tree.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { summarizeFolder, type FolderSummary } from '../../core/compare/folderSummary';
import { isHistoryCheckpoint, listRunCheckpoints } from '../../core/compare/runHistory';
import { Commands } from '../../protocol/commands';
import { COMPARE_TOKENS } from '../compare/compareCommand';
import type { LensService } from '../services/lensService';
import type { TrainingRunInfo } from '../../protocol/trainingView';
import type { TrainingStatus } from '../../protocol/trainingStatus';
import { describeRun, type Training } from '../training/trainingCommands';

const MAX_FOUND = 200;

const RUN_ICONS: Record<TrainingStatus, string> = {
  queued: 'clock',
  running: 'loading~spin',
  paused: 'debug-pause',
  finished: 'pass',
  failed: 'error',
  cancelled: 'circle-slash',
  interrupted: 'debug-pause',
};

type Node =
  | { kind: 'group'; group: 'models' | 'saes' | 'runs' }
  | { kind: 'model'; path: string; note: string }
  | { kind: 'sae'; path: string; summary: FolderSummary; note: string }
  | { kind: 'run'; path: string; summary: FolderSummary; queued?: TrainingRunInfo }
  | { kind: 'checkpoint'; path: string; summary: FolderSummary; step?: number };

const f = (v: number | undefined, digits = 3) => (v === undefined ? '–' : v.toPrecision(digits));

function describe(s: FolderSummary): string {
  return [s.architecture, s.site, s.dSae !== undefined ? `d_sae ${s.dSae}` : undefined, `L0 ${f(s.l0)}`, `FVU ${f(s.fvu)}`, s.deltaLoss !== undefined ? `ΔLM ${f(s.deltaLoss)}` : undefined].filter(Boolean).join(' · ');
}

export class LensTree implements vscode.TreeDataProvider<Node> {
  private readonly changed = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.changed.event;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly service: LensService,
    private readonly training: Training,
  ) {}

  refresh(): void {
    this.changed.fire(undefined);
  }

  getTreeItem(node: Node): vscode.TreeItem {
    switch (node.kind) {
      case 'group': {
        const item = new vscode.TreeItem({ models: 'Models', saes: 'SAEs', runs: 'Training runs' }[node.group], vscode.TreeItemCollapsibleState.Expanded);
        item.id = `group:${node.group}`;
        return item;
      }
      case 'model': {
        const item = new vscode.TreeItem(path.basename(node.path));
        item.description = node.note;
        item.tooltip = node.path;
        item.iconPath = new vscode.ThemeIcon('symbol-namespace');
        item.contextValue = 'featureLens.model';
        item.resourceUri = vscode.Uri.file(node.path);
        return item;
      }
      case 'sae': {
        const item = new vscode.TreeItem(path.basename(node.path));
        item.description = `${node.note ? node.note + ' · ' : ''}${describe(node.summary)}`;
        item.tooltip = node.path;
        item.iconPath = new vscode.ThemeIcon('symbol-array');
        item.contextValue = 'featureLens.sae';
        item.resourceUri = vscode.Uri.file(node.path);
        return item;
      }
      case 'run': {
        const s = node.summary;
        const q = node.queued;
        const status: TrainingStatus = q?.status ?? (s.run?.finished ? 'finished' : 'interrupted');
        const hasCheckpoint = s.run !== undefined;
        const item = new vscode.TreeItem(path.basename(node.path), hasCheckpoint ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None);
        item.id = `run:${node.path}`;
        item.description = q ? describeRun(q) : status === 'finished' ? 'finished' : 'interrupted — can resume';
        item.tooltip = `${q ? `${q.title}\n` : ''}${node.path}\n${describe(s)}${q?.message ? `\n${q.message}` : ''}`;
        item.iconPath = new vscode.ThemeIcon(RUN_ICONS[status]);
        item.contextValue = `featureLens.run.${status}`;
        item.resourceUri = vscode.Uri.file(node.path);
        item.command = { command: Commands.openTrainingView, title: 'Open Training View', arguments: [node] };
        return item;
      }
      case 'checkpoint': {
        const s = node.summary;
        const item = new vscode.TreeItem(`checkpoint · step ${node.step ?? s.run?.step ?? '?'}`);
        item.description = describe(s);
        item.tooltip = node.path;
        item.iconPath = new vscode.ThemeIcon('save');
        item.contextValue = 'featureLens.sae';
        item.resourceUri = vscode.Uri.file(node.path);
        return item;
      }
    }
  }

  async getChildren(node?: Node): Promise<Node[]> {
    if (!node) return [{ kind: 'group', group: 'models' }, { kind: 'group', group: 'saes' }, { kind: 'group', group: 'runs' }];
    if (node.kind === 'run') {
      // The checkpoints training kept (<run>.checkpoints/), newest last, else the run folder alone.
      let kept: { path: string; step?: number }[] = [];
      try {
        kept = listRunCheckpoints(node.path);
      } catch {
        kept = [];
      }
      // A queued run has no folder yet: no checkpoint.
      if (kept.length === 0) kept = node.summary.run ? [{ path: node.path }] : [];
      return kept.map((c) => ({ kind: 'checkpoint' as const, path: c.path, summary: c.path === node.path ? node.summary : summarizeFolder(c.path), ...(c.step !== undefined && c.path !== node.path ? { step: c.step } : {}) }));
    }
    if (node.kind !== 'group') return [];
    const loaded = this.service.loaded;
    if (node.group === 'models') {
      const bundled = vscode.Uri.joinPath(this.extensionUri, 'models', 'tiny-lm').fsPath;
      const chosen = loaded?.model.path;
      const out: Node[] = [{ kind: 'model', path: bundled, note: chosen === bundled || !chosen ? 'bundled · active' : 'bundled' }];
      if (chosen && chosen !== bundled) out.push({ kind: 'model', path: chosen, note: 'active' });
      return out;
    }
    // Checkpoints kept in a run's history are listed under their run, not as SAEs of their own.
    const folders = (await this.saeFolders()).filter((x) => !isHistoryCheckpoint(x.path));
    const active = loaded?.sae?.path;
    if (active && !folders.some((x) => x.path === active)) folders.push({ path: active, where: 'loaded' });
    if (node.group === 'saes') {
      return folders
        .map(({ path: p, where }) => ({ p, where, s: summarizeFolder(p) }))
        .filter((x) => !x.s.run)
        .map(({ p, where, s }) => ({ kind: 'sae' as const, path: p, summary: s, note: p === active ? `${where}, loaded` : where }));
    }
    // This window's runs first (newest first, one row per folder), then run folders found on disk.
    const runs: Node[] = [];
    const seen = new Set<string>();
    for (const q of [...this.training.queue.runs].reverse()) {
      if (seen.has(q.info.outDir)) continue;
      seen.add(q.info.outDir);
      runs.push({ kind: 'run', path: q.info.outDir, summary: summarizeFolder(q.info.outDir), queued: q.info });
    }
    for (const p of [...this.training.knownFolders, ...folders.map((x) => x.path)]) {
      if (seen.has(p)) continue;
      seen.add(p);
      const s = summarizeFolder(p);
      if (s.run) runs.push({ kind: 'run', path: p, summary: s });
    }
    return runs;
  }

  /** SAE folders: bundled ones and any folder with a cfg.json in the workspace. */
  private async saeFolders(): Promise<{ path: string; where: string }[]> {
    const found = new Map<string, string>();
    const bundled = vscode.Uri.joinPath(this.extensionUri, 'models', 'sae').fsPath;
    for (const cfg of await vscode.workspace.findFiles(new vscode.RelativePattern(bundled, '**/cfg.json'), undefined, MAX_FOUND)) found.set(path.dirname(cfg.fsPath), 'bundled');
    for (const cfg of await vscode.workspace.findFiles('**/cfg.json', '**/node_modules/**', MAX_FOUND)) found.set(path.dirname(cfg.fsPath), 'workspace');
    return [...found].map(([p, where]) => ({ path: p, where }));
  }
}

/** The node's folder, whether the command came from the tree (a Node) or elsewhere (a Uri). */
function folderOf(arg: unknown): string | undefined {
  if (arg instanceof vscode.Uri) return arg.fsPath;
  const p = (arg as { path?: unknown } | undefined)?.path;
  return typeof p === 'string' ? p : undefined;
}

/** What the view shows, as text: each group's rows with their descriptions and context values. */
export async function treeSnapshot(tree: LensTree): Promise<{ group: string; rows: { label: string; description: string; context: string; children: string[] }[] }[]> {
  const out = [];
  for (const group of await tree.getChildren()) {
    const rows = [];
    for (const node of await tree.getChildren(group)) {
      const item = tree.getTreeItem(node);
      const children = await Promise.all((await tree.getChildren(node)).map(async (c) => `${String(tree.getTreeItem(c).label)} ${String(tree.getTreeItem(c).description ?? '')}`));
      rows.push({ label: String(item.label), description: String(item.description ?? ''), context: item.contextValue ?? '', children });
    }
    out.push({ group: String(tree.getTreeItem(group).label), rows });
  }
  return out;
}

export function registerLensTree(context: vscode.ExtensionContext, service: LensService, training: Training): { tree: LensTree; disposable: vscode.Disposable } {
  const tree = new LensTree(context.extensionUri, service, training);
  const view = vscode.window.createTreeView('featureLens.explorer', { treeDataProvider: tree, canSelectMany: true, showCollapseAll: true });
  const watcher = vscode.workspace.createFileSystemWatcher('**/{cfg.json,metrics.json,trainer_state.json}');
  const disposable = vscode.Disposable.from(
    view,
    watcher,
    watcher.onDidCreate(() => tree.refresh()),
    watcher.onDidChange(() => tree.refresh()),
    watcher.onDidDelete(() => tree.refresh()),
    service.onDidChange(() => tree.refresh()),
    training.onDidChange(() => tree.refresh()),
    vscode.commands.registerCommand(Commands.refreshTree, () => tree.refresh()),
    vscode.commands.registerCommand(Commands.analyzeWithSae, async (arg: unknown) => {
      const dir = folderOf(arg);
      if (!dir) return;
      await service.select({ saePath: dir });
      await vscode.commands.executeCommand(Commands.analyzeSelection);
    }),
    vscode.commands.registerCommand(Commands.compareFromTree, async (arg: unknown, selected?: unknown[]) => {
      const dirs = (selected && selected.length > 1 ? selected : view.selection.length > 1 ? view.selection : [arg]).map(folderOf).filter((d): d is string => d !== undefined);
      return vscode.commands.executeCommand(Commands.compareCheckpoints, dirs.length > 1 ? dirs : undefined);
    }),
    vscode.commands.registerCommand(Commands.evaluateFromTree, async (arg: unknown) => {
      const dir = folderOf(arg);
      if (!dir) return undefined;
      try {
        const result = await vscode.window.withProgress(
          { location: vscode.ProgressLocation.Notification, title: `Feature Lens: evaluating ${path.basename(dir)}`, cancellable: true },
          async (_progress, token) => {
            await service.ensureLoaded();
            return service.worker.request({ kind: 'evaluate', path: dir, tokens: COMPARE_TOKENS }, token);
          },
        );
        tree.refresh();
        return result;
      } catch (err) {
        void vscode.window.showErrorMessage(`Feature Lens: ${err instanceof Error ? err.message : String(err)}`);
        return undefined;
      }
    }),
    vscode.commands.registerCommand(Commands.resumeRun, (arg: unknown) => {
      const dir = folderOf(arg);
      return dir ? training.resumeFolder(dir)?.outcome : undefined;
    }),
    vscode.commands.registerCommand(Commands.openTrainingView, (arg: unknown) => {
      const dir = folderOf(arg) ?? training.queue.current?.info.outDir ?? training.queue.runs[training.queue.runs.length - 1]?.info.outDir;
      if (!dir) {
        void vscode.window.showInformationMessage('No training run in this window yet: start one with "Feature Lens: Train SAE…" or Run This Config.');
        return;
      }
      training.openView(dir);
    }),
    vscode.commands.registerCommand(Commands.cancelRun, (arg: unknown) => {
      const dir = folderOf(arg);
      const run = dir ? training.queue.byOutDir(dir) : undefined;
      return run ? training.queue.cancel(run.id) : false;
    }),
    vscode.commands.registerCommand(Commands.pauseRun, (arg: unknown) => {
      const dir = folderOf(arg);
      const run = dir ? training.queue.byOutDir(dir) : undefined;
      return run ? training.queue.pause(run.id) : false;
    }),
    vscode.commands.registerCommand(Commands.revealFolder, (arg: unknown) => {
      const dir = folderOf(arg);
      if (dir) void vscode.commands.executeCommand('revealFileInOS', vscode.Uri.file(dir));
    }),
    vscode.commands.registerCommand(Commands.deleteFolder, async (arg: unknown) => {
      const dir = folderOf(arg);
      if (!dir) return false;
      const queued = training.queue.byOutDir(dir);
      if (queued && ['queued', 'running', 'paused'].includes(queued.info.status)) {
        void vscode.window.showWarningMessage('That run is still queued or training: cancel it first.');
        return false;
      }
      const ok = (await vscode.window.showWarningMessage(`Delete ${dir} and everything in it?`, { modal: true }, 'Delete')) === 'Delete';
      if (!ok) return false;
      await vscode.workspace.fs.delete(vscode.Uri.file(dir), { recursive: true, useTrash: false });
      tree.refresh();
      return true;
    }),
  );
  return { tree, disposable };
}
