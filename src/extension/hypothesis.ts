// "Test Hypothesis…": the hypothesis workbench in the editor. The user states a rule (a regular expression over
// token texts, a list of words, or the editor's selections as positive examples of it); the worker finds the
// features that detect it, with progress and cancel; the webview lists them with AUROC, precision and recall
// and the sparse probe, each feature opening its dashboard.
import * as vscode from 'vscode';
import type { Hypothesis, HypothesisResult } from '../protocol/hypothesis';
import { Commands } from '../protocol/commands';
import { getConfig } from './config';
import type { Inspector } from './inspector';
import { log } from './log';
import { LensPanel } from './panel/lensPanel';
import type { LensService } from './services/lensService';

/** Characters of the document kept around the selections when examples come from a long file. */
const EXAMPLE_MARGIN = 3000;

/** What the command accepts without asking (other commands and tests): one of the three kinds of rule. */
export interface HypothesisArgs {
  readonly regex?: string;
  readonly tokens?: readonly string[];
  readonly fromSelection?: boolean;
}

export class HypothesisWorkbench implements vscode.Disposable {
  private panel?: LensPanel;
  /** The last result shown (tests read it). */
  last?: HypothesisResult;
  private readonly registration: vscode.Disposable;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly service: LensService,
    private readonly inspector: Inspector,
  ) {
    this.registration = vscode.commands.registerCommand(Commands.testHypothesis, (args?: HypothesisArgs) => this.command(args));
  }

  get view(): LensPanel | undefined {
    return this.panel;
  }

  private async command(args?: HypothesisArgs): Promise<HypothesisResult | undefined> {
    const hypothesis = args ? this.fromArgs(args) : await this.ask();
    return hypothesis ? this.run(hypothesis) : undefined;
  }

  private fromArgs(args: HypothesisArgs): Hypothesis | undefined {
    if (args.regex !== undefined) return { kind: 'regex', pattern: args.regex };
    if (args.tokens !== undefined) return { kind: 'tokens', tokens: [...args.tokens] };
    if (args.fromSelection) return this.selectionExamples();
    return undefined;
  }

  private async ask(): Promise<Hypothesis | undefined> {
    const editor = vscode.window.activeTextEditor;
    const hasSelection = !!editor && editor.selections.some((s) => !s.isEmpty);
    const kinds: (vscode.QuickPickItem & { rule: Hypothesis['kind'] })[] = [
      { label: 'Regular expression over token texts…', detail: 'e.g. ^ ?[0-9]+$ marks number tokens', rule: 'regex' },
      { label: 'List of words…', detail: 'e.g. cat, dog, bird (case and spaces ignored)', rule: 'tokens' },
      ...(hasSelection ? [{ label: 'Selection as positive examples', detail: 'the selected tokens are where the rule holds; the rest of the file is not', rule: 'examples' as const }] : []),
    ];
    const choice = await vscode.window.showQuickPick(kinds, { placeHolder: 'Is there a feature for…? State the rule' });
    if (!choice) return undefined;
    if (choice.rule === 'examples') return this.selectionExamples();
    const value = await vscode.window.showInputBox({
      prompt: choice.rule === 'regex' ? 'Regular expression tested against each token text' : 'Words, comma-separated',
      validateInput: (v) => {
        if (!v.trim()) return 'Type a rule';
        if (choice.rule !== 'regex') return undefined;
        try {
          new RegExp(v, 'u');
          return undefined;
        } catch (err) {
          return err instanceof Error ? err.message : String(err);
        }
      },
    });
    if (!value) return undefined;
    return choice.rule === 'regex' ? { kind: 'regex', pattern: value } : { kind: 'tokens', tokens: value.split(',').map((t) => t.trim()).filter(Boolean) };
  }

  /** The active editor's selections as positive examples, within the text around them. */
  private selectionExamples(): Hypothesis | undefined {
    const editor = vscode.window.activeTextEditor;
    const selections = editor?.selections.filter((s) => !s.isEmpty) ?? [];
    if (!editor || selections.length === 0) {
      void vscode.window.showWarningMessage('Feature Lens: select the examples where the rule holds first.');
      return undefined;
    }
    const doc = editor.document;
    const spans = selections.map((s) => [doc.offsetAt(s.start), doc.offsetAt(s.end)] as const);
    const full = doc.getText();
    const from = Math.max(0, Math.min(...spans.map((r) => r[0])) - EXAMPLE_MARGIN);
    const to = Math.min(full.length, Math.max(...spans.map((r) => r[1])) + EXAMPLE_MARGIN);
    return { kind: 'examples', text: full.slice(from, to), ranges: spans.map(([a, b]) => [a - from, b - from] as const) };
  }

  private showPanel(): LensPanel {
    if (!this.panel) {
      const panel = LensPanel.create(this.context, {
        viewType: 'featureLens.hypothesis',
        title: 'Feature Lens: Hypothesis',
        view: 'hypothesis',
        column: { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
        onMessage: async (m) => {
          if (m.type === 'runHypothesis') await this.run(m.hypothesis);
          else if (m.type === 'openFeature') await this.inspector.showFeature(m.feature);
        },
      });
      panel.onDidDispose(() => (this.panel = undefined));
      this.panel = panel;
    }
    this.panel.panel.reveal(undefined, true);
    return this.panel;
  }

  async run(hypothesis: Hypothesis): Promise<HypothesisResult | undefined> {
    const panel = this.showPanel();
    const what = hypothesis.kind === 'examples' ? 'the selected examples' : hypothesis.kind === 'regex' ? `/${hypothesis.pattern}/` : hypothesis.tokens.join(', ');
    panel.post({ type: 'hypothesisRunning', description: what });
    try {
      await this.service.ensureLoaded();
      const result = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `Feature Lens: testing ${what}`, cancellable: true },
        (progress, token) =>
          this.service.worker.request({ kind: 'testHypothesis', hypothesis, top: 15, probe: 3, maxTokens: getConfig().maxTokens }, token, (raw) => {
            const p = raw as { phase?: unknown; done?: unknown; total?: unknown };
            if (typeof p?.phase === 'string' && typeof p.done === 'number' && typeof p.total === 'number') progress.report({ message: `${p.phase} ${p.total > 0 ? Math.round((100 * p.done) / p.total) : 0} %` });
          }),
      );
      this.last = result;
      panel.post({ type: 'hypothesisResult', result });
      log().info(`Hypothesis ${result.description}: best feature #${result.detectors[0]?.feature ?? '–'} (AUROC ${result.detectors[0]?.auroc.toFixed(3) ?? '–'})`);
      return result;
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      panel.post({ type: 'error', message: /cancel/i.test(message) ? 'Cancelled.' : message });
      if (!/cancel/i.test(message)) void vscode.window.showErrorMessage(`Feature Lens: ${message}`);
      return undefined;
    }
  }

  dispose(): void {
    this.registration.dispose();
    this.panel?.dispose();
  }
}
