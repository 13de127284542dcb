import type { WebviewToHost } from '../../src/protocol/webview';

// acquireVsCodeApi may be called only once per page.
const api = acquireVsCodeApi();

export function postToHost(message: WebviewToHost): void {
  api.postMessage(message);
}
