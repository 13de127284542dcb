// Hypothesis workbench: state a rule (a regular expression over token texts or a list of words; labelled
// examples come from the editor's selection through the command) and read which features detect it, with
// AUROC, precision and recall, and the sparse probe. Every feature number opens its dashboard.
import type { Detector, HypothesisResult } from '../../src/protocol/hypothesis';
import type { HostToWebview } from '../../src/protocol/webview';
import { button, el, fmt } from './dom';
import { postToHost } from './vscodeApi';

type Mode = 'regex' | 'tokens';

export class HypothesisView {
  private running: string | undefined;
  private error: string | undefined;
  private result: HypothesisResult | undefined;
  private mode: Mode = 'regex';
  private text = '';

  constructor(private readonly root: HTMLElement) {
    this.render();
  }

  dispatch(message: HostToWebview): void {
    switch (message.type) {
      case 'hypothesisRunning':
        this.running = message.description;
        this.error = undefined;
        break;
      case 'hypothesisResult':
        this.result = message.result;
        this.running = undefined;
        this.error = undefined;
        break;
      case 'error':
        this.error = message.message;
        this.running = undefined;
        break;
      default:
        return;
    }
    this.render();
  }

  private run(): void {
    const text = this.text.trim();
    if (!text) return;
    postToHost({ type: 'runHypothesis', hypothesis: this.mode === 'regex' ? { kind: 'regex', pattern: text } : { kind: 'tokens', tokens: text.split(',').map((t) => t.trim()).filter(Boolean) } });
  }

  private form(): HTMLElement {
    const select = el('select', { attrs: { 'aria-label': 'Kind of rule', 'data-testid': 'hypothesis-mode' } }, ...(['regex', 'tokens'] as const).map((m) => {
      const o = el('option', { text: m === 'regex' ? 'regular expression over token texts' : 'list of words (comma-separated)', attrs: { value: m } });
      if (m === this.mode) o.setAttribute('selected', '');
      return o;
    }));
    select.addEventListener('change', () => (this.mode = (select as HTMLSelectElement).value as Mode));
    const input = el('input', { attrs: { type: 'text', value: this.text, 'aria-label': 'Rule', placeholder: 'e.g. ^ ?[0-9]+$   or   cat, dog, bird', 'data-testid': 'hypothesis-input' } });
    input.addEventListener('input', () => (this.text = (input as HTMLInputElement).value));
    input.addEventListener('keydown', (e) => e.key === 'Enter' && this.run());
    return el(
      'div',
      { className: 'label-editor' },
      select,
      ' ',
      input,
      ' ',
      button('Test', () => this.run(), { 'data-testid': 'hypothesis-run' }),
      el('p', { className: 'muted', text: 'Or select examples in an editor and run “Feature Lens: Test Hypothesis…” → “Selection as positive examples”.' }),
    );
  }

  private featureButton(feature: number, label: string | undefined): HTMLElement {
    return button(`#${feature}`, () => postToHost({ type: 'openFeature', feature }), { 'aria-label': `Open the dashboard of feature ${feature}${label ? ` (${label})` : ''}`, 'data-feature': String(feature) }, 'link');
  }

  private detectorRow(d: Detector): HTMLElement {
    const td = (text: string, num = true) => el('td', { text, className: num ? 'num' : '' });
    return el(
      'tr',
      { attrs: { 'data-feature': String(d.feature) } },
      el('td', {}, this.featureButton(d.feature, d.label)),
      td(d.label ?? '—', false),
      td(fmt(d.auroc, 3)),
      td(d.heldoutAuroc !== undefined ? fmt(d.heldoutAuroc, 3) : '–'),
      td(fmt(d.precision, 3)),
      td(fmt(d.recall, 3)),
    );
  }

  private results(r: HypothesisResult): Node[] {
    const head = el('tr', {}, ...['Feature', 'Label', 'AUROC', 'held-out AUROC', 'precision', 'recall'].map((h) => el('th', { text: h })));
    const probe = r.probe;
    return [
      el('h2', { text: `Features that detect ${r.description}` }),
      el('p', { className: 'muted', attrs: { 'data-testid': 'hypothesis-summary' }, text: `${r.positives} of ${r.tokens.toLocaleString('en-US')} tokens match in ${r.source} (${r.heldoutPositives} of ${r.heldoutTokens.toLocaleString('en-US')} held out). AUROC: the feature's activation as a score for the rule; precision: of the tokens where it fires, the share the rule marks; recall: of the marked tokens, the share where it fires.` }),
      r.detectors.length
        ? el('table', { className: 'features', attrs: { 'data-testid': 'hypothesis-detectors' } }, el('thead', {}, head), el('tbody', {}, ...r.detectors.map((d) => this.detectorRow(d))))
        : el('p', { className: 'muted', text: 'No feature fires on these tokens.' }),
      el('h2', { text: 'Sparse probe' }),
      probe
        ? el(
            'p',
            { attrs: { 'data-testid': 'hypothesis-probe' } },
            'logit = ',
            ...probe.features.flatMap((f, i) => [`${i > 0 ? (f.weight >= 0 ? ' + ' : ' − ') : f.weight < 0 ? '−' : ''}${fmt(Math.abs(f.weight), 2)} · log(1 + `, this.featureButton(f.feature, f.label), ')']),
            ` ${probe.bias >= 0 ? '+' : '−'} ${fmt(Math.abs(probe.bias), 2)}  ·  AUROC ${fmt(probe.auroc, 3)} fitted, ${probe.heldoutAuroc !== undefined ? fmt(probe.heldoutAuroc, 3) : '–'} held out`,
          )
        : el('p', { className: 'muted', text: 'No combination of features improved on the best single one.' }),
    ];
  }

  private render(): void {
    const children: Node[] = [el('h1', { text: 'Hypothesis workbench' }), this.form()];
    if (this.running) children.push(el('p', { className: 'muted', attrs: { role: 'status', 'data-testid': 'hypothesis-running' }, text: `Testing ${this.running}…` }));
    if (this.error) children.push(el('p', { className: 'error', text: this.error, attrs: { role: 'alert' } }));
    if (this.result) children.push(...this.results(this.result));
    this.root.replaceChildren(...children);
  }
}
