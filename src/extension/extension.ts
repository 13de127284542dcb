import * as vscode from 'vscode';
import { registerCompare } from './compare/compareCommand';
import { registerFindFeature } from './findFeature';
import { HypothesisWorkbench } from './hypothesis';
import { registerHover } from './hover';
import { Inspector } from './inspector';
import { registerLoadCommands } from './loadCommands';
import { log } from './log';
import { registerWelcome } from './panel/welcomePanel';
import { LensService } from './services/lensService';
import { LensStatusBar } from './statusBar';
import { registerTestHooks } from './testHooks';
import { registerTraining } from './training/trainingCommands';
import { registerLensTree } from './tree/lensTree';

/** A table of contents: each feature registers itself and hands back its disposables. */
export function activate(context: vscode.ExtensionContext): void {
  context.subscriptions.push(log(), registerWelcome(context));
  const service = new LensService(context);
  const { inspector, disposable } = Inspector.register(context, service);
  const { training, disposable: trainingCommands } = registerTraining(context, service);
  const lensTree = registerLensTree(context, service, training);
  const hypotheses = new HypothesisWorkbench(context, service, inspector);
  context.subscriptions.push(
    service,
    disposable,
    new LensStatusBar(service),
    registerLoadCommands(service, (err) => inspector.reportError(err)),
    registerHover(service),
    registerFindFeature(service, inspector),
    trainingCommands,
    registerCompare(context, service),
    lensTree.disposable,
    hypotheses,
    registerTestHooks(context, { inspector, service, training, tree: lensTree.tree, hypotheses }),
  );
  log().info('Feature Lens activated');
}

export function deactivate(): void {
  // Disposables in context.subscriptions are released by VS Code.
}
