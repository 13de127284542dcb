import type { FeatureDashboard } from '../../src/protocol/analysis';
import type { HostToWebview } from '../../src/protocol/webview';
import { button, el, fmt, pct } from './dom';
import { displayToken, initialState, reduce, type TokenViewState } from './state/tokenView';
import { postToHost } from './vscodeApi';

const SVG = 'http://www.w3.org/2000/svg';

/** The feature dashboard: label, statistics, activation histogram, logit effects, top examples. */
export class FeatureView {
  private state: TokenViewState = initialState;

  constructor(private readonly root: HTMLElement) {
    this.render();
  }

  dispatch(action: HostToWebview): void {
    this.state = reduce(this.state, action);
    this.render();
  }

  private render(): void {
    const s = this.state;
    const d = s.dashboard;
    const children: Node[] = [];
    if (s.analyzing !== undefined) children.push(el('p', { className: 'busy', text: `Computing ${s.analyzing} over the corpus…`, attrs: { role: 'status' } }));
    if (s.error) children.push(el('p', { className: 'error', text: s.error, attrs: { role: 'alert' } }));
    if (d) children.push(...this.dashboard(d));
    else if (!s.analyzing && !s.error) children.push(el('p', { className: 'muted', text: 'Run “Feature Lens: Show Feature…” or open a feature from the token view.' }));
    this.root.replaceChildren(...children);
  }

  private dashboard(d: FeatureDashboard): Node[] {
    const label = this.state.labels[d.feature] ?? d.label ?? '';
    const input = el('input', { attrs: { type: 'text', value: label, maxlength: '200', 'aria-label': `Label of feature ${d.feature}`, placeholder: 'Describe what this feature detects' } });
    const save = () => postToHost({ type: 'setLabel', feature: d.feature, label: input.value });
    input.addEventListener('keydown', (e) => e.key === 'Enter' && save());
    const stats = el(
      'dl',
      { className: 'stats' },
      ...[
        ['Firing density', `${pct(d.density)} of ${d.corpusTokens.toLocaleString()} tokens (${d.corpusName.split(/[\\/]/).pop()})`],
        ['Decoder norm', fmt(d.decoderNorm, 3)],
        ['Threshold', d.threshold !== undefined ? fmt(d.threshold, 3) : '— (no JumpReLU threshold)'],
        ['Site', `${d.site} · ${d.sae} · ${d.model}`],
      ].flatMap(([k, v]) => [el('dt', { text: k }), el('dd', { text: v })]),
    );
    return [
      el('h1', { text: `Feature #${d.feature}${label ? ` — ${label}` : ''}`, attrs: { 'data-testid': 'feature-title' } }),
      el('div', { className: 'label-editor' }, input, ' ', button('Save label', save)),
      stats,
      el('h2', { text: 'Activation histogram (when firing)' }),
      histogram(d.histogram),
      el('h2', { text: 'Logit effects' }),
      el('p', { className: 'muted', text: d.logitNote }),
      el('div', { className: 'columns' }, effects('Promoted', d.promoted), effects('Suppressed', d.suppressed)),
      el('h2', { text: `Top activating examples (${d.examples.length})` }),
      ...(d.examples.length === 0 ? [el('p', { className: 'muted', text: 'The feature never fires on this corpus.' })] : []),
      el(
        'ol',
        { className: 'examples', attrs: { 'data-testid': 'examples' } },
        ...d.examples.map((ex) => {
          const li = el('li', {}, el('span', { className: 'muted', text: `${fmt(ex.maxActivation)} · ${ex.source}  ` }));
          ex.tokens.forEach((t, i) => {
            const span = el(i === ex.peak ? 'mark' : 'span', { className: 'token fires', text: displayToken(t), attrs: { title: fmt(ex.activations[i]) } });
            span.style.setProperty('--a', (ex.maxActivation > 0 ? ex.activations[i] / ex.maxActivation : 0).toFixed(3));
            li.append(span);
          });
          return li;
        }),
      ),
    ];
  }
}

function effects(title: string, list: readonly { token: string; value: number }[]): HTMLElement {
  return el('div', {}, el('h3', { text: title }), el('ol', { className: 'effects' }, ...list.map((e) => el('li', { text: `${JSON.stringify(e.token)} ${fmt(e.value, 3)}` }))));
}

/** Plain SVG bars (no inline style: CSP-safe); colours come from the theme through CSS classes. */
function histogram(h: { edges: readonly number[]; counts: readonly number[] }): Element {
  const width = 320;
  const height = 100;
  const max = Math.max(1, ...h.counts);
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', `0 0 ${width} ${height + 14}`);
  svg.setAttribute('class', 'histogram');
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', `Histogram of ${h.counts.reduce((a, b) => a + b, 0)} firing activations from 0 to ${fmt(h.edges[h.edges.length - 1] ?? 0)}`);
  const w = width / Math.max(1, h.counts.length);
  h.counts.forEach((c, i) => {
    const r = document.createElementNS(SVG, 'rect');
    const bh = (c / max) * height;
    r.setAttribute('x', String(i * w + 0.5));
    r.setAttribute('y', String(height - bh));
    r.setAttribute('width', String(Math.max(1, w - 1)));
    r.setAttribute('height', String(bh));
    const title = document.createElementNS(SVG, 'title');
    title.textContent = `${fmt(h.edges[i])}–${fmt(h.edges[i + 1])}: ${c}`;
    r.append(title);
    svg.append(r);
  });
  for (const [x, anchor, text] of [[0, 'start', '0'], [width, 'end', fmt(h.edges[h.edges.length - 1] ?? 0)]] as const) {
    const t = document.createElementNS(SVG, 'text');
    t.setAttribute('x', String(x));
    t.setAttribute('y', String(height + 12));
    t.setAttribute('text-anchor', anchor);
    t.textContent = text;
    svg.append(t);
  }
  return svg;
}
