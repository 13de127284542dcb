import type { HostToWebview } from '../../src/protocol/webview';
import { postToHost } from './vscodeApi';

type Init = Extract<HostToWebview, { type: 'init' }>;

/** Renders the welcome page with DOM calls (no innerHTML: nothing from the host is parsed as HTML). */
export function renderWelcome(root: HTMLElement, init: Init): void {
  root.replaceChildren();
  const h1 = el('h1', 'Feature Lens');
  const version = el('p', `Version ${init.version}`, 'muted');
  const intro = el(
    'p',
    'Look inside a language model from your editor: select text, see which sparse-autoencoder features fire on each token, and train your own SAEs.',
  );
  const list = document.createElement('ul');
  list.className = 'capabilities';
  for (const line of [
    'Runs a small ONNX language model locally (bundled, offline).',
    'Trains and loads JumpReLU sparse autoencoders in a background worker.',
    'Shows per-token feature decompositions of the text you select.',
  ]) {
    list.append(el('li', line));
  }
  root.append(h1, version, intro, list);
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, text: string, className?: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  node.textContent = text;
  if (className) node.className = className;
  return node;
}

export function reportError(root: HTMLElement, message: string): void {
  const p = el('p', message, 'error');
  p.setAttribute('role', 'alert');
  root.append(p);
  postToHost({ type: 'log', level: 'error', message });
}
