// "Feature Lens: Compare Checkpoints…": pick two or more SAEs (the bundled ones, SAE folders in the
// workspace, or any folder or file), evaluate them in the analysis worker on the sample corpus through the
// loaded model (cached beside each checkpoint), and show the table, the L0–FVU and L0–ΔLM plots and the
// matching; then the editor's selection (or a sample text) decomposed by the first two side by side. A click
// on a matched pair opens both features' dashboards side by side.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { Commands } from '../../protocol/commands';
import type { CheckpointComparison, SideBySide } from '../../protocol/compare';
import { RpcError } from '../../protocol/rpc';
import { reportIndexProgress } from '../indexProgress';
import { log } from '../log';
import { LensPanel } from '../panel/lensPanel';
import type { LensService } from '../services/lensService';

/** Tokens of the sample corpus each SAE is evaluated on. */
export const COMPARE_TOKENS = 4096;
const MAX_LISTED = 200;
/** Decomposed when nothing is selected: a sentence with names, numbers and code-like tokens. */
export const SAMPLE_TEXT = 'The quick brown fox jumps over the lazy dog. In 1969, 3 astronauts flew to the Moon; x = f(y) + 2.';
const SIDE_BY_SIDE_TOP_K = 8;
const SIDE_BY_SIDE_MAX_TOKENS = 256;

/** What the compare view shows now, for the integration tests (read through a test hook). */
interface CompareState {
  sideBySide?: SideBySide;
  pairTitles: string[];
  /** What each pair dashboard shows: [feature, SAE name, genealogy ids or null]. */
  pairDashboards: ([number, string, readonly (number | null)[] | null] | undefined)[];
  receive?: (raw: unknown) => Promise<string | undefined>;
}
const state: CompareState = { pairTitles: [], pairDashboards: [undefined, undefined] };
export function compareState(): Readonly<CompareState> {
  return state;
}

function selectedText(): string {
  const editor = vscode.window.activeTextEditor;
  const text = editor && !editor.selection.isEmpty ? editor.document.getText(editor.selection) : '';
  return text.trim() ? text : SAMPLE_TEXT;
}

async function candidateSaes(extensionUri: vscode.Uri): Promise<{ label: string; description: string; path: string }[]> {
  const found = new Map<string, string>();
  const bundled = vscode.Uri.joinPath(extensionUri, 'models', 'sae').fsPath;
  for (const cfg of await vscode.workspace.findFiles(new vscode.RelativePattern(bundled, '**/cfg.json'), undefined, MAX_LISTED)) found.set(path.dirname(cfg.fsPath), 'bundled');
  for (const cfg of await vscode.workspace.findFiles('**/cfg.json', '**/node_modules/**', MAX_LISTED)) found.set(path.dirname(cfg.fsPath), vscode.workspace.asRelativePath(path.dirname(cfg.fsPath)));
  // Bundled first, then by name: the picked SAEs keep this order (the first two are the matched pair).
  return [...found]
    .map(([p, where]) => ({ label: path.basename(p), description: where, path: p }))
    .sort((x, y) => Number(y.description === 'bundled') - Number(x.description === 'bundled') || x.label.localeCompare(y.label, 'en', { numeric: true }) || x.path.localeCompare(y.path));
}

async function pickSaes(extensionUri: vscode.Uri): Promise<string[] | undefined> {
  const browse = { label: '$(folder-opened) Browse…', description: 'choose SAE folders or files', path: '' };
  const picked = await vscode.window.showQuickPick([...(await candidateSaes(extensionUri)), browse], {
    canPickMany: true,
    title: 'Compare Checkpoints: pick two or more SAEs of one site',
    matchOnDescription: true,
  });
  if (!picked) return undefined;
  const paths = picked.filter((p) => p !== browse).map((p) => p.path);
  if (picked.includes(browse)) {
    const more = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: true, canSelectMany: true, openLabel: 'Compare', title: 'SAEs to compare' });
    paths.push(...(more ?? []).map((u) => u.fsPath));
  }
  return paths;
}

export function registerCompare(context: vscode.ExtensionContext, service: LensService): vscode.Disposable {
  let panel: LensPanel | undefined;
  /** The SAEs of the comparison shown (the first two are the matched pair). */
  let compared: string[] = [];
  const dashboards: (LensPanel | undefined)[] = [undefined, undefined];

  const decompose = async (text: string): Promise<SideBySide | undefined> => {
    const view = panel;
    if (!view || compared.length < 2) return undefined;
    view.post({ type: 'decomposing', text });
    try {
      const result = await service.worker.request({ kind: 'decompose', paths: [compared[0], compared[1]], text, topK: SIDE_BY_SIDE_TOP_K, maxTokens: SIDE_BY_SIDE_MAX_TOKENS });
      state.sideBySide = result;
      view.post({ type: 'sideBySide', result });
      return result;
    } catch (err) {
      if (err instanceof RpcError && err.code === 'cancelled') return undefined;
      view.post({ type: 'error', message: err instanceof Error ? err.message : String(err) });
      return undefined;
    }
  };

  /** Dashboard `side` (0: the first SAE, 1: the second) of `feature`, in its own panel, the second beside the first. */
  const showDashboard = async (side: 0 | 1, feature: number): Promise<void> => {
    const saePath = compared[side];
    let d = dashboards[side];
    const title = `#${feature} · ${path.basename(saePath)}`;
    if (!d) {
      d = LensPanel.create(context, {
        viewType: 'featureLens.pairFeature',
        title,
        view: 'feature',
        column: { viewColumn: vscode.ViewColumn.Beside, preserveFocus: false },
        onMessage: async (m) => {
          if (m.type === 'openFeature') await showDashboard(side, m.feature);
          else throw new Error('Load this SAE (Feature Lens: Load SAE…) to label it or steer with it.');
        },
      });
      d.onDidDispose(() => (dashboards[side] = undefined));
      dashboards[side] = d;
    }
    const shown = d;
    shown.panel.title = title;
    shown.panel.reveal(undefined, false);
    shown.post({ type: 'analyzing', text: `feature #${feature} of ${path.basename(saePath)}` });
    try {
      const dashboard = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `Feature Lens: feature #${feature} of ${path.basename(saePath)}`, cancellable: true },
        (progress, token) => service.worker.request({ kind: 'showFeature', feature, examples: 12, saePath }, token, (p) => reportIndexProgress(progress, p)),
      );
      shown.post({ type: 'dashboard', dashboard });
      const timeline = await service.worker.request({ kind: 'timeline', path: saePath, feature });
      if (timeline) shown.post({ type: 'timeline', timeline });
      state.pairDashboards[side] = [dashboard.feature, dashboard.sae, timeline ? timeline.ids : null];
    } catch (err) {
      if (err instanceof RpcError && err.code === 'cancelled') return;
      const message = err instanceof Error ? err.message : String(err);
      shown.post({ type: 'error', message });
      log().error(`Feature Lens: ${message}`);
    }
  };

  const openPair = async (a: number, b: number): Promise<void> => {
    if (compared.length < 2) return;
    await showDashboard(0, a);
    await showDashboard(1, b);
    state.pairTitles = dashboards.map((d) => d?.panel.title ?? '');
  };

  const show = (): LensPanel => {
    if (!panel) {
      panel = LensPanel.create(context, {
        viewType: 'featureLens.compare',
        title: 'Compare Checkpoints',
        view: 'compare',
        column: { viewColumn: vscode.ViewColumn.Active },
        onMessage: async (m) => {
          if (m.type === 'openPair') await openPair(m.a, m.b);
          else if (m.type === 'decompose') await decompose(m.text);
        },
      });
      const created = panel;
      state.receive = (raw) => created.receive(raw);
      panel.onDidDispose(() => {
        panel = undefined;
        state.receive = undefined;
      });
    }
    panel.panel.reveal(undefined, false);
    return panel;
  };

  // Arguments: string paths (tests, other commands), or the explorer's (clicked, selected) URIs.
  const compare = async (first?: string[] | vscode.Uri, selected?: vscode.Uri[]): Promise<CheckpointComparison | undefined> => {
    const paths = Array.isArray(first) ? first : selected && selected.length > 1 ? selected.map((u) => u.fsPath) : first ? [first.fsPath] : await pickSaes(context.extensionUri);
    if (!paths) return undefined;
    if (paths.length < 2) {
      void vscode.window.showWarningMessage('Compare Checkpoints needs two or more SAEs.');
      return undefined;
    }
    const text = selectedText();
    const view = show();
    view.post({ type: 'comparing', message: `Evaluating ${paths.length} SAEs on ${COMPARE_TOKENS.toLocaleString('en-US')} tokens of the sample corpus…` });
    try {
      const comparison = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: 'Feature Lens: comparing checkpoints', cancellable: true },
        (_progress, token) => service.worker.request({ kind: 'compare', paths, tokens: COMPARE_TOKENS }, token),
      );
      compared = comparison.checkpoints.map((c) => c.path);
      state.sideBySide = undefined;
      view.post({ type: 'comparison', comparison });
      void decompose(text);
      return comparison;
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      view.post({ type: 'error', message });
      void vscode.window.showErrorMessage(`Feature Lens: ${message}`);
      return undefined;
    }
  };

  return vscode.Disposable.from(
    vscode.commands.registerCommand(Commands.compareCheckpoints, compare),
    { dispose: () => panel?.panel.dispose() },
    { dispose: () => dashboards.forEach((d) => d?.panel.dispose()) },
  );
}
