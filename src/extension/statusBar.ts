import * as vscode from 'vscode';
import { Commands } from '../protocol/commands';
import type { LensService } from './services/lensService';

/** Shows what is loaded: model · site · SAE; clicking offers to change it. */
export class LensStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('featureLens.status', vscode.StatusBarAlignment.Right, 100);
  private readonly sub: vscode.Disposable;

  constructor(private readonly service: LensService) {
    this.item.name = 'Feature Lens';
    this.item.command = Commands.loadSae;
    this.sub = service.onDidChange(() => this.update());
    this.update();
    this.item.show();
  }

  update(): void {
    const info = this.service.loaded;
    if (!info) {
      this.item.text = '$(telescope) Feature Lens';
      this.item.tooltip = 'Feature Lens: nothing loaded yet (loads on first analysis)';
      return;
    }
    const sae = info.sae ? info.sae.name : 'no SAE';
    this.item.text = `$(telescope) ${info.model.name} · ${info.site} · ${sae}`;
    const md = new vscode.MarkdownString(
      `**Model** ${info.model.name} (${info.model.layers} layers, d_model ${info.model.dModel})\n\n**Site** ${info.site}\n\n**SAE** ${
        info.sae ? `${info.sae.name} — ${info.sae.architecture}, d_sae ${info.sae.dSae}` : info.saeProblem ?? 'none'
      }\n\n[Select Model](command:${Commands.selectModel}) · [Select Hook Site](command:${Commands.selectHookSite}) · [Load SAE…](command:${Commands.loadSae})`,
    );
    md.isTrusted = { enabledCommands: [Commands.selectModel, Commands.selectHookSite, Commands.loadSae] };
    this.item.tooltip = md;
  }

  dispose(): void {
    this.sub.dispose();
    this.item.dispose();
  }
}
