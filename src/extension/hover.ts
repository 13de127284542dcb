import * as vscode from 'vscode';
import { getConfig } from './config';
import type { LensService } from './services/lensService';

/** Opt-in (featureLens.hover.enabled): hovering a token of the last analysed range shows its top features. */
export function registerHover(service: LensService): vscode.Disposable {
  let registration: vscode.Disposable | undefined;
  const sync = () => {
    const enabled = getConfig().hoverEnabled;
    if (enabled && !registration) registration = vscode.languages.registerHoverProvider({ scheme: '*' }, { provideHover: (doc, pos) => hoverAt(service, doc, pos) });
    if (!enabled && registration) {
      registration.dispose();
      registration = undefined;
    }
  };
  sync();
  const sub = vscode.workspace.onDidChangeConfiguration((e) => e.affectsConfiguration('featureLens.hover.enabled') && sync());
  return new vscode.Disposable(() => {
    sub.dispose();
    registration?.dispose();
  });
}

export function hoverAt(service: LensService, doc: vscode.TextDocument, pos: vscode.Position): vscode.Hover | undefined {
  const last = service.lastAnalysis;
  if (!last || last.uri.toString() !== doc.uri.toString() || last.version !== doc.version) return undefined;
  const offset = doc.offsetAt(pos) - last.baseOffset;
  const token = last.result.tokens.find((t) => t.start <= offset && offset < t.end);
  if (!token) return undefined;
  const md = new vscode.MarkdownString();
  md.appendMarkdown(`**Feature Lens** · token \`${JSON.stringify(token.text)}\` · L0 ${token.l0} · reconstruction error ${(token.reconError * 100).toFixed(1)} %\n\n`);
  if (token.features.length === 0) md.appendMarkdown('_No feature fires here._');
  for (const f of token.features.slice(0, 5)) {
    const label = f.label ? ` ${f.label.replace(/[[\]*_`\\]/g, '')}${f.labelSource === 'auto' ? ' _(auto)_' : ''}` : '';
    md.appendMarkdown(`- #${f.id}${label}: ${f.activation.toFixed(2)} (${(f.share * 100).toFixed(0)} % of the reconstruction)\n`);
  }
  return new vscode.Hover(md, new vscode.Range(doc.positionAt(last.baseOffset + token.start), doc.positionAt(last.baseOffset + token.end)));
}
