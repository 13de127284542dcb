import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { Histogram } from '../../src/protocol/analysis';
import { el, fmt } from './dom';

/** A theme colour: VS Code sets these variables on the page and changes them with the theme. */
function themeColor(name: string, fallback: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;
}

/**
 * The activation histogram as uPlot bars, coloured from the current VS Code theme. The canvas cannot
 * read CSS variables, so `redraw()` rebuilds it with fresh colours when the theme changes.
 */
export class HistogramChart {
  readonly element: HTMLElement;
  private readonly plotHost: HTMLElement;
  private plot: uPlot | undefined;

  constructor(private readonly histogram: Histogram) {
    const total = histogram.counts.reduce((a, b) => a + b, 0);
    const last = histogram.edges[histogram.edges.length - 1] ?? 0;
    const summary = `Histogram of ${total} firing activations from ${fmt(histogram.edges[0] ?? 0)} to ${fmt(last)} in ${histogram.counts.length} bins`;
    this.plotHost = el('div', { className: 'histogram-plot', attrs: { 'aria-hidden': 'true', 'data-testid': 'histogram-plot' } });
    // The canvas says nothing to a screen reader; the table carries the same numbers as text.
    const table = el(
      'table',
      { className: 'visually-hidden' },
      el('caption', { text: summary }),
      el('thead', {}, el('tr', {}, el('th', { text: 'Activation', attrs: { scope: 'col' } }), el('th', { text: 'Count', attrs: { scope: 'col' } }))),
      el('tbody', {}, ...histogram.counts.map((c, i) => el('tr', {}, el('td', { text: `${fmt(histogram.edges[i] ?? 0)}–${fmt(histogram.edges[i + 1] ?? 0)}` }), el('td', { text: String(c) })))),
    );
    this.element = el('figure', { className: 'histogram', attrs: { 'aria-label': summary, 'data-testid': 'histogram' } }, this.plotHost, table);
  }

  /** Draws (or redraws) with the theme's current colours; call once the element is in the document. */
  redraw(): void {
    this.plot?.destroy();
    const h = this.histogram;
    const centres = h.counts.map((_, i) => ((h.edges[i] ?? 0) + (h.edges[i + 1] ?? 0)) / 2);
    const foreground = themeColor('--vscode-foreground', '#808080');
    const grid = themeColor('--vscode-editorWidget-border', themeColor('--vscode-widget-border', '#8080804d'));
    const bars = themeColor('--vscode-charts-blue', '#3794ff');
    const font = `11px ${themeColor('--vscode-font-family', 'sans-serif')}`;
    const axis = { stroke: foreground, font, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
    const width = Math.max(240, Math.min(560, (this.element.parentElement?.clientWidth ?? 480) - 8));
    const barPaths = uPlot.paths.bars?.({ size: [0.92, Infinity], align: 0 });
    this.plot = new uPlot(
      {
        width,
        height: 180,
        legend: { show: false },
        cursor: { show: false },
        scales: {
          x: { time: false, range: [h.edges[0] ?? 0, h.edges[h.edges.length - 1] ?? 1] },
          y: { range: (_u, _min, max) => [0, Math.max(1, max) * 1.05] },
        },
        axes: [
          { ...axis, label: 'activation', labelFont: font },
          { ...axis, label: 'tokens', labelFont: font, size: 48 },
        ],
        series: [{}, { label: 'tokens', stroke: bars, fill: bars, width: 1, paths: barPaths, points: { show: false } }],
      },
      [centres, [...h.counts]],
      this.plotHost,
    );
  }

  destroy(): void {
    this.plot?.destroy();
    this.plot = undefined;
  }
}

/**
 * Calls `onChange` when VS Code switches the theme: it swaps the body's vscode-light/dark/high-contrast
 * class and rewrites the --vscode-* variables on <html>; one call per frame however many mutations.
 */
export function onThemeChange(onChange: () => void): MutationObserver {
  let pending = false;
  const observer = new MutationObserver(() => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      onChange();
    });
  });
  observer.observe(document.body, { attributes: true, attributeFilter: ['class'] });
  observer.observe(document.documentElement, { attributes: true, attributeFilter: ['style'] });
  return observer;
}
