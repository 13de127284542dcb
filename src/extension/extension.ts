import * as vscode from 'vscode';
import { registerHover } from './hover';
import { Inspector } from './inspector';
import { registerInspectorTestHooks } from './inspectorTestHooks';
import { log } from './log';
import { WelcomePanel } from './panel/welcomePanel';
import { registerSelectionCommands } from './selectionCommands';
import { LensService } from './services/lensService';
import { LensStatusBar } from './statusBar';
import { registerTestHooks } from './testHooks';
import { registerTraining } from './training/trainingCommands';

/** A table of contents: each feature registers itself and hands back its disposables. */
export function activate(context: vscode.ExtensionContext): void {
  context.subscriptions.push(log(), WelcomePanel.register(context), registerTestHooks(context));
  const service = new LensService(context);
  const { inspector, disposable } = Inspector.register(context, service);
  context.subscriptions.push(
    service,
    disposable,
    new LensStatusBar(service),
    registerSelectionCommands(service, (err) => inspector.reportError(err)),
    registerHover(service),
    registerInspectorTestHooks(context, inspector, service),
    registerTraining(context),
  );
  log().info('Feature Lens activated');
}

export function deactivate(): void {
  // Disposables in context.subscriptions are released by VS Code.
}
