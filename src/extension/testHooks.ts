import * as vscode from 'vscode';
import { TestCommands } from '../protocol/commands';
import type { LoadSelection } from '../protocol/session';
import type { TrainJob } from '../protocol/training';
import type { HypothesisWorkbench } from './hypothesis';
import type { Inspector } from './inspector';
import { compareState } from './compare/compareCommand';
import { welcomePanel } from './panel/welcomePanel';
import type { LensService } from './services/lensService';
import type { Training } from './training/trainingCommands';
import type { Choice, DialogueUi } from './training/trainingOptions';
import { treeSnapshot, type LensTree } from './tree/lensTree';

export interface TestHookTargets {
  readonly inspector: Inspector;
  readonly service: LensService;
  readonly training: Training;
  readonly tree: LensTree;
  readonly hypotheses: HypothesisWorkbench;
}

/**
 * Every command the integration tests use to reach inside the host, in one place. Registered only when
 * VS Code runs the extension's tests; they read the production objects' ordinary state, so nothing in
 * those classes exists for the tests alone.
 */
export function registerTestHooks(context: vscode.ExtensionContext, { inspector, service, training, tree, hypotheses }: TestHookTargets): vscode.Disposable {
  if (context.extensionMode !== vscode.ExtensionMode.Test) return new vscode.Disposable(() => undefined);
  return vscode.Disposable.from(
    vscode.commands.registerCommand(TestCommands.treeSnapshot, () => treeSnapshot(tree)),
    // Compare: the side-by-side decomposition shown, the pair dashboards' titles, and a message as if the page posted it.
    vscode.commands.registerCommand(TestCommands.compareState, () => ({ sideBySide: compareState().sideBySide, pairTitles: compareState().pairTitles, pairDashboards: compareState().pairDashboards })),
    vscode.commands.registerCommand(TestCommands.postToCompare, (raw: unknown) => compareState().receive?.(raw)),
    vscode.commands.registerCommand(TestCommands.logFolder, () => context.logUri.fsPath),
    // Hands `raw` to the open welcome panel as if its page had posted it.
    vscode.commands.registerCommand(TestCommands.postToWelcome, async (raw: unknown) => {
      const panel = welcomePanel();
      return panel ? { delivered: true, refused: await panel.receive(raw) } : { delivered: false };
    }),
    vscode.commands.registerCommand(TestCommands.postToTokens, (raw: unknown) => inspector.tokenPanel?.receive(raw)),
    vscode.commands.registerCommand(TestCommands.tokenMessages, () => inspector.tokenPanel?.state.map((m) => m.type) ?? []),
    vscode.commands.registerCommand(TestCommands.lastAnalysis, () => service.lastAnalysis?.result),
    vscode.commands.registerCommand(TestCommands.lastDashboard, () => inspector.lastDashboard),
    vscode.commands.registerCommand(TestCommands.lastHypothesis, () => hypotheses.last),
    // Hands `raw` to the hypothesis panel as if its page had posted it; says what the panel last showed.
    vscode.commands.registerCommand(TestCommands.postToHypothesis, async (raw?: unknown) => {
      const panel = hypotheses.view;
      if (!panel) return { delivered: false };
      return { delivered: true, refused: raw === undefined ? undefined : await panel.receive(raw), shown: panel.state.map((m) => m.type) };
    }),
    vscode.commands.registerCommand(TestCommands.highlightState, () => inspector.highlighter.state),
    vscode.commands.registerCommand(TestCommands.killWorker, () => service.worker.terminate()),
    vscode.commands.registerCommand(TestCommands.loadWithoutPrompts, (saePath: string) => service.select({ saePath } satisfies LoadSelection)),
    // Starts a job without the quick picks, through the same progress and log path as Train SAE….
    vscode.commands.registerCommand(TestCommands.trainJob, (job: TrainJob) =>
      training.run({ kind: 'start', job: { ...job, data: job.data.kind === 'corpus' ? { ...job.data, cacheDir: training.cacheDir } : job.data } }, 'Training (test)'),
    ),
    // This window's runs in queue order: status, progress and how many curve points each holds; and which
    // run folders have a Training view open.
    vscode.commands.registerCommand(TestCommands.trainingRuns, () =>
      training.queue.runs.map((r) => ({ ...r.info, points: r.history.length, lastStep: r.history[r.history.length - 1]?.step ?? 0, viewOpen: training.views.has(r.info.outDir) })),
    ),
    // What closing the window does to the run training now: its worker is stopped without a final save.
    vscode.commands.registerCommand(TestCommands.stopTrainingNow, () => {
      const current = training.queue.current;
      return current ? training.queue.stopNow(current.id) : false;
    }),
    // Runs the Train SAE… dialogue taking every first choice and default, and says what it was offered.
    vscode.commands.registerCommand(TestCommands.trainDialogue, async () => {
      const asked: { title: string; labels: string[] }[] = [];
      const firstChoices: DialogueUi = {
        pick: async <T>(title: string, items: readonly Choice<T>[]) => {
          asked.push({ title, labels: items.map((i) => i.label) });
          return items[0]?.value;
        },
        askNumber: async (_title, value) => Number(value),
        chooseFolder: async () => undefined,
        confirmOverwrite: async () => false,
        warn: async (_message, options) => options[0],
      };
      const job = await training.askJob(firstChoices);
      return { job, asked };
    }),
  );
}
