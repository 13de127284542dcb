// The steering form of the token view: a set of (feature, operation) interventions, the positions they
// apply to, and the sampling settings; "Generate" streams clean and steered continuations side by side.
// The form keeps its own inputs (it is built once per "Steer from here…" and survives re-renders).
import type { Intervention, InterventionOp, PositionScope } from '../../src/protocol/steering';
import { button, el, fmt } from './dom';
import { displayToken, type TokenViewState } from './state/tokenView';
import { postToHost } from './vscodeApi';

type OpKind = InterventionOp['kind'];

const OPS: { kind: OpKind; label: string; value: string }[] = [
  { kind: 'zero', label: 'zero', value: '' },
  { kind: 'clamp', label: 'clamp to', value: '5' },
  { kind: 'scale', label: 'scale by', value: '2' },
  { kind: 'add', label: 'add × decoder', value: '5' },
];

export class SteerForm {
  readonly element: HTMLElement;
  private readonly rows: HTMLElement;
  private readonly scope: HTMLSelectElement;
  private readonly tokens: HTMLInputElement;
  private readonly temperature: HTMLInputElement;
  private readonly topP: HTMLInputElement;
  private readonly seed: HTMLInputElement;
  private readonly problem: HTMLElement;

  constructor(
    readonly position: number,
    feature: number | undefined,
    private readonly tokenCount: number,
    tokenText: string,
    onClose: () => void,
    private readonly onGenerate: () => void,
  ) {
    this.rows = el('div', { className: 'interventions' });
    this.scope = el('select', { attrs: { 'aria-label': 'Positions the interventions apply to' } });
    const at = `token ${position + 1} (${JSON.stringify(displayToken(tokenText))})`;
    for (const [value, text] of [
      ['from', `from ${at} on, generated tokens included`],
      ['all', 'every token, generated tokens included'],
      ['here', `${at} only`],
      ['text', 'the analysed text only (not the generated tokens)'],
    ]) {
      this.scope.append(el('option', { text, attrs: { value } }));
    }
    const num = (label: string, value: string, attrs: Record<string, string>) => el('input', { attrs: { type: 'number', value, 'aria-label': label, ...attrs } });
    this.tokens = num('New tokens', '24', { min: '1', max: '512', step: '1' });
    this.temperature = num('Temperature (0 = greedy)', '0', { min: '0', max: '10', step: '0.1' });
    this.topP = num('Top-p', '1', { min: '0.01', max: '1', step: '0.05' });
    this.seed = num('Seed', '0', { step: '1' });
    this.problem = el('p', { className: 'error', attrs: { role: 'alert' } });
    this.addRow(feature);
    this.element = el(
      'section',
      { className: 'steer-form', attrs: { 'aria-label': 'Steer and generate', 'data-testid': 'steer-form' } },
      el('h2', { text: `Steer from ${at}` }),
      el('p', { className: 'muted', text: 'Each feature is edited at the SAE’s site with its reconstruction error kept, so no intervention = the model exactly.' }),
      this.rows,
      button('Add feature', () => this.addRow(undefined), { 'aria-label': 'Add another feature to the interventions' }, 'secondary'),
      el('p', {}, el('label', {}, 'Positions: ', this.scope)),
      el(
        'p',
        { className: 'sampling' },
        el('label', {}, 'New tokens ', this.tokens),
        ' ',
        el('label', {}, 'Temperature ', this.temperature),
        ' ',
        el('label', {}, 'Top-p ', this.topP),
        ' ',
        el('label', {}, 'Seed ', this.seed),
      ),
      this.problem,
      el(
        'p',
        {},
        button('Generate', () => this.submit(), { 'data-testid': 'generate' }),
        ' ',
        button('Cancel', () => postToHost({ type: 'cancelGeneration' }), { 'data-testid': 'cancel-generation' }, 'secondary'),
        ' ',
        button('Close', onClose, {}, 'secondary'),
      ),
    );
  }

  private addRow(feature: number | undefined): void {
    const id = el('input', { attrs: { type: 'number', min: '0', step: '1', value: feature === undefined ? '' : String(feature), 'aria-label': 'Feature id', placeholder: 'feature', class: 'feature-id' } });
    const op = el('select', { attrs: { 'aria-label': 'Operation' } });
    for (const o of OPS) op.append(el('option', { text: o.label, attrs: { value: o.kind } }));
    op.value = 'clamp';
    const value = el('input', { attrs: { type: 'number', step: '0.5', value: '5', 'aria-label': 'Value', class: 'clamp-value' } });
    const sync = () => {
      value.disabled = op.value === 'zero';
    };
    op.addEventListener('change', () => {
      value.value = OPS.find((o) => o.kind === op.value)?.value ?? '';
      sync();
    });
    const row = el('div', { className: 'intervention-row' }, el('label', {}, '#', id), ' ', op, ' ', value, ' ');
    row.append(button('Remove', () => row.remove(), { 'aria-label': 'Remove this intervention' }, 'secondary'));
    this.rows.append(row);
  }

  private positions(): PositionScope {
    switch (this.scope.value) {
      case 'all':
        return { kind: 'all' };
      case 'here':
        return { kind: 'range', start: this.position, end: this.position + 1 };
      case 'text':
        return { kind: 'range', start: 0, end: this.tokenCount };
      default:
        return { kind: 'from', start: this.position };
    }
  }

  private submit(): void {
    const positions = this.positions();
    const interventions: Intervention[] = [];
    for (const row of this.rows.querySelectorAll('.intervention-row')) {
      const [idInput, valueInput] = row.querySelectorAll('input');
      const kind = (row.querySelector('select') as HTMLSelectElement).value as OpKind;
      if (idInput.value.trim() === '') continue;
      const feature = Number(idInput.value);
      const v = Number(valueInput.value);
      if (!Number.isInteger(feature) || feature < 0) return this.refuse(`“${idInput.value}” is not a feature id`);
      if (kind !== 'zero' && (valueInput.value.trim() === '' || !Number.isFinite(v))) return this.refuse(`feature #${feature}: give a finite number`);
      const op: InterventionOp = kind === 'zero' ? { kind } : kind === 'clamp' ? { kind, value: v } : kind === 'scale' ? { kind, factor: v } : { kind, amount: v };
      interventions.push({ feature, op, positions });
    }
    const maxNewTokens = Number(this.tokens.value);
    const sampling = { temperature: Number(this.temperature.value), topP: Number(this.topP.value), seed: Number(this.seed.value) };
    if (!Number.isInteger(maxNewTokens) || maxNewTokens < 1 || maxNewTokens > 512) return this.refuse('new tokens: an integer in 1..512');
    if (!Number.isFinite(sampling.temperature) || sampling.temperature < 0) return this.refuse('temperature: 0 (greedy) or more');
    if (!Number.isFinite(sampling.topP) || sampling.topP <= 0 || sampling.topP > 1) return this.refuse('top-p: in (0, 1]');
    if (!Number.isInteger(sampling.seed)) return this.refuse('seed: an integer');
    this.problem.textContent = '';
    this.onGenerate();
    postToHost({ type: 'generate', interventions, sampling, maxNewTokens });
  }

  private refuse(message: string): void {
    this.problem.textContent = message;
  }
}

/** The two continuations side by side and the per-token KL strip of the steered one. */
export function generationView(state: TokenViewState): HTMLElement {
  const g = state.generation!;
  const steps = g.steps;
  const maxKl = steps.reduce((m, s) => Math.max(m, s.steered.kl), 0);
  const column = (title: string, tokens: { token: string; kl?: number }[]) =>
    el(
      'div',
      { className: 'continuation' },
      el('h3', { text: title }),
      el(
        'p',
        { className: 'token-line', attrs: { 'data-testid': `continuation-${title.toLowerCase()}` } },
        ...tokens.map((t) => el('span', { className: 'token', text: displayToken(t.token), attrs: t.kl !== undefined ? { title: `KL ${t.kl.toExponential(2)} nats` } : {} })),
      ),
    );
  const strip = el('div', { className: 'kl-strip', attrs: { role: 'img', 'aria-label': `KL(clean ‖ steered) per generated token, largest ${fmt(maxKl, 3)} nats`, 'data-testid': 'kl-strip' } });
  for (const s of steps) {
    const bar = el('span', { className: 'kl-bar', attrs: { title: `token ${s.index + 1}: KL ${s.steered.kl.toExponential(2)} nats` } });
    bar.style.setProperty('--kl', (maxKl > 0 ? s.steered.kl / maxKl : 0).toFixed(3));
    strip.append(bar);
  }
  const status = g.running ? `Generating… ${steps.length} tokens` : g.result ? `${steps.length} tokens in ${fmt(g.result.elapsedMs / 1000, 1)} s${g.result.windowNote ? ` · ${g.result.windowNote}` : ''}` : `Stopped after ${steps.length} tokens.`;
  return el(
    'section',
    { className: 'generation', attrs: { 'aria-label': 'Generated continuations', 'data-testid': 'generation' } },
    el('p', { className: g.running ? 'busy' : 'muted', text: status, attrs: { role: 'status' } }),
    el(
      'div',
      { className: 'columns' },
      column(
        'Clean',
        steps.filter((s) => s.clean).map((s) => ({ token: s.clean!.token })),
      ),
      column(
        'Steered',
        steps.map((s) => ({ token: s.steered.token, kl: s.steered.kl })),
      ),
    ),
    el('p', { className: 'muted', text: `KL(clean ‖ steered) per steered token (max ${fmt(maxKl, 3)} nats):` }),
    strip,
  );
}
