import * as vscode from 'vscode';

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
  /** What is decorated now, for tests and for the legend. */
  private current?: { uri: string; feature: number; count: number; max: number };

  constructor() {
    this.legend.name = 'Feature Lens highlight';
    this.legend.command = 'featureLens.clearHighlights';
  }

  get state(): { uri: string; feature: number; count: number; max: number } | undefined {
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
    this.current = { uri: editor.document.uri.toString(), feature, count: ranges.length, max };
    this.legend.text = `$(symbol-color) #${feature} · ${ranges.length} tokens · max ${max.toFixed(2)} $(close)`;
    this.legend.tooltip = new vscode.MarkdownString(
      `**Feature #${feature}**${label ? ` — ${label}` : ''}\n\nFires on ${ranges.length} tokens; strongest ${max.toFixed(3)}.\n\nFour shades from faint (< 25 % of the max) to bold (≥ 75 %). Click to clear.`,
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
