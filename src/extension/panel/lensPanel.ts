import * as vscode from 'vscode';
import { PROTOCOL_VERSION, parseWebviewMessage, WEBVIEW_RUNNABLE_COMMANDS, type HostToWebview, type WebviewKind, type WebviewToHost } from '../../protocol/webview';
import { log } from '../log';
import { webviewHtml, webviewOptions } from './html';

type Handled = Exclude<WebviewToHost, { type: 'ready' } | { type: 'runCommand' } | { type: 'log' }>;

/**
 * A webview panel speaking the webview protocol: it queues posts until the page says `ready`, replays the
 * latest state after a reload, validates every incoming message and hands the view-specific ones on.
 */
export class LensPanel implements vscode.Disposable {
  private ready = false;
  private readonly queue: HostToWebview[] = [];
  /** Latest message of each type, replayed when the page (re)loads. */
  private readonly latest = new Map<string, HostToWebview>();
  private readonly disposables: vscode.Disposable[] = [];
  private readonly disposed = new vscode.EventEmitter<void>();
  readonly onDidDispose = this.disposed.event;
  /** Everything posted, for the integration tests. */
  readonly posted: HostToWebview[] = [];

  constructor(
    readonly panel: vscode.WebviewPanel,
    private readonly context: vscode.ExtensionContext,
    private readonly view: WebviewKind,
    private readonly onMessage: (message: Handled) => void | Promise<void>,
  ) {
    panel.webview.html = webviewHtml(panel.webview, context.extensionUri, panel.title, view);
    panel.webview.onDidReceiveMessage((raw) => void this.receive(raw), undefined, this.disposables);
    panel.onDidDispose(() => this.dispose(), undefined, this.disposables);
  }

  static create(context: vscode.ExtensionContext, viewType: string, title: string, view: WebviewKind, onMessage: (m: Handled) => void | Promise<void>): LensPanel {
    const panel = vscode.window.createWebviewPanel(viewType, title, { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true }, webviewOptions(context.extensionUri));
    return new LensPanel(panel, context, view, onMessage);
  }

  post(message: HostToWebview): void {
    if (message.type !== 'error') this.latest.set(message.type, message);
    if (message.type === 'analysis') this.latest.delete('analyzing');
    this.posted.push(message);
    if (this.posted.length > 50) this.posted.shift();
    if (this.ready) void this.panel.webview.postMessage(message);
    else this.queue.push(message);
  }

  /** Handles a message as if the webview had posted it; returns why it was refused, if it was. */
  async receive(raw: unknown): Promise<string | undefined> {
    const parsed = parseWebviewMessage(raw);
    if (!parsed.ok) {
      log().error(`${this.panel.title}: refused a message from the webview: ${parsed.reason}`);
      return parsed.reason;
    }
    const message = parsed.value;
    switch (message.type) {
      case 'ready': {
        this.ready = true;
        void this.panel.webview.postMessage({ type: 'init', protocol: PROTOCOL_VERSION, view: this.view, version: String(this.context.extension.packageJSON.version ?? '') });
        const pending = this.queue.length > 0 ? this.queue.splice(0) : [...this.latest.values()];
        for (const m of pending) void this.panel.webview.postMessage(m);
        break;
      }
      case 'runCommand':
        if (WEBVIEW_RUNNABLE_COMMANDS.includes(message.command)) void vscode.commands.executeCommand(message.command);
        break;
      case 'log':
        if (message.level === 'error') log().error(`webview: ${message.message}`);
        else log().info(`webview: ${message.message}`);
        break;
      default:
        try {
          await this.onMessage(message);
        } catch (err) {
          this.post({ type: 'error', message: err instanceof Error ? err.message : String(err) });
        }
    }
    return undefined;
  }

  dispose(): void {
    for (const d of this.disposables.splice(0)) d.dispose();
    this.disposed.fire();
    this.disposed.dispose();
  }
}
