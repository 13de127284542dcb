import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { CheckpointComparison, FeatureMatching } from '../../src/protocol/compare';
import type { HostToWebview } from '../../src/protocol/webview';
import { el } from './dom';
import { onThemeChange } from './histogramChart';

function themeColor(name: string, fallback: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;
}

const num = (v: number | undefined, digits = 4) => (v === undefined || !Number.isFinite(v) ? '–' : v.toPrecision(digits));

/**
 * Compare Checkpoints: the metrics table, L0 against FVU (each checkpoint a point; the paper's Pareto view)
 * and the feature matching between the first two. Every number drawn is also in a table, for screen readers
 * and for tests.
 */
export class CompareView {
  private busy: string | undefined;
  private error: string | undefined;
  private comparison: CheckpointComparison | undefined;
  private plot: uPlot | undefined;
  private plotHost: HTMLElement | undefined;

  constructor(private readonly root: HTMLElement) {
    this.render();
    onThemeChange(() => this.drawPlot());
  }

  dispatch(message: HostToWebview): void {
    if (message.type === 'comparing') {
      this.busy = message.message;
      this.error = undefined;
    } else if (message.type === 'comparison') {
      this.busy = undefined;
      this.comparison = message.comparison;
    } else if (message.type === 'error') {
      this.busy = undefined;
      this.error = message.message;
    } else {
      return;
    }
    this.render();
  }

  private render(): void {
    const children: Node[] = [];
    if (this.busy) children.push(el('p', { className: 'busy', text: this.busy, attrs: { role: 'status' } }));
    if (this.error) children.push(el('p', { className: 'error', text: this.error, attrs: { role: 'alert' } }));
    const c = this.comparison;
    this.plotHost = undefined;
    if (c) {
      children.push(el('h1', { text: `Compare checkpoints — ${c.site}`, attrs: { 'data-testid': 'compare-title' } }));
      children.push(el('p', { className: 'muted', text: `d_in ${c.dIn}; evaluated on ${c.evalSet}` }));
      children.push(this.table(c));
      children.push(el('h2', { text: 'L0 against FVU' }));
      this.plotHost = el('div', { className: 'histogram-plot', attrs: { 'data-testid': 'compare-plot', 'aria-hidden': 'true' } });
      children.push(el('figure', { className: 'histogram' }, this.plotHost));
      if (c.matching) children.push(...this.matching(c.matching));
    } else if (!this.busy && !this.error) {
      children.push(el('p', { className: 'muted', text: 'Run “Feature Lens: Compare Checkpoints…”.' }));
    }
    this.root.replaceChildren(...children);
    this.drawPlot();
  }

  private table(c: CheckpointComparison): HTMLElement {
    const head = ['SAE', 'Architecture', 'd_sae', 'L0', 'FVU', 'ΔLM loss', 'Loss recovered', 'KL', 'Dead', 'Dense'];
    return el(
      'table',
      { className: 'features', attrs: { 'data-testid': 'compare-table' } },
      el('thead', {}, el('tr', {}, ...head.map((h) => el('th', { text: h, attrs: { scope: 'col' } })))),
      el(
        'tbody',
        {},
        ...c.checkpoints.map((x) => {
          const m = x.metrics;
          return el(
            'tr',
            { attrs: { 'data-path': x.path, title: `${x.path}${x.cached ? ' (metrics from the cache)' : ''}` } },
            ...[x.label, x.architecture, String(x.dSae), num(m.l0), num(m.fvu, 3), num(m.deltaLoss, 3), num(m.lossRecovered, 3), num(m.kl, 3), String(m.deadFeatures), String(m.denseFeatures)].map((v, i) =>
              el('td', { text: v, attrs: { 'data-col': head[i] } }),
            ),
          );
        }),
      ),
    );
  }

  private matching(m: FeatureMatching): Node[] {
    const total = m.pairs.length + m.unmatchedA.length - m.pairs.filter((p) => m.unmatchedA.includes(p.a)).length;
    const hist = m.bestCosHistogram;
    const shown = hist.counts.map((n, i) => ({ n, from: hist.edges[i], to: hist.edges[i + 1] })).filter((b) => b.n > 0);
    const peak = Math.max(1, ...hist.counts);
    return [
      el('h2', { text: `Feature matching: ${m.a} → ${m.b}` }),
      el('p', { className: 'muted', text: `Decoder-direction cosine, ${m.method} one-to-one over ${total} features of ${m.a}.` }),
      el(
        'table',
        { className: 'features', attrs: { 'data-testid': 'matching-counts' } },
        el('thead', {}, el('tr', {}, el('th', { text: 'Cosine ≥', attrs: { scope: 'col' } }), el('th', { text: 'Matched pairs', attrs: { scope: 'col' } }))),
        el('tbody', {}, ...m.matchedAbove.map((t) => el('tr', { attrs: { 'data-threshold': String(t.threshold) } }, el('td', { text: String(t.threshold) }), el('td', { text: String(t.count), attrs: { 'data-count': String(t.count) } })))),
      ),
      el('h3', { text: 'Best-match cosine of each feature' }),
      el(
        'table',
        { className: 'features', attrs: { 'data-testid': 'matching-histogram' } },
        el('tbody', {}, ...shown.map((b) => el('tr', {}, el('td', { text: `${b.from.toFixed(1)} – ${b.to.toFixed(1)}` }), el('td', { text: '█'.repeat(Math.max(1, Math.round((20 * b.n) / peak))) }), el('td', { text: String(b.n) })))),
      ),
      el(
        'p',
        { attrs: { 'data-testid': 'unmatched' } },
        `Unmatched below cosine ${m.matchedAbove[0]?.threshold ?? ''}: ${m.unmatchedA.length} of ${m.a}` +
          (m.unmatchedA.length ? ` (${m.unmatchedA.slice(0, 30).join(', ')}${m.unmatchedA.length > 30 ? ', …' : ''})` : '') +
          `; ${m.unmatchedB.length} of ${m.b}` +
          (m.unmatchedB.length ? ` (${m.unmatchedB.slice(0, 30).join(', ')}${m.unmatchedB.length > 30 ? ', …' : ''})` : '') +
          '.',
      ),
    ];
  }

  /** L0 (x) against FVU (y), each checkpoint a point, in the theme's colours. */
  private drawPlot(): void {
    this.plot?.destroy();
    this.plot = undefined;
    const c = this.comparison;
    if (!c || !this.plotHost) return;
    const points = c.checkpoints.map((x) => ({ l0: x.metrics.l0, fvu: x.metrics.fvu })).sort((a, b) => a.l0 - b.l0);
    const foreground = themeColor('--vscode-foreground', '#808080');
    const grid = themeColor('--vscode-editorWidget-border', themeColor('--vscode-widget-border', '#8080804d'));
    const colour = themeColor('--vscode-charts-blue', '#3794ff');
    const font = `11px ${themeColor('--vscode-font-family', 'sans-serif')}`;
    const axis = { stroke: foreground, font, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
    const xs = points.map((p) => p.l0);
    const pad = (lo: number, hi: number): [number, number] => (hi > lo ? [lo - 0.1 * (hi - lo), hi + 0.1 * (hi - lo)] : [lo - 1, hi + 1]);
    this.plot = new uPlot(
      {
        width: Math.max(240, Math.min(560, (this.root.clientWidth || 480) - 16)),
        height: 220,
        legend: { show: false },
        cursor: { show: false },
        scales: { x: { time: false, range: () => pad(Math.min(...xs), Math.max(...xs)) }, y: { range: (_u, lo, hi) => pad(Math.min(0, lo), hi) } },
        axes: [
          { ...axis, label: 'L0', labelFont: font },
          { ...axis, label: 'FVU', labelFont: font, size: 52 },
        ],
        series: [{}, { label: 'FVU', stroke: colour, width: 0, points: { show: true, size: 8, fill: colour, stroke: colour } }],
      },
      [xs, points.map((p) => p.fvu)],
      this.plotHost,
    );
  }
}
