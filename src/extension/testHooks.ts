import * as vscode from 'vscode';
import { WelcomePanel } from './panel/welcomePanel';

/** Commands for the integration tests only: registered when VS Code runs the extension's tests. */
export function registerTestHooks(context: vscode.ExtensionContext): vscode.Disposable {
  if (context.extensionMode !== vscode.ExtensionMode.Test) return new vscode.Disposable(() => undefined);
  return vscode.Disposable.from(
    vscode.commands.registerCommand('featureLens._test.postToWelcome', (raw: unknown) => WelcomePanel.receiveForTest(raw)),
    vscode.commands.registerCommand('featureLens._test.logFolder', () => context.logUri.fsPath),
  );
}
