import { Commands } from '../../src/protocol/commands';
import type { HostToWebview } from '../../src/protocol/webview';
import { button, el, fmt, pct } from './dom';
import { DENSE_DENSITY, displayToken, intensities, initialState, labelOf, rankedFeatures, reduce, surpriseOf, type RankBy, type TokenViewState, type UiAction } from './state/tokenView';
import { postToHost } from './vscodeApi';
import { attributionView } from './attributionView';
import { generationView, SteerForm } from './steerForm';

/** The token view: text as tokens coloured by activation, the focused token's features, steering. */
export class TokenView {
  private state: TokenViewState = initialState;
  private strip?: HTMLElement;
  private built?: { analysis: unknown; feature: number | null };
  private form?: { for: unknown; form: SteerForm };
  private menu?: HTMLElement;

  constructor(private readonly root: HTMLElement) {
    this.render();
    document.addEventListener('click', (e) => {
      if (this.menu && !this.menu.contains(e.target as Node)) {
        this.menu = undefined;
        this.render();
      }
    });
  }

  dispatch(action: HostToWebview | UiAction): void {
    const prev = this.state;
    this.state = reduce(this.state, action);
    this.render(prev.focused !== this.state.focused);
  }

  private render(moveFocus = false): void {
    const s = this.state;
    const a = s.analysis;
    // Re-attaching the strip drops DOM focus: keep it on the focused token when it was inside.
    const hadFocus = this.strip?.contains(document.activeElement) ?? false;
    if (!this.strip || this.built?.analysis !== a || this.built?.feature !== s.selectedFeature) {
      this.strip = this.buildStrip();
      this.built = { analysis: a, feature: s.selectedFeature };
    }
    this.updateStripFocus();
    this.root.replaceChildren(
      this.header(),
      ...(s.error ? [this.errorBox(s.error)] : []),
      ...(a ? [this.strip, this.details()] : [this.emptyHint()]),
      ...(s.steering ? [this.steering()] : []),
      ...(s.attributing !== undefined ? [el('p', { className: 'busy', text: `Attributing the prediction after token ${s.attributing + 1}…`, attrs: { role: 'status' } })] : []),
      ...(s.attribution ? [attributionView(s.attribution, s.labels)] : []),
      ...this.steerSection(),
      ...(this.menu ? [this.menu] : []),
    );
    if (moveFocus || hadFocus) (this.strip.querySelector('[tabindex="0"]') as HTMLElement | null)?.focus();
  }

  private header(): HTMLElement {
    const s = this.state;
    const st = s.status;
    const parts = [st?.model?.name, st?.site, st?.sae ? `${st.sae.name} (${st.sae.architecture}, ${st.sae.dSae} features)` : 'no SAE'].filter(Boolean);
    const head = el('header', { className: 'lens-header' }, el('h1', { text: 'Tokens' }), el('p', { className: 'muted status-line', text: parts.join(' · ') }));
    const a = s.analysis;
    if (a) {
      const summary = `${a.tokens.length} tokens · mean L0 ${fmt(a.meanL0, 1)} · mean reconstruction error ${pct(a.meanReconError)} · ${fmt(a.elapsedMs, 0)} ms`;
      head.append(el('p', { className: 'summary', text: summary, attrs: { 'data-testid': 'summary' } }));
      if (a.truncatedFrom !== undefined) head.append(el('p', { className: 'warning', text: `Only the first ${a.tokens.length} of ${a.truncatedFrom} tokens were analyzed.` }));
    }
    if (s.analyzing !== undefined) head.append(el('p', { className: 'busy', text: 'Analyzing…', attrs: { role: 'status' } }));
    if (s.selectedFeature !== null) {
      head.append(
        el(
          'p',
          { className: 'selected-feature' },
          `Highlighting feature #${s.selectedFeature} `,
          button('Clear', () => postToHost({ type: 'selectFeature', feature: null }), { 'aria-label': 'Clear feature highlight' }, 'secondary'),
        ),
      );
    }
    return head;
  }

  /** The steering form (kept across renders, so typed values stay) and the generation output. */
  private steerSection(): HTMLElement[] {
    const s = this.state;
    const a = s.analysis;
    if (!s.steerForm || !a) {
      this.form = undefined;
      return s.generation ? [generationView(s)] : [];
    }
    if (this.form?.for !== s.steerForm) {
      const p = s.steerForm.position;
      this.form = {
        for: s.steerForm,
        form: new SteerForm(
          p,
          s.steerForm.feature,
          a.tokens.length,
          a.tokens[p]?.text ?? '',
          () => this.dispatch({ type: 'closeSteerForm' }),
          () => this.dispatch({ type: 'generationStarted' }),
        ),
      };
      // A new form opens below the attribution: bring it into view.
      const element = this.form.form.element;
      requestAnimationFrame(() => element.scrollIntoView({ block: 'start' }));
    }
    return [this.form.form.element, ...(s.generation ? [generationView(s)] : [])];
  }

  /** Right-click (or the context-menu key) on a token: "Why this prediction?" and "Steer from here…". */
  private openMenu(index: number, x: number, y: number): void {
    const close = () => {
      this.menu = undefined;
      this.render();
    };
    const item = (text: string, run: () => void) =>
      button(text, () => {
        close();
        run();
      }, { role: 'menuitem' }, 'secondary');
    const why = item('Why this prediction?', () => postToHost({ type: 'attribute', index }));
    const menu = el(
      'div',
      { className: 'token-menu', attrs: { role: 'menu', 'aria-label': `Token ${index + 1}`, 'data-testid': 'token-menu' } },
      why,
      item('Steer from here…', () => this.dispatch({ type: 'steerFrom', position: index, ...(this.topFeature(index) !== undefined ? { feature: this.topFeature(index) } : {}) })),
    );
    menu.style.left = `${x}px`;
    menu.style.top = `${y}px`;
    menu.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') close();
    });
    this.menu = menu;
    this.render();
    why.focus();
  }

  private topFeature(index: number): number | undefined {
    return this.state.analysis?.tokens[index]?.features[0]?.id;
  }

  private emptyHint(): HTMLElement {
    return el(
      'div',
      { className: 'empty' },
      el('p', { text: 'Select text in an editor and run “Feature Lens: Analyze Selection” (Ctrl+Alt+L).' }),
      button('Analyze Selection', () => postToHost({ type: 'runCommand', command: Commands.analyzeSelection })),
      ' ',
      button('Load SAE…', () => postToHost({ type: 'runCommand', command: Commands.loadSae }), {}, 'secondary'),
    );
  }

  private errorBox(message: string): HTMLElement {
    return el('div', { className: 'error-box', attrs: { role: 'alert' } }, el('p', { className: 'error', text: message }), button('Dismiss', () => this.dispatch({ type: 'dismissError' }), {}, 'secondary'));
  }

  private buildStrip(): HTMLElement {
    const a = this.state.analysis;
    const strip = el('div', { className: 'token-strip', attrs: { role: 'listbox', 'aria-label': 'Tokens (arrow keys move, Enter shows the token in the editor)', 'data-testid': 'tokens' } });
    if (!a) return strip;
    const level = intensities(this.state);
    a.tokens.forEach((t, i) => {
      const span = el('span', {
        className: `token${level[i] > 0 ? ' fires' : ''}`,
        text: displayToken(t.text),
        attrs: { role: 'option', 'data-index': String(i), 'aria-label': `${JSON.stringify(t.text)}, strongest ${fmt(t.maxActivation)}`, title: `${JSON.stringify(t.text)} · L0 ${t.l0} · max ${fmt(t.maxActivation)}` },
      });
      span.style.setProperty('--a', level[i].toFixed(3));
      if (t.text.includes('\n')) strip.append(span, el('br'));
      else strip.append(span);
    });
    strip.addEventListener('click', (e) => {
      const target = (e.target as HTMLElement).closest('[data-index]');
      if (!target) return;
      const index = Number(target.getAttribute('data-index'));
      this.dispatch({ type: 'focus', index });
      postToHost({ type: 'focusToken', index });
    });
    strip.addEventListener('contextmenu', (e) => {
      const target = (e.target as HTMLElement).closest('[data-index]');
      if (!target) return;
      e.preventDefault();
      const index = Number(target.getAttribute('data-index'));
      this.dispatch({ type: 'focus', index });
      this.openMenu(index, e.pageX, e.pageY);
    });
    strip.addEventListener('keydown', (e) => {
      if (e.key === 'ContextMenu' || (e.key === 'F10' && e.shiftKey)) {
        e.preventDefault();
        const span = strip.querySelector<HTMLElement>(`[data-index="${this.state.focused}"]`);
        const box = span?.getBoundingClientRect();
        this.openMenu(this.state.focused, (box?.left ?? 0) + window.scrollX, (box?.bottom ?? 0) + window.scrollY);
        return;
      }
      const moves: Record<string, 'next' | 'prev' | 'home' | 'end'> = { ArrowRight: 'next', ArrowDown: 'next', ArrowLeft: 'prev', ArrowUp: 'prev', Home: 'home', End: 'end' };
      if (moves[e.key]) {
        e.preventDefault();
        this.dispatch({ type: 'move', to: moves[e.key] });
      } else if (e.key === 'Enter' || e.key === ' ') {
        e.preventDefault();
        postToHost({ type: 'focusToken', index: this.state.focused });
      }
    });
    return strip;
  }

  private updateStripFocus(): void {
    if (!this.strip) return;
    for (const span of this.strip.querySelectorAll<HTMLElement>('[data-index]')) {
      const on = Number(span.dataset.index) === this.state.focused;
      span.tabIndex = on ? 0 : -1;
      span.classList.toggle('focused', on);
      span.setAttribute('aria-selected', String(on));
    }
  }

  private details(): HTMLElement {
    const s = this.state;
    const t = s.analysis!.tokens[s.focused];
    if (!t) return el('section');
    const section = el('section', { className: 'token-details', attrs: { 'aria-label': 'Focused token', 'data-testid': 'details' } });
    section.append(
      el('h2', { text: `Token ${s.focused + 1}: ${JSON.stringify(t.text)}` }),
      el('p', { className: 'muted', text: `L0 ${t.l0} · reconstruction error ${pct(t.reconError)} · characters ${t.start}–${t.end}` }),
      el(
        'p',
        { className: 'actions' },
        button('Why this prediction?', () => postToHost({ type: 'attribute', index: s.focused }), { 'aria-label': 'Which features made the model predict the next token here', 'data-testid': 'why' }, 'secondary'),
        button('Steer from here…', () => this.dispatch({ type: 'steerFrom', position: s.focused, ...(t.features[0] ? { feature: t.features[0].id } : {}) }), { 'data-testid': 'steer-from' }, 'secondary'),
      ),
    );
    if (t.features.length === 0) {
      section.append(el('p', { className: 'muted', text: 'No feature fires on this token.' }));
      return section;
    }
    section.append(this.rankControls());
    const rows = rankedFeatures(s, t, s.analysis!.displayTopK);
    const withDensity = t.features.some((f) => f.density !== undefined);
    const table = el('table', { className: 'features', attrs: { 'data-testid': 'features' } });
    table.append(el('thead', {}, el('tr', {}, ...['Feature', 'Label', 'Activation', 'Share', ...(withDensity ? ['Density', 'Surprise'] : []), ''].map((h) => el('th', { text: h, attrs: { scope: 'col' } })))));
    const body = el('tbody');
    if (rows.length === 0) section.append(el('p', { className: 'muted', text: 'Only dense features fire on this token (uncheck “Hide dense features”).' }));
    for (const f of rows) {
      const userLabel = s.labels[f.id];
      const label = labelOf(s, f.id, f.label);
      const auto = userLabel === undefined && f.labelSource === 'auto';
      const labelCell = el('td', { className: label ? '' : 'muted', attrs: auto ? { title: 'Automatic label from the feature index; open the dashboard for its rule and scores' } : {} }, label ?? '—', ...(auto ? [el('span', { className: 'badge', text: 'auto' })] : []));
      const bar = el('span', { className: 'share-bar', attrs: { 'aria-hidden': 'true' } });
      bar.style.setProperty('--share', Math.max(0, Math.min(1, f.share)).toFixed(3));
      const clampInput = el('input', { attrs: { type: 'number', step: '0.5', value: fmt(f.activation * 2, 1), 'aria-label': `Clamp value for feature ${f.id}`, class: 'clamp-value' } });
      const row = el(
        'tr',
        { className: s.selectedFeature === f.id ? 'selected' : '', attrs: { 'data-feature': String(f.id) } },
        el('td', {}, button(`#${f.id}`, () => postToHost({ type: 'selectFeature', feature: s.selectedFeature === f.id ? null : f.id }), { 'aria-label': `Highlight feature ${f.id} where it fires`, 'data-testid': 'feature-button' }, 'link')),
        labelCell,
        el('td', { text: fmt(f.activation), className: 'num' }),
        el('td', { className: 'num' }, bar, ` ${pct(f.share)}`),
        ...(withDensity ? [el('td', { text: f.density !== undefined ? pct(f.density) : '—', className: `num${f.density !== undefined && f.density >= DENSE_DENSITY ? ' muted' : ''}` }), el('td', { text: fmt(surpriseOf(f)), className: 'num' })] : []),
        el(
          'td',
          { className: 'actions' },
          button('Dashboard', () => postToHost({ type: 'openFeature', feature: f.id }), { 'aria-label': `Open the dashboard of feature ${f.id}` }, 'secondary'),
          button('Zero', () => postToHost({ type: 'steer', feature: f.id, value: 0 }), { 'aria-label': `Zero feature ${f.id} and compare next-token predictions` }, 'secondary'),
          clampInput,
          button('Clamp', () => postToHost({ type: 'steer', feature: f.id, value: Number(clampInput.value) || 0 }), { 'aria-label': `Clamp feature ${f.id} to the value and compare` }, 'secondary'),
        ),
      );
      body.append(row);
    }
    table.append(body);
    section.append(table);
    return section;
  }

  private rankControls(): HTMLElement {
    const s = this.state;
    const select = el('select', { attrs: { 'aria-label': 'Rank features by', 'data-testid': 'rank-by' } }, ...(['activation', 'share', 'surprise'] as const).map((r) => {
      const o = el('option', { text: { activation: 'activation', share: 'share of the reconstruction', surprise: 'surprise (activation × rarity)' }[r], attrs: { value: r } });
      if (r === s.rankBy) o.setAttribute('selected', '');
      return o;
    }));
    select.addEventListener('change', () => this.dispatch({ type: 'rankBy', rankBy: (select as HTMLSelectElement).value as RankBy }));
    const box = el('input', { attrs: { type: 'checkbox', 'data-testid': 'hide-dense', ...(s.hideDense ? { checked: '' } : {}) } });
    box.addEventListener('change', () => this.dispatch({ type: 'hideDense', hide: (box as HTMLInputElement).checked }));
    return el('div', { className: 'rank-controls' }, el('label', {}, 'Rank by ', select), ' ', el('label', {}, box, ` Hide dense features (≥ ${pct(DENSE_DENSITY)} of tokens)`));
  }

  private steering(): HTMLElement {
    const r = this.state.steering!;
    const list = (title: string, items: readonly { token: string; probability: number }[]) =>
      el('div', { className: 'next-tokens' }, el('h3', { text: title }), el('ol', {}, ...items.map((i) => el('li', { text: `${JSON.stringify(i.token)} ${pct(i.probability)}` }))));
    return el(
      'section',
      { className: 'steering', attrs: { 'aria-label': 'Steering result', 'data-testid': 'steering' } },
      el('h2', { text: `Steering: feature #${r.feature} ${r.value === 0 ? 'zeroed' : `clamped to ${fmt(r.value)}`}` }),
      el('p', { className: 'muted', text: `Next token after the analyzed text. KL(before ‖ after) = ${r.kl.toExponential(2)} nats.` }),
      el('div', { className: 'columns' }, list('Before', r.before), list('After', r.after)),
    );
  }
}
