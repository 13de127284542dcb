import * as vscode from 'vscode';
import { Commands } from '../../protocol/commands';
import { LensPanel } from './lensPanel';

const VIEW_TYPE = 'featureLens.welcome';

let open: LensPanel | undefined;

/** "Show Welcome": one themed page that says what the extension can do; showing it again reveals it. */
export function registerWelcome(context: vscode.ExtensionContext): vscode.Disposable {
  return vscode.commands.registerCommand(Commands.showWelcome, () => showWelcome(context));
}

export function showWelcome(context: vscode.ExtensionContext): LensPanel {
  if (open) {
    open.panel.reveal();
    return open;
  }
  const panel = LensPanel.create(context, { viewType: VIEW_TYPE, title: 'Feature Lens', view: 'welcome', column: { viewColumn: vscode.ViewColumn.Active } });
  panel.onDidDispose(() => (open = undefined));
  open = panel;
  return panel;
}

/** The welcome panel if it is open. */
export function welcomePanel(): LensPanel | undefined {
  return open;
}
