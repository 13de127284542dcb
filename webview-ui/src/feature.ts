import type { FeatureDashboard } from '../../src/protocol/analysis';
import type { HostToWebview } from '../../src/protocol/webview';
import { button, el, fmt, pct } from './dom';
import { HistogramChart, onThemeChange } from './histogramChart';
import { displayToken, initialState, reduce, type TokenViewState } from './state/tokenView';
import { postToHost } from './vscodeApi';

/** The feature dashboard: label, statistics, activation histogram, logit effects, top examples. */
export class FeatureView {
  private state: TokenViewState = initialState;
  private chart: HistogramChart | undefined;

  constructor(private readonly root: HTMLElement) {
    this.render();
    onThemeChange(() => this.chart?.redraw());
  }

  dispatch(action: HostToWebview): void {
    this.state = reduce(this.state, action);
    this.render();
  }

  private render(): void {
    const s = this.state;
    const d = s.dashboard;
    const children: Node[] = [];
    this.chart?.destroy();
    this.chart = d ? new HistogramChart(d.histogram) : undefined;
    if (s.analyzing !== undefined) children.push(el('p', { className: 'busy', text: `Computing ${s.analyzing} over the corpus…`, attrs: { role: 'status' } }));
    if (s.error) children.push(el('p', { className: 'error', text: s.error, attrs: { role: 'alert' } }));
    if (d && this.chart) children.push(...this.dashboard(d, this.chart));
    else if (!s.analyzing && !s.error) children.push(el('p', { className: 'muted', text: 'Run “Feature Lens: Show Feature…” or open a feature from the token view.' }));
    this.root.replaceChildren(...children);
    // uPlot measures its container, so it draws only once the figure is in the document.
    this.chart?.redraw();
  }

  private dashboard(d: FeatureDashboard, chart: HistogramChart): Node[] {
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
      el('div', { className: 'label-editor' }, input, ' ', button('Save label', save), ' ', button('Steer with this feature', () => postToHost({ type: 'steerWithFeature', feature: d.feature }), { 'data-testid': 'steer-with-feature' }, 'secondary')),
      stats,
      el('h2', { text: 'Activation histogram (when firing)' }),
      chart.element,
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
