import * as vscode from 'vscode';
import { Commands } from '../protocol/commands';

export interface HighlightState {
  readonly uri: string;
  readonly feature: number;
  readonly label?: string;
  /** Tokens decorated, and the strongest activation among them. */
  readonly count: number;
  readonly max: number;
}

export interface ActivationRange {
  readonly range: vscode.Range;
  readonly activation: number;
}

// Four strengths from theme colours that themes already order by salience (word highlight < find match).
const LEVELS: readonly vscode.DecorationRenderOptions[] = [
  { backgroundColor: new vscode.ThemeColor('editor.wordHighlightBackground') },
  { backgroundColor: new vscode.ThemeColor('editor.wordHighlightStrongBackground') },
  { backgroundColor: new vscode.ThemeColor('editor.findMatchHighlightBackground') },
  { backgroundColor: new vscode.ThemeColor('editor.findMatchBackground'), fontWeight: 'bold' },
];

/** Editor decorations: where a feature fires (intensity by activation, with a legend) and the focused token. */
export class Highlighter implements vscode.Disposable {
  private readonly levels = LEVELS.map((o) =>
    vscode.window.createTextEditorDecorationType({ ...o, rangeBehavior: vscode.DecorationRangeBehavior.ClosedClosed, overviewRulerLane: vscode.OverviewRulerLane.Center, overviewRulerColor: new vscode.ThemeColor('editorOverviewRuler.findMatchForeground') }),
  );
  private readonly focus = vscode.window.createTextEditorDecorationType({
    backgroundColor: new vscode.ThemeColor('editor.selectionHighlightBackground'),
    border: '1px solid',
    borderColor: new vscode.ThemeColor('focusBorder'),
  });
  private readonly legend = vscode.window.createStatusBarItem('featureLens.legend', vscode.StatusBarAlignment.Left, 99);
  private current?: HighlightState;

  constructor() {
    this.legend.name = 'Feature Lens highlight';
    this.legend.command = Commands.clearHighlights;
  }

  /** What is decorated now; the legend shows it. */
  get state(): HighlightState | undefined {
    return this.current;
  }

  showFeature(editor: vscode.TextEditor, feature: number, label: string | undefined, ranges: readonly ActivationRange[]): void {
    const max = ranges.reduce((m, r) => Math.max(m, r.activation), 0);
    const buckets: vscode.DecorationOptions[][] = LEVELS.map(() => []);
    for (const r of ranges) {
      const level = max > 0 ? Math.min(LEVELS.length - 1, Math.floor((r.activation / max) * LEVELS.length)) : 0;
      buckets[level].push({ range: r.range, hoverMessage: `Feature #${feature}${label ? ` “${label}”` : ''}: ${r.activation.toFixed(3)}` });
    }
    this.levels.forEach((type, i) => editor.setDecorations(type, buckets[i]));
    this.current = { uri: editor.document.uri.toString(), feature, ...(label ? { label } : {}), count: ranges.length, max };
    this.showLegend(this.current);
  }

  private showLegend({ feature, label, count, max }: HighlightState): void {
    this.legend.text = `$(symbol-color) #${feature} · ${count} tokens · max ${max.toFixed(2)} $(close)`;
    this.legend.tooltip = new vscode.MarkdownString(
      `**Feature #${feature}**${label ? ` — ${label}` : ''}\n\nFires on ${count} tokens; strongest ${max.toFixed(3)}.\n\nFour shades from faint (< 25 % of the max) to bold (≥ 75 %). Click to clear.`,
    );
    this.legend.show();
  }

  focusRange(editor: vscode.TextEditor, range: vscode.Range): void {
    editor.setDecorations(this.focus, [range]);
    editor.revealRange(range, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
  }

  clear(): void {
    for (const editor of vscode.window.visibleTextEditors) {
      for (const t of this.levels) editor.setDecorations(t, []);
      editor.setDecorations(this.focus, []);
    }
    this.current = undefined;
    this.legend.hide();
  }

  dispose(): void {
    for (const t of this.levels) t.dispose();
    this.focus.dispose();
    this.legend.dispose();
  }
}
