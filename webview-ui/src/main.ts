import { parseHostMessage } from '../../src/protocol/webview';
import { CompareView } from './compare';
import { FeatureView } from './feature';
import { HypothesisView } from './hypothesis';
import { TokenView } from './tokens';
import { TrainingView } from './training';
import { postToHost } from './vscodeApi';
import { renderWelcome, reportError } from './welcome';
import './main.css';

const root = document.getElementById('app') as HTMLElement;
const view = document.body.dataset.view;
// Each page hosts one view; the welcome page keeps its own renderer.
const lens =
  view === 'tokens'
    ? new TokenView(root)
    : view === 'feature'
      ? new FeatureView(root)
      : view === 'compare'
        ? new CompareView(root)
        : view === 'training'
          ? new TrainingView(root)
          : view === 'hypothesis'
            ? new HypothesisView(root)
            : undefined;

window.addEventListener('message', (event: MessageEvent<unknown>) => {
  const parsed = parseHostMessage(event.data);
  if (!parsed.ok) {
    reportError(root, `Refused a message from the extension: ${parsed.reason}`);
    return;
  }
  const message = parsed.value;
  if (lens) {
    if (message.type !== 'init') lens.dispatch(message);
    return;
  }
  switch (message.type) {
    case 'init':
      renderWelcome(root, message);
      break;
    case 'error':
      reportError(root, message.message);
      break;
    default:
      break;
  }
});

// The host waits for this before posting, so no message is lost while the page loads.
postToHost({ type: 'ready' });
