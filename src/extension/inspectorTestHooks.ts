import * as vscode from 'vscode';
import type { Inspector } from './inspector';
import type { LensService } from './services/lensService';

/** Test-only commands for the inspector (registered only when VS Code runs the extension's tests). */
export function registerInspectorTestHooks(context: vscode.ExtensionContext, inspector: Inspector, service: LensService): vscode.Disposable {
  if (context.extensionMode !== vscode.ExtensionMode.Test) return new vscode.Disposable(() => undefined);
  return vscode.Disposable.from(
    vscode.commands.registerCommand('featureLens._test.tokenMessages', () => inspector.tokenPanel?.posted.map((m) => m.type) ?? []),
    vscode.commands.registerCommand('featureLens._test.lastAnalysis', () => service.lastAnalysis?.result),
    vscode.commands.registerCommand('featureLens._test.postToTokens', (raw: unknown) => inspector.tokenPanel?.receive(raw)),
    vscode.commands.registerCommand('featureLens._test.highlightState', () => inspector.highlighter.state),
    vscode.commands.registerCommand('featureLens._test.killWorker', () => service.worker.terminate()),
    vscode.commands.registerCommand('featureLens._test.loadWithoutPrompts', (saePath: string) => service.select({ saePath })),
  );
}
