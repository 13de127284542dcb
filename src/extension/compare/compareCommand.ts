// "Feature Lens: Compare Checkpoints…": pick two or more SAEs (the bundled ones, SAE folders in the
// workspace, or any folder or file), evaluate them in the analysis worker on the sample corpus through the
// loaded model (cached beside each checkpoint), and show the table, the L0–FVU plot and the matching.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { Commands } from '../../protocol/commands';
import type { CheckpointComparison } from '../../protocol/compare';
import { LensPanel } from '../panel/lensPanel';
import type { LensService } from '../services/lensService';

/** Tokens of the sample corpus each SAE is evaluated on. */
const COMPARE_TOKENS = 4096;
const MAX_LISTED = 200;

async function candidateSaes(extensionUri: vscode.Uri): Promise<{ label: string; description: string; path: string }[]> {
  const found = new Map<string, string>();
  const bundled = vscode.Uri.joinPath(extensionUri, 'models', 'sae').fsPath;
  for (const cfg of await vscode.workspace.findFiles(new vscode.RelativePattern(bundled, '**/cfg.json'), undefined, MAX_LISTED)) found.set(path.dirname(cfg.fsPath), 'bundled');
  for (const cfg of await vscode.workspace.findFiles('**/cfg.json', '**/node_modules/**', MAX_LISTED)) found.set(path.dirname(cfg.fsPath), vscode.workspace.asRelativePath(path.dirname(cfg.fsPath)));
  return [...found].map(([p, where]) => ({ label: path.basename(p), description: where, path: p }));
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
  const show = (): LensPanel => {
    if (!panel) {
      panel = LensPanel.create(context, { viewType: 'featureLens.compare', title: 'Compare Checkpoints', view: 'compare', column: { viewColumn: vscode.ViewColumn.Active } });
      panel.onDidDispose(() => (panel = undefined));
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
    const view = show();
    view.post({ type: 'comparing', message: `Evaluating ${paths.length} SAEs on ${COMPARE_TOKENS.toLocaleString('en-US')} tokens of the sample corpus…` });
    try {
      const comparison = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: 'Feature Lens: comparing checkpoints', cancellable: true },
        (_progress, token) => service.worker.request({ kind: 'compare', paths, tokens: COMPARE_TOKENS }, token),
      );
      view.post({ type: 'comparison', comparison });
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
  );
}
