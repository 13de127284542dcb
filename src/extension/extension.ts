import * as vscode from 'vscode';
import { log } from './log';
import { WelcomePanel } from './panel/welcomePanel';
import { registerTestHooks } from './testHooks';

/** A table of contents: each feature registers itself and hands back its disposables. */
export function activate(context: vscode.ExtensionContext): void {
  context.subscriptions.push(log(), WelcomePanel.register(context), registerTestHooks(context));
  log().info('Feature Lens activated');
}

export function deactivate(): void {
  // Disposables in context.subscriptions are released by VS Code.
}
