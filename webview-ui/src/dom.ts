// Small DOM helpers: text only (nothing from the host is ever parsed as HTML).

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: { text?: string; className?: string; attrs?: Record<string, string> } = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (props.text !== undefined) node.textContent = props.text;
  if (props.className) node.className = props.className;
  for (const [k, v] of Object.entries(props.attrs ?? {})) node.setAttribute(k, v);
  node.append(...children);
  return node;
}

export function button(text: string, onClick: () => void, attrs: Record<string, string> = {}, className = ''): HTMLButtonElement {
  const b = el('button', { text, attrs: { type: 'button', ...attrs }, className });
  b.addEventListener('click', onClick);
  return b;
}

export function fmt(n: number, digits = 2): string {
  return Number.isFinite(n) ? n.toFixed(digits) : '–';
}

export function pct(n: number): string {
  return `${(n * 100).toFixed(0)} %`;
}
