import type { HostToWebview } from '../../src/protocol/webview';
import { el } from './dom';
import { postToHost } from './vscodeApi';

type Init = Extract<HostToWebview, { type: 'init' }>;

/** Renders the welcome page with DOM calls (no innerHTML: nothing from the host is parsed as HTML). */
export function renderWelcome(root: HTMLElement, init: Init): void {
  const capabilities = [
    'Runs a small ONNX language model locally (bundled, offline).',
    'Trains and loads JumpReLU sparse autoencoders in a background worker.',
    'Shows per-token feature decompositions of the text you select.',
  ];
  root.replaceChildren(
    el('h1', { text: 'Feature Lens' }),
    el('p', { text: `Version ${init.version}`, className: 'muted' }),
    el('p', {
      text: 'Look inside a language model from your editor: select text, see which sparse-autoencoder features fire on each token, and train your own SAEs.',
    }),
    el('ul', { className: 'capabilities' }, ...capabilities.map((line) => el('li', { text: line }))),
  );
}

export function reportError(root: HTMLElement, message: string): void {
  root.append(el('p', { text: message, className: 'error', attrs: { role: 'alert' } }));
  postToHost({ type: 'log', level: 'error', message });
}
