import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { TrainingAction, TrainingPoint, TrainingRunInfo } from '../../src/protocol/trainingView';
import type { HostToWebview } from '../../src/protocol/webview';
import { button, el } from './dom';
import { onThemeChange } from './histogramChart';
import { postToHost } from './vscodeApi';
import './training.css';

function themeColor(name: string, fallback: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;
}

const num = (v: number | undefined, digits = 4) => (v === undefined || !Number.isFinite(v) ? '–' : v.toPrecision(digits));

interface SeriesSpec {
  readonly label: string;
  readonly value: (p: TrainingPoint) => number | undefined;
  /** A VS Code chart colour variable and its fallback. */
  readonly colour: [string, string];
  readonly dash?: number[];
}

interface ChartSpec {
  readonly id: string;
  readonly title: string;
  readonly series: (run: TrainingRunInfo) => SeriesSpec[];
  readonly log?: boolean;
}

const BLUE: [string, string] = ['--vscode-charts-blue', '#3794ff'];
const ORANGE: [string, string] = ['--vscode-charts-orange', '#d18616'];
const GREEN: [string, string] = ['--vscode-charts-green', '#89d185'];
const RED: [string, string] = ['--vscode-charts-red', '#f14c4c'];
const PURPLE: [string, string] = ['--vscode-charts-purple', '#b180d7'];

const CHARTS: readonly ChartSpec[] = [
  {
    id: 'loss',
    title: 'Loss and MSE',
    log: true,
    series: () => [
      { label: 'loss', value: (p) => p.loss, colour: BLUE },
      { label: 'MSE', value: (p) => p.mse, colour: ORANGE },
    ],
  },
  { id: 'fvu', title: 'FVU (fraction of variance unexplained)', series: () => [{ label: 'FVU', value: (p) => p.fvu, colour: BLUE }] },
  {
    id: 'l0',
    title: 'L0 (active latents per token)',
    series: (run) => [
      { label: 'L0', value: (p) => p.l0, colour: BLUE },
      ...(run.targetL0 !== undefined ? [{ label: `target ${run.targetL0}`, value: () => run.targetL0, colour: RED, dash: [6, 4] }] : []),
    ],
  },
  {
    id: 'sparsity',
    title: 'Dead and dense latents (fraction)',
    series: () => [
      { label: 'dead', value: (p) => p.deadFraction, colour: PURPLE },
      { label: 'dense (>10% of tokens)', value: (p) => p.denseFraction, colour: ORANGE },
    ],
  },
  { id: 'speed', title: 'Tokens per second', series: () => [{ label: 'tokens/s', value: (p) => p.tokensPerSecond, colour: GREEN }] },
];

const STATUS_TEXT: Record<TrainingRunInfo['status'], string> = {
  queued: 'Queued: waits for the runs before it',
  running: 'Running',
  paused: 'Paused',
  finished: 'Finished',
  failed: 'Failed',
  cancelled: 'Cancelled',
  interrupted: 'Interrupted: can resume',
};

/**
 * The Training view of one run: status, buttons and live curves (uPlot, coloured from the VS Code
 * theme). The host sends the whole history once and then appended points; charts are updated in place
 * with setData, and every number drawn is also in the latest-values list, for screen readers and tests.
 */
export class TrainingView {
  private run: TrainingRunInfo | undefined;
  private history: TrainingPoint[] = [];
  private readonly plots = new Map<string, uPlot>();
  private readonly header = el('header', { className: 'training-header' });
  private readonly latest = el('dl', { className: 'training-latest', attrs: { 'data-testid': 'training-latest' } });
  private readonly charts = el('div', { className: 'training-charts', attrs: { 'data-testid': 'training-charts' } });
  private chartKey = '';

  constructor(private readonly root: HTMLElement) {
    root.replaceChildren(el('p', { className: 'muted', text: 'Waiting for the run…' }));
    onThemeChange(() => this.rebuildCharts());
    window.addEventListener('resize', () => this.resize());
  }

  dispatch(message: HostToWebview): void {
    if (message.type === 'trainingRun') {
      this.run = message.run;
      this.history = [...message.history];
    } else if (message.type === 'trainingUpdate') {
      this.run = message.run;
      // Points are appended in order; anything that does not continue what is here is a stale repeat.
      if (message.start <= this.history.length) this.history.splice(message.start, this.history.length - message.start, ...message.points);
    } else if (message.type === 'error') {
      this.root.prepend(el('p', { className: 'error', text: message.message, attrs: { role: 'alert' } }));
      return;
    } else {
      return;
    }
    this.render();
  }

  private act(action: TrainingAction): void {
    postToHost({ type: 'trainingAction', action });
  }

  // The header's elements are made once and updated in place: a button re-created on every update
  // (several times a second) would slip away from under the pointer.
  private readonly title = el('h1', { attrs: { 'data-testid': 'training-title' } });
  private readonly folder = el('p', { className: 'muted' });
  private readonly statusLine = el('p', { attrs: { role: 'status', 'data-testid': 'training-status' } });
  private readonly progress = el('progress', { attrs: { max: '1', value: '0', 'aria-label': 'progress' } });
  private readonly note = el('p', { attrs: { 'data-testid': 'training-message' } });
  private readonly pauseButton = button('Pause', () => this.act('pause'), { 'data-testid': 'training-pause' });
  private readonly resumeButton = button('Resume', () => this.act('resume'), { 'data-testid': 'training-resume' });
  private readonly cancelButton = button('Cancel', () => this.act('cancel'), { 'data-testid': 'training-cancel' }, 'secondary');
  private readonly openButton = button('Open latest checkpoint in the token view', () => this.act('openCheckpoint'), { 'data-testid': 'training-open-checkpoint' }, 'secondary');

  private render(): void {
    const run = this.run;
    if (!run) return;
    if (!this.root.contains(this.charts)) {
      this.header.replaceChildren(
        this.title,
        this.folder,
        this.statusLine,
        this.progress,
        this.note,
        el('div', { className: 'training-buttons' }, this.pauseButton, this.resumeButton, this.cancelButton, this.openButton),
      );
      this.root.replaceChildren(this.header, this.latest, this.charts);
    }
    const live = run.status === 'queued' || run.status === 'running' || run.status === 'paused';
    const status = run.pausing ? 'Pausing after this step…' : STATUS_TEXT[run.status];
    const phase = run.status === 'running' && run.phase === 'harvest' ? ' — harvesting activations' : '';
    this.title.textContent = run.title;
    this.folder.textContent = run.outDir;
    this.statusLine.className = `training-status status-${run.status}`;
    this.statusLine.dataset.status = run.pausing ? 'pausing' : run.status;
    this.statusLine.textContent = `${status}${phase}${run.status === 'running' || run.status === 'paused' ? ` · ${Math.round(run.fraction * 100)} %` : ''}`;
    this.progress.hidden = !live;
    this.progress.value = run.fraction;
    this.note.hidden = !run.message;
    this.note.className = run.status === 'failed' ? 'error' : 'muted';
    this.note.textContent = run.message ?? '';
    this.pauseButton.hidden = !(run.status === 'running' && !run.pausing);
    const resumable = run.status === 'cancelled' || run.status === 'interrupted';
    this.resumeButton.hidden = !(run.status === 'paused' || run.pausing || resumable);
    this.resumeButton.textContent = resumable ? 'Resume from checkpoint' : 'Resume';
    this.cancelButton.hidden = !live;
    this.openButton.hidden = !(run.checkpointStep !== undefined || run.status === 'finished' || resumable);
    this.renderLatest();
    this.drawCharts();
  }

  private renderLatest(): void {
    const p = this.history[this.history.length - 1];
    const pairs: [string, string][] = [
      ['points', String(this.history.length)],
      ['step', p ? String(p.step) : '–'],
      ['tokens', p ? p.tokens.toLocaleString('en-US') : '–'],
      ['loss', num(p?.loss)],
      ['MSE', num(p?.mse)],
      ['FVU', num(p?.fvu, 3)],
      ['L0', `${num(p?.l0, 3)}${this.run?.targetL0 !== undefined ? ` (target ${this.run.targetL0})` : ''}`],
      ['dead', p ? `${(p.deadFraction * 100).toFixed(1)} %` : '–'],
      ['dense', p?.denseFraction !== undefined ? `${(p.denseFraction * 100).toFixed(1)} %` : '–'],
      ['tokens/s', p?.tokensPerSecond !== undefined ? Math.round(p.tokensPerSecond).toLocaleString('en-US') : '–'],
    ];
    this.latest.dataset.points = String(this.history.length);
    this.latest.dataset.step = p ? String(p.step) : '0';
    this.latest.replaceChildren(...pairs.map(([k, v]) => el('div', {}, el('dt', { text: k }), el('dd', { text: v, attrs: { 'data-key': k } }))));
  }

  /** The width of one chart's cell in the grid (the canvas is sized to it). */
  private chartWidth(host?: Element | null): number {
    const cell = host?.clientWidth || this.charts.querySelector('.training-plot')?.clientWidth || 400;
    return Math.max(200, Math.floor(cell));
  }

  private data(spec: ChartSpec, run: TrainingRunInfo): uPlot.AlignedData {
    const xs = this.history.map((p) => p.step);
    const series = spec.series(run).map((s) => this.history.map((p) => {
      const v = s.value(p);
      // uPlot leaves a gap at null; a log axis cannot show zero or less.
      return v === undefined || !Number.isFinite(v) || (spec.log && v <= 0) ? null : v;
    }));
    return [xs, ...series] as uPlot.AlignedData;
  }

  private drawCharts(): void {
    const run = this.run;
    if (!run) return;
    // The series set changes only with the L0 target; otherwise the charts are updated in place.
    const key = `${run.targetL0 ?? ''}`;
    if (key !== this.chartKey || this.plots.size === 0) {
      this.chartKey = key;
      this.rebuildCharts();
      return;
    }
    for (const spec of CHARTS) {
      this.plots.get(spec.id)?.setData(this.data(spec, run));
      this.charts.querySelector(`[data-chart="${spec.id}"]`)?.setAttribute('data-points', String(this.history.length));
    }
  }

  private rebuildCharts(): void {
    const run = this.run;
    if (!run) return;
    for (const plot of this.plots.values()) plot.destroy();
    this.plots.clear();
    const foreground = themeColor('--vscode-foreground', '#808080');
    const grid = themeColor('--vscode-editorWidget-border', themeColor('--vscode-widget-border', '#8080804d'));
    const font = `11px ${themeColor('--vscode-font-family', 'sans-serif')}`;
    const axis = { stroke: foreground, font, labelFont: font, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
    const figures: HTMLElement[] = [];
    for (const spec of CHARTS) {
      const host = el('div', { className: 'training-plot', attrs: { 'aria-hidden': 'true' } });
      const figure = el(
        'figure',
        { className: 'training-chart', attrs: { 'data-chart': spec.id, 'data-testid': `chart-${spec.id}`, 'data-points': String(this.history.length) } },
        el('figcaption', { text: spec.title }),
        host,
      );
      figures.push(figure);
      const series = spec.series(run).map((s) => {
        const colour = themeColor(s.colour[0], s.colour[1]);
        return { label: s.label, stroke: colour, width: 1.5, points: { show: false }, ...(s.dash ? { dash: s.dash } : {}) };
      });
      this.charts.append(figure);
      const plot = new uPlot(
        {
          width: this.chartWidth(host),
          height: 180,
          legend: { show: series.length > 1, live: false },
          cursor: { drag: { x: false, y: false } },
          scales: { x: { time: false }, ...(spec.log ? { y: { distr: 3 } } : {}) },
          axes: [
            { ...axis, label: 'step' },
            { ...axis, size: 60 },
          ],
          series: [{ label: 'step' }, ...series],
        },
        this.data(spec, run),
        host,
      );
      this.plots.set(spec.id, plot);
    }
    this.charts.replaceChildren(...figures);
  }

  private resize(): void {
    for (const plot of this.plots.values()) plot.setSize({ width: this.chartWidth(plot.root.parentElement), height: 180 });
  }
}
