import * as vscode from 'vscode';
import type { FeatureDashboard } from '../protocol/analysis';
import { RpcError } from '../protocol/rpc';
import { Commands } from '../protocol/commands';
import type { GenerationStep } from '../protocol/steering';
import type { WebviewToHost } from '../protocol/webview';
import { WorkerErrorCodes } from '../protocol/worker';
import { getConfig } from './config';
import { Highlighter, type ActivationRange } from './decorations';
import { reportIndexProgress } from './indexProgress';
import { inputText } from './inputText';
import { log } from './log';
import { LensPanel } from './panel/lensPanel';
import type { AnalyzedRange, LensService } from './services/lensService';

const TOKENS_VIEW = 'featureLens.tokens';
const FEATURE_VIEW = 'featureLens.feature';
const BESIDE = { column: { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true } } as const;

/**
 * "Inspect in the editor": analyze a selection into the token view, highlight tokens and features in the
 * editor, open feature dashboards and steer. Owns the two panels and the decorations.
 */
export class Inspector implements vscode.Disposable {
  private tokens?: LensPanel;
  private feature?: LensPanel;
  /** The running generation, cancelled by the panel's Cancel button or a new one. */
  private generation?: vscode.CancellationTokenSource;
  readonly highlighter = new Highlighter();

  static register(context: vscode.ExtensionContext, service: LensService): { inspector: Inspector; disposable: vscode.Disposable } {
    const inspector = new Inspector(context, service);
    const disposable = vscode.Disposable.from(
      inspector,
      vscode.commands.registerCommand(Commands.analyzeSelection, () => inspector.analyzeSelection()),
      vscode.commands.registerCommand(Commands.showFeature, (feature?: number) => inspector.showFeature(feature)),
      vscode.commands.registerCommand(Commands.highlightFeature, (feature?: number) => inspector.highlightFeatureInFile(feature)),
      vscode.commands.registerCommand(Commands.clearHighlights, () => inspector.clearHighlights()),
      service.worker.onDidCrash((reason) => inspector.tokens?.post({ type: 'error', message: `The analysis worker stopped (${reason}). Run Analyze Selection again to restart it.` })),
    );
    return { inspector, disposable };
  }

  private constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly service: LensService,
  ) {}

  /** The dashboard last shown. */
  lastDashboard?: FeatureDashboard;

  /** The token view, if it is open. */
  get tokenPanel(): LensPanel | undefined {
    return this.tokens;
  }

  async analyzeSelection(): Promise<AnalyzedRange | undefined> {
    const editor = vscode.window.activeTextEditor;
    if (!editor) {
      void vscode.window.showInformationMessage('Feature Lens: open a text editor and select some text to analyze.');
      return undefined;
    }
    const input = inputText(editor, getConfig().maxSelectionChars);
    if ('error' in input) {
      void vscode.window.showWarningMessage(`Feature Lens: ${input.error}`);
      return undefined;
    }
    if (input.notice) void vscode.window.showWarningMessage(`Feature Lens: ${input.notice}`);
    const panel = this.tokenPanel ?? this.openTokens();
    panel.panel.reveal(vscode.ViewColumn.Beside, true);
    panel.post({ type: 'analyzing', text: input.text.slice(0, 200) });
    this.highlighter.clear();
    try {
      const analysed = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Window, title: 'Feature Lens: analyzing', cancellable: true },
        (_progress, token) => this.service.analyze(editor.document, input.range, input.text, token),
      );
      this.postStatus(panel);
      panel.post({ type: 'analysis', result: analysed.result });
      if (analysed.result.truncatedFrom !== undefined) {
        void vscode.window.showWarningMessage(
          `Feature Lens: the text has ${analysed.result.truncatedFrom} tokens; the first ${analysed.result.tokens.length} were analyzed (setting featureLens.maxTokens).`,
        );
      }
      return analysed;
    } catch (err) {
      this.reportError(err, panel);
      return undefined;
    }
  }

  private openTokens(): LensPanel {
    const panel = LensPanel.create(this.context, { ...BESIDE, viewType: TOKENS_VIEW, title: 'Feature Lens: Tokens', view: 'tokens', onMessage: async (m) => {
      switch (m.type) {
        case 'focusToken':
          this.focusToken(m.index);
          break;
        case 'selectFeature':
          this.selectFeature(m.feature);
          break;
        case 'openFeature':
          await this.showFeature(m.feature);
          break;
        case 'steer': {
          const last = this.service.lastAnalysis;
          if (!last) throw new Error('Analyze some text first.');
          const result = await this.service.worker.request({ kind: 'steer', text: last.result.text, feature: m.feature, value: m.value, topK: 8 });
          panel.post({ type: 'steering', result });
          break;
        }
        case 'setLabel':
          await this.setLabel(m.feature, m.label);
          break;
        case 'attribute':
          await this.attribute(panel, m.index, m.target);
          break;
        case 'generate':
          await this.generate(panel, m);
          break;
        case 'cancelGeneration':
          this.generation?.cancel();
          break;
      }
    } });
    panel.onDidDispose(() => {
      this.tokens = undefined;
      this.generation?.cancel();
    });
    this.tokens = panel;
    this.postStatus(panel);
    return panel;
  }

  /** "Why this prediction?": exact attribution of the prediction at a token of the analysed text. */
  private async attribute(panel: LensPanel, index: number, target?: string): Promise<void> {
    const last = this.service.lastAnalysis;
    if (!last) throw new Error('Analyze some text first.');
    panel.post({ type: 'attributing', position: index });
    try {
      const result = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Window, title: 'Feature Lens: attributing', cancellable: true },
        (_p, token) =>
          this.service.worker.request({ kind: 'attribute', text: last.result.text, position: index, upTo: true, ...(target ? { target: { text: target } } : {}) }, token),
      );
      panel.post({ type: 'attribution', result });
    } catch (err) {
      this.reportError(err, panel);
    }
  }

  /** Clean and steered continuations of the analysed text, streamed token by token; one at a time. */
  private async generate(panel: LensPanel, m: Extract<WebviewToHost, { type: 'generate' }>): Promise<void> {
    const last = this.service.lastAnalysis;
    if (!last) throw new Error('Analyze some text first.');
    this.generation?.cancel();
    const cts = new vscode.CancellationTokenSource();
    this.generation = cts;
    try {
      const result = await this.service.worker.request(
        { kind: 'generate', text: last.result.text, maxNewTokens: m.maxNewTokens, interventions: m.interventions, sampling: m.sampling },
        cts.token,
        (step) => panel.post({ type: 'generationStep', step: step as GenerationStep }),
      );
      panel.post({ type: 'generationDone', result });
      if (result.windowNote) void vscode.window.showInformationMessage(`Feature Lens: ${result.windowNote}`);
    } catch (err) {
      panel.post({ type: 'generationDone', result: null });
      this.reportError(err, panel);
    } finally {
      if (this.generation === cts) this.generation = undefined;
      cts.dispose();
    }
  }

  /** From the dashboard: the token view's steering form with this feature. */
  private steerWithFeature(feature: number): void {
    if (!this.tokens || !this.service.lastAnalysis) {
      void vscode.window.showInformationMessage('Feature Lens: analyze some text first (Analyze Selection), then steer it with this feature.');
      return;
    }
    this.tokens.panel.reveal(undefined, false);
    this.tokens.post({ type: 'steerFrom', position: 0, feature });
  }

  private postStatus(panel: LensPanel): void {
    const info = this.service.loaded;
    if (info) panel.post({ type: 'status', model: info.model, ...(info.sae ? { sae: info.sae } : {}), site: info.site });
  }

  /** The editor showing the analysed document, if any. */
  private analysedEditor(last: AnalyzedRange): vscode.TextEditor | undefined {
    return vscode.window.visibleTextEditors.find((e) => e.document.uri.toString() === last.uri.toString());
  }

  private rangeOf(doc: vscode.TextDocument, last: AnalyzedRange, start: number, end: number): vscode.Range {
    return new vscode.Range(doc.positionAt(last.baseOffset + start), doc.positionAt(last.baseOffset + end));
  }

  focusToken(index: number): void {
    const last = this.service.lastAnalysis;
    const token = last?.result.tokens[index];
    if (!last || !token) return;
    const editor = this.analysedEditor(last);
    if (!editor) return;
    this.highlighter.focusRange(editor, this.rangeOf(editor.document, last, token.start, token.end));
  }

  /** Decorates the analysed range where `feature` fires, from the analysis already in hand. */
  selectFeature(feature: number | null): void {
    const last = this.service.lastAnalysis;
    if (feature === null || !last) {
      this.highlighter.clear();
      this.tokens?.post({ type: 'featureSelected', feature: null });
      return;
    }
    const { active, tokens } = last.result;
    const ranges: { start: number; end: number; activation: number }[] = [];
    tokens.forEach((t, i) => {
      for (let e = active.rowStart[i]; e < active.rowStart[i + 1]; e++) {
        if (active.featureIds[e] === feature) ranges.push({ start: t.start, end: t.end, activation: active.values[e] });
      }
    });
    const editor = this.analysedEditor(last);
    if (editor) {
      const label = tokens.flatMap((t) => t.features).find((f) => f.id === feature)?.label;
      this.highlighter.showFeature(editor, feature, label, ranges.map((r) => ({ range: this.rangeOf(editor.document, last, r.start, r.end), activation: r.activation })));
    }
    this.tokens?.post({ type: 'featureSelected', feature });
  }

  async highlightFeatureInFile(feature?: number): Promise<void> {
    const editor = vscode.window.activeTextEditor;
    if (!editor) return;
    const id = feature ?? (await askFeature('Feature to highlight in this file'));
    if (id === undefined) return;
    try {
      await this.service.ensureLoaded();
      const text = editor.document.getText().slice(0, getConfig().maxSelectionChars);
      const occ = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Window, title: `Feature Lens: highlighting #${id}`, cancellable: true },
        (_p, token) => this.service.worker.request({ kind: 'highlight', text, feature: id, maxTokens: getConfig().maxTokens }, token),
      );
      const doc = editor.document;
      const ranges: ActivationRange[] = occ.ranges.map((r) => ({ range: new vscode.Range(doc.positionAt(r.start), doc.positionAt(r.end)), activation: r.activation }));
      this.highlighter.showFeature(editor, id, undefined, ranges);
      if (ranges.length === 0) void vscode.window.showInformationMessage(`Feature Lens: feature #${id} does not fire in the first ${text.length} characters of this file.`);
    } catch (err) {
      this.reportError(err);
    }
  }

  clearHighlights(): void {
    this.highlighter.clear();
    this.tokens?.post({ type: 'featureSelected', feature: null });
  }

  private indexBuild?: Promise<void>;

  async showFeature(feature?: number): Promise<void> {
    const id = feature ?? (await askFeature('Feature to show'));
    if (id === undefined) return;
    if (!this.feature) {
      const panel = LensPanel.create(this.context, {
        ...BESIDE,
        viewType: FEATURE_VIEW,
        title: 'Feature Lens: Feature',
        view: 'feature',
        onMessage: async (m) => {
          if (m.type === 'setLabel') await this.setLabel(m.feature, m.label);
          else if (m.type === 'openFeature') await this.showFeature(m.feature);
          else if (m.type === 'steerWithFeature') this.steerWithFeature(m.feature);
        },
      });
      panel.onDidDispose(() => (this.feature = undefined));
      this.feature = panel;
    }
    const panel = this.feature;
    panel.panel.title = `Feature #${id}`;
    panel.panel.reveal(undefined, true);
    panel.post({ type: 'analyzing', text: `feature #${id}` });
    try {
      await this.service.ensureLoaded();
      const dashboard = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `Feature Lens: feature #${id} over the corpus`, cancellable: true },
        (progress, token) => this.service.worker.request({ kind: 'showFeature', feature: id, examples: 12 }, token, (p) => reportIndexProgress(progress, p)),
      );
      this.lastDashboard = dashboard;
      panel.post({ type: 'dashboard', dashboard });
      if (dashboard.indexPending) this.buildIndexInBackground();
      // The feature's genealogy, when the SAE is a checkpoint of a run that kept its history.
      const saePath = this.service.loaded?.sae?.path;
      if (saePath) {
        void this.service.worker.request({ kind: 'timeline', path: saePath, feature: id }).then(
          (timeline) => timeline && panel.post({ type: 'timeline', timeline }),
          (err: unknown) => log().info(`Feature Lens: no genealogy for feature #${id}: ${err instanceof Error ? err.message : String(err)}`),
        );
      }
    } catch (err) {
      this.reportError(err, panel);
    }
  }

  /**
   * Builds the missing feature index after a dashboard answered from a quick scan: in the worker, beside the
   * queue (analyses keep answering), with progress and cancel; then reopens the dashboard from the index.
   */
  private buildIndexInBackground(): void {
    if (this.indexBuild) return;
    this.indexBuild = (async () => {
      try {
        await vscode.window.withProgress(
          { location: vscode.ProgressLocation.Notification, title: 'Feature Lens: building the feature index (dashboards use a quick scan meanwhile)', cancellable: true },
          (progress, token) => this.service.worker.request({ kind: 'buildIndex' }, token, (p) => reportIndexProgress(progress, p)),
        );
        const shown = this.lastDashboard;
        if (this.feature && shown?.indexPending) await this.showFeature(shown.feature);
      } catch (err) {
        this.reportError(err);
      } finally {
        this.indexBuild = undefined;
      }
    })();
  }

  private async setLabel(feature: number, label: string): Promise<void> {
    const { saved } = await this.service.worker.request({ kind: 'setLabel', feature, label });
    log().info(`Feature #${feature} labelled "${label}" in ${saved}`);
    this.tokens?.post({ type: 'labelSaved', feature, label });
    this.feature?.post({ type: 'labelSaved', feature, label });
  }

  reportError(err: unknown, panel?: LensPanel): void {
    const message = err instanceof Error ? err.message : String(err);
    const code = err instanceof RpcError ? err.code : undefined;
    if (code === 'cancelled') return;
    panel?.post({ type: 'error', message });
    log().error(`Feature Lens: ${message}`);
    const pending = this.service.loaded?.saeChoice;
    if (code === WorkerErrorCodes.noSae && pending) {
      // The SAE is read but waits for the user's choice of hook or site.
      const action = pending.kind === 'site' ? 'Select Hook Site' : 'Load SAE…';
      void vscode.window.showWarningMessage(`Feature Lens: ${message}`, action).then((choice) => {
        if (choice === 'Select Hook Site') void vscode.commands.executeCommand(Commands.selectHookSite);
        if (choice === 'Load SAE…') void vscode.commands.executeCommand(Commands.loadSae, pending.path);
      });
    } else if (code === WorkerErrorCodes.noSae) {
      void vscode.window.showWarningMessage(`Feature Lens: ${message}`, 'Load SAE…', 'Use Bundled SAE').then((choice) => {
        if (choice === 'Load SAE…') void vscode.commands.executeCommand(Commands.loadSae);
        if (choice === 'Use Bundled SAE') void this.service.select({ saePath: undefined });
      });
    } else {
      void vscode.window.showErrorMessage(`Feature Lens: ${message}`);
    }
  }

  dispose(): void {
    this.generation?.cancel();
    this.tokens?.panel.dispose();
    this.feature?.panel.dispose();
    this.highlighter.dispose();
  }
}

async function askFeature(prompt: string): Promise<number | undefined> {
  const value = await vscode.window.showInputBox({
    prompt,
    placeHolder: 'feature id, e.g. 42',
    validateInput: (v) => (/^\d+$/.test(v.trim()) ? undefined : 'a non-negative integer'),
  });
  return value === undefined ? undefined : Number(value.trim());
}
