// "Why this prediction?": the exact attribution of one next-token prediction, as a ranked list of features
// with the SAE's error term as its own row; each feature row opens its dashboard.
import type { AttributionResult, Effect } from '../../src/protocol/steering';
import { button, el, fmt, pct } from './dom';
import { displayToken } from './state/tokenView';
import { postToHost } from './vscodeApi';

const MAX_ROWS = 30;

const signed = (v: number | undefined) => (v === undefined ? '—' : `${v >= 0 ? '+' : ''}${fmt(v, 3)}`);

export function attributionView(a: AttributionResult, labels: Readonly<Record<number, string>>): HTMLElement {
  const target = el('input', { attrs: { type: 'text', value: a.target.token, 'aria-label': 'Target token (one token)', class: 'target-token' } });
  const explain = () => postToHost({ type: 'attribute', index: a.position, target: target.value });
  target.addEventListener('keydown', (e) => e.key === 'Enter' && explain());
  const table = el('table', { className: 'features attribution', attrs: { 'data-testid': 'attribution' } });
  table.append(
    el('thead', {}, el('tr', {}, ...['Rank', 'Row', 'Activation', 'Δ logit', 'Δ log p', 'Δ logit ≤', 'Δ log p ≤'].map((h) => el('th', { text: h, attrs: { scope: 'col' } })))),
  );
  const body = el('tbody');
  a.rows.slice(0, MAX_ROWS).forEach((r, i) => {
    const label = r.feature !== undefined ? (labels[r.feature] ?? r.label) : undefined;
    const name =
      r.kind === 'error'
        ? el('span', { text: 'error term (x − x̂)', attrs: { title: 'The part of the activation the SAE does not reconstruct' } })
        : button(`#${r.feature}${label ? ` ${label}` : ''}`, () => postToHost({ type: 'openFeature', feature: r.feature! }), { 'aria-label': `Open the dashboard of feature ${r.feature}` }, 'link');
    body.append(
      el(
        'tr',
        { className: r.kind === 'error' ? 'error-row' : '' },
        el('td', { text: String(i + 1), className: 'num' }),
        el('td', {}, name),
        el('td', { text: fmt(r.activation), className: 'num' }),
        el('td', { text: signed(r.here?.logit), className: 'num' }),
        el('td', { text: signed(r.here?.logProb), className: 'num' }),
        el('td', { text: signed(r.upTo?.logit), className: 'num' }),
        el('td', { text: signed(r.upTo?.logProb), className: 'num' }),
      ),
    );
  });
  table.append(body);
  const joint = (where: string, j: { joint: Effect; sumOfSingles: Effect }) =>
    el('li', {
      text: `${where}: Σ single-feature Δ logit ${signed(j.sumOfSingles.logit)} vs all features ablated together ${signed(j.joint.logit)} (Δ log p ${signed(j.sumOfSingles.logProb)} vs ${signed(j.joint.logProb)})`,
    });
  return el(
    'section',
    { className: 'attribution-view', attrs: { 'aria-label': 'Why this prediction', 'data-testid': 'attribution-view' } },
    el('h2', { text: `Why ${JSON.stringify(displayToken(a.target.token))} after token ${a.position + 1} (${JSON.stringify(displayToken(a.token))})?` }),
    el('p', {
      className: 'muted',
      text: `p ${pct(a.target.probability)} · logit ${fmt(a.target.logit, 3)} · top: ${a.top
        .slice(0, 5)
        .map((t) => `${JSON.stringify(t.token)} ${pct(t.probability)}`)
        .join(', ')}`,
    }),
    el('p', {}, el('label', {}, 'Target token: ', target), ' ', button('Explain', explain, { 'aria-label': 'Attribute the prediction of this token instead' }, 'secondary')),
    el('p', { className: 'muted', text: `Exact effects of ablating each row (clean − ablated; positive = it pushed the target up), at the token and at every token up to it (≤), computed with ${a.variants} re-runs of the model after the site in ${fmt(a.elapsedMs, 0)} ms.` }),
    table,
    ...(a.rows.length > MAX_ROWS ? [el('p', { className: 'muted', text: `${a.rows.length - MAX_ROWS} smaller rows not shown.` })] : []),
    el('ul', { className: 'muted' }, joint('At the token', a.here), ...(a.upTo ? [joint('Up to the token', a.upTo)] : [])),
  );
}
