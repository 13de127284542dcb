import * as vscode from 'vscode';
import { PROTOCOL_VERSION, parseWebviewMessage, type HostToWebview, type WebviewKind, type WebviewToHost } from '../../protocol/webview';
import { log } from '../log';
import { webviewHtml, webviewOptions } from './html';

/** What a view handles itself; ready, runCommand and log are the same for every view and handled here. */
export type ViewMessage = Exclude<WebviewToHost, { type: 'ready' } | { type: 'runCommand' } | { type: 'log' }>;

export interface PanelOptions {
  readonly viewType: string;
  readonly title: string;
  readonly view: WebviewKind;
  readonly column: { readonly viewColumn: vscode.ViewColumn; readonly preserveFocus?: boolean };
  readonly onMessage?: (message: ViewMessage) => void | Promise<void>;
  /** What a (re)loaded page gets instead of the latest message of each type (a view whose state grows). */
  readonly replay?: () => HostToWebview[];
}

/**
 * Every Feature Lens webview panel (welcome, tokens, feature): it speaks the webview protocol, queues
 * posts until the page says `ready`, replays the latest state after a reload, validates every incoming
 * message and hands the view-specific ones on.
 */
export class LensPanel implements vscode.Disposable {
  private ready = false;
  private readonly queue: HostToWebview[] = [];
  /** Latest message of each type, replayed when the page (re)loads. */
  private readonly latest = new Map<HostToWebview['type'], HostToWebview>();
  private readonly disposables: vscode.Disposable[] = [];
  private readonly disposed = new vscode.EventEmitter<void>();
  readonly onDidDispose = this.disposed.event;

  private constructor(
    readonly panel: vscode.WebviewPanel,
    private readonly context: vscode.ExtensionContext,
    private readonly options: PanelOptions,
  ) {
    panel.webview.html = webviewHtml(panel.webview, context.extensionUri, panel.title, options.view);
    panel.webview.onDidReceiveMessage((raw) => void this.receive(raw), undefined, this.disposables);
    panel.onDidDispose(() => this.dispose(), undefined, this.disposables);
  }

  static create(context: vscode.ExtensionContext, options: PanelOptions): LensPanel {
    const panel = vscode.window.createWebviewPanel(options.viewType, options.title, options.column, webviewOptions(context.extensionUri));
    return new LensPanel(panel, context, options);
  }

  post(message: HostToWebview): void {
    if (message.type !== 'error') this.latest.set(message.type, message);
    if (message.type === 'analysis') this.latest.delete('analyzing');
    if (this.ready) void this.panel.webview.postMessage(message);
    else this.queue.push(message);
  }

  /** The state a reload of the page shows: the latest message of each type. */
  get state(): readonly HostToWebview[] {
    return [...this.latest.values()];
  }

  /** Handles a message from the page; returns why it was refused (also logged), if it was. */
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
        void this.panel.webview.postMessage({
          type: 'init',
          protocol: PROTOCOL_VERSION,
          view: this.options.view,
          version: String(this.context.extension.packageJSON.version ?? ''),
        } satisfies HostToWebview);
        const queued = this.queue.splice(0);
        const pending = this.options.replay ? this.options.replay() : queued.length > 0 ? queued : this.state;
        for (const m of pending) void this.panel.webview.postMessage(m);
        break;
      }
      case 'runCommand':
        // The parser let through only commands the webview may run.
        void vscode.commands.executeCommand(message.command);
        break;
      case 'log':
        if (message.level === 'error') log().error(`webview: ${message.message}`);
        else log().info(`webview: ${message.message}`);
        break;
      default:
        try {
          await this.options.onMessage?.(message);
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
