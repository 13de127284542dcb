// The Pareto view of Compare Checkpoints: each checkpoint a point (sparsity on x, a reconstruction cost on y),
// the checkpoints of one training run joined in step order. Plain SVG in the theme's chart colours; the
// points carry their numbers as data attributes (and a tooltip), so tests and screen readers get them too.

export interface PlotPoint {
  readonly label: string;
  readonly x: number;
  readonly y: number;
  /** Points of one group (a run) are joined by a line, in `order`. */
  readonly group?: string;
  readonly order?: number;
}

const SVG = 'http://www.w3.org/2000/svg';
// Series colours are classes (main.css: .series-0 … .series-5, the theme's chart colours): the webview's
// content security policy refuses inline style attributes.
const SERIES = 6;
const W = 360;
const H = 220;
const M = { left: 52, right: 12, top: 10, bottom: 34 };

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>, ...children: Node[]): SVGElementTagNameMap[K] {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  node.append(...children);
  return node;
}

function ticks(lo: number, hi: number, n = 4): number[] {
  const step0 = (hi - lo) / n;
  const mag = 10 ** Math.floor(Math.log10(step0));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= step0) ?? step0;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

const short = (v: number) => (Math.abs(v) >= 1000 ? v.toExponential(1) : Number(v.toPrecision(3)).toString());

/** An SVG plot of `points`; points with a non-finite coordinate are left out (and counted in the caption). */
export function paretoPlot(points: readonly PlotPoint[], o: { xLabel: string; yLabel: string; testId: string }): HTMLElement {
  const shown = points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
  const figure = document.createElement('figure');
  figure.className = 'pareto';
  figure.dataset.testid = o.testId;
  figure.dataset.points = JSON.stringify(shown.map((p) => ({ label: p.label, x: p.x, y: p.y, ...(p.group !== undefined ? { group: p.group } : {}) })));
  const pad = (lo: number, hi: number): [number, number] => (hi > lo ? [lo - 0.08 * (hi - lo), hi + 0.08 * (hi - lo)] : [lo - Math.abs(lo || 1) * 0.1, hi + Math.abs(hi || 1) * 0.1]);
  const [x0, x1] = pad(Math.min(...shown.map((p) => p.x)), Math.max(...shown.map((p) => p.x)));
  const [y0, y1] = pad(Math.min(0, ...shown.map((p) => p.y)), Math.max(...shown.map((p) => p.y)));
  const sx = (x: number) => M.left + ((x - x0) / (x1 - x0)) * (W - M.left - M.right);
  const sy = (y: number) => H - M.bottom - ((y - y0) / (y1 - y0)) * (H - M.top - M.bottom);
  const root = svg('svg', { viewBox: `0 0 ${W} ${H}`, width: W, height: H, role: 'img', 'aria-label': `${o.yLabel} against ${o.xLabel}` });
  if (shown.length === 0) {
    figure.append(document.createTextNode(`No checkpoint has both ${o.xLabel} and ${o.yLabel}.`));
    return figure;
  }
  for (const t of ticks(x0, x1)) {
    root.append(svg('line', { x1: sx(t), x2: sx(t), y1: M.top, y2: H - M.bottom, class: 'grid' }));
    const label = svg('text', { x: sx(t), y: H - M.bottom + 12, 'text-anchor': 'middle' });
    label.textContent = short(t);
    root.append(label);
  }
  for (const t of ticks(y0, y1)) {
    root.append(svg('line', { x1: M.left, x2: W - M.right, y1: sy(t), y2: sy(t), class: 'grid' }));
    const label = svg('text', { x: M.left - 4, y: sy(t) + 3, 'text-anchor': 'end' });
    label.textContent = short(t);
    root.append(label);
  }
  const xTitle = svg('text', { x: (M.left + W - M.right) / 2, y: H - 4, 'text-anchor': 'middle' });
  xTitle.textContent = o.xLabel;
  const yTitle = svg('text', { x: 10, y: (M.top + H - M.bottom) / 2, 'text-anchor': 'middle', transform: `rotate(-90 10 ${(M.top + H - M.bottom) / 2})` });
  yTitle.textContent = o.yLabel;
  root.append(xTitle, yTitle);

  const groups = [...new Set(shown.map((p) => p.group ?? `\u0000${p.label}`))];
  groups.forEach((g, gi) => {
    const series = `series-${gi % SERIES}`;
    const members = shown.filter((p) => (p.group ?? `\u0000${p.label}`) === g).sort((a, b) => (a.order ?? 0) - (b.order ?? 0));
    if (members.length > 1) {
      root.append(svg('polyline', { points: members.map((p) => `${sx(p.x)},${sy(p.y)}`).join(' '), 'data-run': g, class: `line ${series}` }));
    }
    for (const p of members) {
      const dot = svg('circle', { cx: sx(p.x), cy: sy(p.y), r: 4, 'data-label': p.label, class: `point ${series}` });
      const title = svg('title', {});
      title.textContent = `${p.label}: ${o.xLabel} ${short(p.x)}, ${o.yLabel} ${short(p.y)}`;
      dot.append(title);
      root.append(dot);
    }
  });
  figure.append(root);
  const left = points.length - shown.length;
  const legend = document.createElement('figcaption');
  legend.className = 'muted';
  groups.forEach((g, gi) => {
    const dot = document.createElement('span');
    dot.textContent = '● ';
    dot.className = `swatch series-${gi % SERIES}`;
    const name = g.startsWith('\u0000') ? g.slice(1) : g.split(/[\\/]/).pop() ?? g;
    legend.append(dot, `${name}   `);
  });
  if (left > 0) legend.append(`(${left} without ${o.yLabel})`);
  figure.append(legend);
  return figure;
}
