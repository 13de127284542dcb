import type { FeatureDashboard, FeatureExample } from '../../src/protocol/analysis';
import type { FeatureTimeline } from '../../src/protocol/compare';
import type { HostToWebview } from '../../src/protocol/webview';
import { button, el, fmt, pct } from './dom';
import { HistogramChart, onThemeChange } from './histogramChart';
import { displayToken, initialState, reduce, type TokenViewState } from './state/tokenView';
import { postToHost } from './vscodeApi';

/** The feature dashboard: label, statistics, activation histogram, logit effects, top examples. */
export class FeatureView {
  private state: TokenViewState = initialState;
  private chart: HistogramChart | undefined;
  /** The feature's genealogy through its run's checkpoints, when the host sent one for this feature. */
  private timeline: (FeatureTimeline & { feature: number }) | undefined;

  constructor(private readonly root: HTMLElement) {
    this.render();
    onThemeChange(() => this.chart?.redraw());
  }

  dispatch(action: HostToWebview): void {
    if (action.type === 'timeline') this.timeline = action.timeline;
    else if (action.type === 'dashboard' && action.dashboard.feature !== this.timeline?.feature) this.timeline = undefined;
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
    // A label saved empty in this session removes the user's label: the automatic one shows again.
    const saved = this.state.labels[d.feature];
    const userLabel = saved !== undefined ? saved || undefined : d.labelSource === 'user' ? d.label : undefined;
    const label = userLabel ?? d.autoLabel?.label ?? '';
    const auto = userLabel === undefined && d.labelSource === 'auto';
    const input = el('input', { attrs: { type: 'text', value: userLabel ?? '', maxlength: '200', 'aria-label': `Label of feature ${d.feature}`, placeholder: d.autoLabel ? `Automatic: ${d.autoLabel.label}` : 'Describe what this feature detects' } });
    const save = () => postToHost({ type: 'setLabel', feature: d.feature, label: input.value });
    input.addEventListener('keydown', (e) => e.key === 'Enter' && save());
    const stats = el(
      'dl',
      { className: 'stats' },
      ...[
        ['Firing density', `${pct(d.density)} of ${d.corpusTokens.toLocaleString()} tokens (${d.corpusName.split(/[\\/]/).pop()})`],
        ...(d.maxActivation !== undefined ? [['Activation', `max ${fmt(d.maxActivation)} · mean when firing ${fmt(d.meanActivation ?? 0)}`]] : []),
        ['Decoder norm', fmt(d.decoderNorm, 3)],
        ['Threshold', d.threshold !== undefined ? fmt(d.threshold, 3) : '— (no JumpReLU threshold)'],
        ['Site', `${d.site} · ${d.sae} · ${d.model}`],
      ].flatMap(([k, v]) => [el('dt', { text: k }), el('dd', { text: v })]),
    );
    return [
      el('h1', { attrs: { 'data-testid': 'feature-title' } }, `Feature #${d.feature}${label ? ` — ${label}` : ''}`, ...(auto ? [el('span', { className: 'badge', text: 'auto' })] : [])),
      el('div', { className: 'label-editor' }, input, ' ', button('Save label', save), ' ', button('Steer with this feature', () => postToHost({ type: 'steerWithFeature', feature: d.feature }), { 'data-testid': 'steer-with-feature' }, 'secondary')),
      ...(d.indexPending ? [el('p', { className: 'muted', text: `${d.indexPending}. Automatic labels, activation bands and co-firing features appear once the index is built.`, attrs: { 'data-testid': 'index-pending' } })] : []),
      ...autoLabelBlock(d),
      stats,
      ...(this.timeline && this.timeline.feature === d.feature ? genealogyBlock(this.timeline) : []),
      el('h2', { text: 'Activation histogram (when firing)' }),
      chart.element,
      ...topTokens(d),
      el('h2', { text: 'Logit effects' }),
      el('p', { className: 'muted', text: d.logitNote }),
      ...(d.logitHistogram ? [el('p', { className: 'muted', text: `Effect over the whole vocabulary (${fmt(d.logitHistogram.edges[0], 2)} … ${fmt(d.logitHistogram.edges[d.logitHistogram.edges.length - 1], 2)}): ${sparkline(d.logitHistogram.counts)}` })] : []),
      el('div', { className: 'columns' }, effects('Promoted', d.promoted), effects('Suppressed', d.suppressed)),
      ...coactivations(d),
      el('h2', { text: `Top activating examples (${d.examples.length})` }),
      ...(d.examples.length === 0 ? [el('p', { className: 'muted', text: 'The feature never fires on this corpus.' })] : []),
      el(
        'ol',
        { className: 'examples', attrs: { 'data-testid': 'examples' } },
        ...d.examples.map((ex) => exampleItem(ex)),
      ),
      ...bandSamples(d),
    ];
  }
}

function exampleItem(ex: FeatureExample, scale = ex.maxActivation): HTMLElement {
  const li = el('li', {}, el('span', { className: 'muted', text: `${fmt(ex.maxActivation)} · ${ex.source}  ` }));
  ex.tokens.forEach((t, i) => {
    const span = el(i === ex.peak ? 'mark' : 'span', { className: 'token fires', text: displayToken(t), attrs: { title: fmt(ex.activations[i]) } });
    span.style.setProperty('--a', (scale > 0 ? Math.min(1, ex.activations[i] / scale) : 0).toFixed(3));
    li.append(span);
  });
  return li;
}

function autoLabelBlock(d: FeatureDashboard): Node[] {
  const a = d.autoLabel;
  if (!a) return [];
  const score = (name: string, v: number | undefined) => (v === undefined ? [] : [`${name} ${fmt(v, 2)}`]);
  const scores = [...score('detection AUROC of this rule', a.ruleAuroc), ...score('balanced accuracy', a.balancedAccuracy), ...score('simulation r', a.correlation), ...score('full explanation AUROC', a.auroc)];
  return [
    el(
      'div',
      { className: 'auto-label', attrs: { 'data-testid': 'auto-label' } },
      el('p', {}, el('strong', { text: 'Automatic label: ' }), a.label),
      el('p', { className: 'muted', text: `Rule: ${a.rule}` }),
      el('p', { className: 'muted scores', text: scores.length ? `Held-out scores (${a.heldoutFires} firings in ${a.heldoutTokens.toLocaleString()} tokens the explainer never saw): ${scores.join(' · ')}` : 'Not scored: the feature does not fire on the held-out text.' }),
    ),
  ];
}

function topTokens(d: FeatureDashboard): Node[] {
  if (!d.topTokens?.length) return [];
  return [
    el('h2', { text: 'Tokens it fires on most' }),
    el('ol', { className: 'effects', attrs: { 'data-testid': 'top-tokens' } }, ...d.topTokens.map((t) => el('li', { text: `${JSON.stringify(t.token)} ${t.fires}× · fires on ${pct(t.precision)} of its occurrences` }))),
  ];
}

function coactivations(d: FeatureDashboard): Node[] {
  if (!d.coactivations?.length) return [];
  return [
    el('h2', { text: 'Fires most often with' }),
    el(
      'ul',
      { className: 'effects', attrs: { 'data-testid': 'coactivations' } },
      ...d.coactivations.map((c) => el('li', {}, button(`#${c.feature}`, () => postToHost({ type: 'openFeature', feature: c.feature }), { 'aria-label': `Open the dashboard of feature ${c.feature}` }, 'link'), ` ${c.label ?? ''} · ${pct(c.share)} of its firings`)),
    ),
  ];
}

function bandSamples(d: FeatureDashboard): Node[] {
  if (!d.bandSamples?.length) return [];
  const bands = [...new Set(d.bandSamples.map((b) => b.band))].sort((a, b) => b - a);
  return [
    el('h2', { text: 'Samples by activation band' }),
    el('p', { className: 'muted', text: 'Random firings from ten equal-width bands of the activation range, strongest band first (as SAEDashboard shows them).' }),
    ...bands.map((band) => {
      const items = d.bandSamples!.filter((b) => b.band === band);
      return el('div', { className: 'bands' }, el('h3', { text: `${fmt(items[0].bandFrom)} – ${fmt(items[0].bandTo)}` }), el('ol', { className: 'examples' }, ...items.map((ex) => exampleItem(ex, d.maxActivation ?? ex.maxActivation))));
    }),
  ];
}

function sparkline(counts: readonly number[]): string {
  const max = Math.max(1, ...counts);
  return counts.map((c) => (c === 0 ? ' ' : '▁▂▃▄▅▆▇█'[Math.min(7, Math.floor((c / max) * 8))])).join('');
}

function effects(title: string, list: readonly { token: string; value: number }[]): HTMLElement {
  return el('div', {}, el('h3', { text: title }), el('ol', { className: 'effects' }, ...list.map((e) => el('li', { text: `${JSON.stringify(e.token)} ${fmt(e.value, 3)}` }))));
}

/** The feature's line through its run's checkpoints: its id at each one, and births, splits, merges, deaths. */
function genealogyBlock(t: FeatureTimeline): Node[] {
  const cells = t.checkpoints.map((c, i) => {
    const id = t.ids[i];
    const marks = t.marks.filter((m) => m.at === i).map((m) => m.text);
    return el(
      'li',
      { className: id === null ? 'absent' : '', attrs: { 'data-step': String(c.step ?? i), title: `${c.label}: ${id === null ? 'not present' : `#${id}`}${marks.length ? ` — ${marks.join('; ')}` : ''}` } },
      el('span', { className: 'when', text: c.label }),
      el('span', { className: 'id', text: id === null ? '—' : `#${id}` }),
      ...marks.map((m) => el('span', { className: 'mark', text: m })),
    );
  });
  return [el('h2', { text: 'Genealogy across the run’s checkpoints' }), el('ol', { className: 'timeline', attrs: { 'data-testid': 'genealogy' } }, ...cells)];
}
