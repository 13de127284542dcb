import * as vscode from 'vscode';
import { PROTOCOL_VERSION, parseWebviewMessage, type HostToWebview } from '../../protocol/webview';
import { Commands } from '../commands';
import { log } from '../log';
import { webviewHtml, webviewOptions } from './html';

const VIEW_TYPE = 'featureLens.welcome';

/** A single themed welcome page that says what the extension can do and what is loaded. */
export class WelcomePanel {
  private static current: WelcomePanel | undefined;

  static register(context: vscode.ExtensionContext): vscode.Disposable {
    return vscode.commands.registerCommand(Commands.showWelcome, () => WelcomePanel.show(context));
  }

  static show(context: vscode.ExtensionContext): WelcomePanel {
    if (WelcomePanel.current) {
      WelcomePanel.current.panel.reveal();
      return WelcomePanel.current;
    }
    const panel = vscode.window.createWebviewPanel(VIEW_TYPE, 'Feature Lens', vscode.ViewColumn.Active, webviewOptions(context.extensionUri));
    WelcomePanel.current = new WelcomePanel(panel, context);
    return WelcomePanel.current;
  }

  /** Test hook: hands `raw` to the open panel as if its webview had posted it. */
  static receiveForTest(raw: unknown): { delivered: boolean; refused?: string } {
    if (!WelcomePanel.current) return { delivered: false };
    return { delivered: true, refused: WelcomePanel.current.onMessage(raw) };
  }

  private readonly disposables: vscode.Disposable[] = [];

  private constructor(
    private readonly panel: vscode.WebviewPanel,
    private readonly context: vscode.ExtensionContext,
  ) {
    panel.webview.html = webviewHtml(panel.webview, context.extensionUri, 'Feature Lens', 'welcome');
    panel.webview.onDidReceiveMessage((raw) => this.onMessage(raw), undefined, this.disposables);
    panel.onDidDispose(() => this.dispose(), undefined, this.disposables);
  }

  private post(message: HostToWebview): void {
    void this.panel.webview.postMessage(message);
  }

  /** Returns why a message was refused (also logged), or undefined when it was handled. */
  private onMessage(raw: unknown): string | undefined {
    const parsed = parseWebviewMessage(raw);
    if (!parsed.ok) {
      log().error(`Welcome panel: refused a message from the webview: ${parsed.reason}`);
      return parsed.reason;
    }
    const message = parsed.value;
    switch (message.type) {
      case 'ready':
        this.post({
          type: 'init',
          protocol: PROTOCOL_VERSION,
          view: 'welcome',
          version: String(this.context.extension.packageJSON.version ?? ''),
        });
        break;
      case 'runCommand':
        void vscode.commands.executeCommand(message.command);
        break;
      case 'log':
        if (message.level === 'error') log().error(`webview: ${message.message}`);
        else log().info(`webview: ${message.message}`);
        break;
    }
    return undefined;
  }

  private dispose(): void {
    WelcomePanel.current = undefined;
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}
