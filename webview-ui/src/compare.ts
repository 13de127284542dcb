import type { CheckpointComparison, FeatureMatching, SideBySide } from '../../src/protocol/compare';
import type { HostToWebview } from '../../src/protocol/webview';
import { button, el } from './dom';
import { postToHost } from './vscodeApi';
import { paretoPlot, type PlotPoint } from './paretoPlot';

/** Matched pairs listed (strongest first); the counts above cover all of them. */
const PAIRS_LISTED = 40;

const num = (v: number | undefined, digits = 4) => (v === undefined || !Number.isFinite(v) ? '–' : v.toPrecision(digits));

/**
 * Compare Checkpoints: the metrics table, L0 against FVU and against ΔLM loss (each checkpoint a point, each
 * run's checkpoints joined in step order: the paper's Pareto view) and the feature matching between the
 * first two. Every number drawn is also in a table, for screen readers and for tests.
 */
export class CompareView {
  private busy: string | undefined;
  private error: string | undefined;
  private comparison: CheckpointComparison | undefined;
  private decomposing: string | undefined;
  private sideBySide: SideBySide | undefined;
  /** The text in the side-by-side box (kept across renders). */
  private text = '';

  constructor(private readonly root: HTMLElement) {
    this.render();
  }

  dispatch(message: HostToWebview): void {
    if (message.type === 'comparing') {
      this.busy = message.message;
      this.error = undefined;
    } else if (message.type === 'comparison') {
      this.busy = undefined;
      this.comparison = message.comparison;
      this.sideBySide = undefined;
    } else if (message.type === 'decomposing') {
      this.decomposing = message.text;
      this.text = message.text;
      this.error = undefined;
    } else if (message.type === 'sideBySide') {
      this.decomposing = undefined;
      this.sideBySide = message.result;
      this.text = message.result.text;
    } else if (message.type === 'error') {
      this.busy = undefined;
      this.decomposing = undefined;
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
    if (c) {
      children.push(el('h1', { text: `Compare checkpoints — ${c.site}`, attrs: { 'data-testid': 'compare-title' } }));
      children.push(el('p', { className: 'muted', text: `d_in ${c.dIn}; evaluated on ${c.evalSet}` }));
      children.push(this.table(c));
      children.push(el('h2', { text: 'Sparsity against reconstruction (Pareto view)' }));
      const points = (y: (m: CheckpointComparison['checkpoints'][number]['metrics']) => number | undefined): PlotPoint[] =>
        c.checkpoints.map((x, i) => ({ label: x.label, x: x.metrics.l0, y: y(x.metrics) ?? Number.NaN, ...(x.run !== undefined ? { group: x.run, order: x.step ?? i } : {}) }));
      children.push(
        el(
          'div',
          { className: 'plots' },
          paretoPlot(points((m) => m.fvu), { xLabel: 'L0', yLabel: 'FVU', testId: 'plot-fvu' }),
          paretoPlot(points((m) => m.deltaLoss), { xLabel: 'L0', yLabel: 'ΔLM loss', testId: 'plot-delta-lm' }),
        ),
      );
      if (c.matching) children.push(...this.matching(c.matching), ...this.sideBySideBlock(c.matching));
    } else if (!this.busy && !this.error) {
      children.push(el('p', { className: 'muted', text: 'Run “Feature Lens: Compare Checkpoints…”.' }));
    }
    this.root.replaceChildren(...children);
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
      el('h3', { text: `Matched pairs (strongest ${Math.min(PAIRS_LISTED, m.pairs.length)} of ${m.pairs.length}): click one to open both dashboards` }),
      el(
        'table',
        { className: 'features pairs', attrs: { 'data-testid': 'matched-pairs' } },
        el('thead', {}, el('tr', {}, ...[m.a, m.b, 'Cosine', ''].map((h) => el('th', { text: h, attrs: { scope: 'col' } })))),
        el(
          'tbody',
          {},
          ...m.pairs.slice(0, PAIRS_LISTED).map((p) => {
            const open = () => postToHost({ type: 'openPair', a: p.a, b: p.b });
            const row = el('tr', { className: 'link', attrs: { 'data-a': String(p.a), 'data-b': String(p.b) } }, el('td', { text: `#${p.a}` }), el('td', { text: `#${p.b}` }), el('td', { text: p.cos.toFixed(3) }), el('td', {}, button('Open both', open, { 'aria-label': `Open the dashboards of #${p.a} and #${p.b}` }, 'secondary')));
            row.addEventListener('click', (e) => (e.target as HTMLElement).tagName !== 'BUTTON' && open());
            return row;
          }),
        ),
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

  /** The same text decomposed by both SAEs: per token, matched features on one row. */
  private sideBySideBlock(m: FeatureMatching): Node[] {
    const area = el('textarea', { attrs: { rows: '2', 'aria-label': 'Text to decompose by both SAEs', 'data-testid': 'side-by-side-text' } });
    area.value = this.text;
    area.addEventListener('input', () => (this.text = area.value));
    const out: Node[] = [
      el('h2', { text: `Side by side: ${m.a} | ${m.b}` }),
      el('div', { className: 'label-editor' }, area, ' ', button('Decompose', () => this.text.trim() && postToHost({ type: 'decompose', text: this.text }), { 'data-testid': 'decompose' })),
    ];
    if (this.decomposing !== undefined) out.push(el('p', { className: 'busy', text: 'Decomposing by both SAEs…', attrs: { role: 'status' } }));
    const r = this.sideBySide;
    if (!r) return out;
    out.push(
      el('p', { className: 'muted', attrs: { 'data-testid': 'side-by-side-summary' } }, `${r.tokens.length} tokens; ${r.alignedRows} of ${r.totalRows} rows are matched pairs firing together. Mean L0 ${r.a.meanL0.toFixed(1)} | ${r.b.meanL0.toFixed(1)}; reconstruction error ${r.a.meanReconError.toFixed(3)} | ${r.b.meanReconError.toFixed(3)}.`),
    );
    const cell = (f?: { feature: number; activation: number }) => (f ? `#${f.feature} (${f.activation.toFixed(2)})` : '');
    const rows: HTMLElement[] = [];
    r.tokens.forEach((t, ti) => {
      t.rows.forEach((row, ri) => {
        rows.push(
          el(
            'tr',
            { className: row.cos !== undefined ? 'aligned' : '', attrs: { 'data-token': String(ti), ...(row.cos !== undefined ? { 'data-aligned': 'true' } : {}) } },
            el('td', { text: ri === 0 ? JSON.stringify(t.text) : '', className: 'token' }),
            el('td', { text: cell(row.a) }),
            el('td', { text: row.cos !== undefined ? row.cos.toFixed(2) : '' }),
            el('td', { text: cell(row.b) }),
          ),
        );
      });
      if (t.rows.length === 0) rows.push(el('tr', { attrs: { 'data-token': String(ti) } }, el('td', { text: JSON.stringify(t.text), className: 'token' }), el('td', {}), el('td', {}), el('td', {})));
    });
    out.push(
      el(
        'table',
        { className: 'features side-by-side', attrs: { 'data-testid': 'side-by-side' } },
        el('thead', {}, el('tr', {}, ...['Token', r.a.label, 'cos', r.b.label].map((h) => el('th', { text: h, attrs: { scope: 'col' } })))),
        el('tbody', {}, ...rows),
      ),
    );
    return out;
  }
}
