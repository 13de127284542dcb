import { parseHostMessage } from '../../src/protocol/webview';
import { postToHost } from './vscodeApi';
import { renderWelcome, reportError } from './welcome';
import './main.css';

const root = document.getElementById('app') as HTMLElement;

window.addEventListener('message', (event: MessageEvent<unknown>) => {
  const parsed = parseHostMessage(event.data);
  if (!parsed.ok) {
    reportError(root, `Refused a message from the extension: ${parsed.error}`);
    return;
  }
  const message = parsed.message;
  switch (message.type) {
    case 'init':
      renderWelcome(root, message);
      break;
    case 'error':
      reportError(root, message.message);
      break;
  }
});

// The host waits for this before posting, so no message is lost while the page loads.
postToHost({ type: 'ready' });
