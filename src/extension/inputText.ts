import * as vscode from 'vscode';

export interface InputText {
  readonly range: vscode.Range;
  readonly text: string;
  /** Why the text was cut, to tell the user. */
  readonly notice?: string;
}

/** The selection, or the current line when nothing is selected; refuses binary text, caps huge text. */
export function inputText(editor: vscode.TextEditor, maxChars: number): InputText | { error: string } {
  const doc = editor.document;
  let range: vscode.Range = editor.selection.isEmpty ? doc.lineAt(editor.selection.active.line).range : editor.selection;
  let text = doc.getText(range);
  if (text.trim().length === 0) return { error: 'Nothing to analyze: select some text (or put the cursor on a non-empty line).' };
  // NUL or many replacement characters: the file is binary or not text in this encoding.
  const replacement = (text.match(/\uFFFD/g) ?? []).length;
  if (text.includes('\u0000') || replacement > Math.max(8, text.length / 20)) {
    return { error: `${doc.fileName.split(/[\\/]/).pop()} looks binary; Feature Lens analyzes text only.` };
  }
  let notice: string | undefined;
  if (text.length > maxChars) {
    const start = doc.offsetAt(range.start);
    range = new vscode.Range(range.start, doc.positionAt(start + maxChars));
    notice = `The selection has ${text.length.toLocaleString()} characters; only the first ${maxChars.toLocaleString()} were analyzed (setting featureLens.maxSelectionChars).`;
    text = doc.getText(range);
  }
  return { range, text, ...(notice ? { notice } : {}) };
}
