// feature-lens attribute: which SAE features made the model predict a token at a position, exactly (by
// ablation through the rest of the model), with the reconstruction error as its own row.
import { readFileSync } from 'node:fs';
import { attribute, type Attribution, type AttributionRow, type Effect, type JointEffect } from '../../core/analysis/attribution';
import { defaultLoaders } from '../../core/analysis/defaultLoaders';
import { AnalysisSession } from '../../core/analysis/session';
import { numberFlag, parseArgs, stringFlag, UsageError } from '../args';
import type { CliCommand } from '../command';
import { packageRoot } from './analyze';

const USAGE = `feature-lens attribute "some text" [--position N] [--target <token> | --target-id N] [--earlier | --here-only] [--rows 20]
                       [--model <dir>] [--sae <path>] [--hook <name>] [--site <hook>] [--json]

Explains the model's next-token prediction at token position N (default: the last token) by ablating each
SAE feature active there and re-running the rest of the model, all ablations as one batch: the drop of the
target token's logit and log-probability when the feature is removed at that position ("here") and at every
position up to it ("≤ pos"). The SAE's reconstruction error is its own row. The target is the model's top
prediction unless --target (one token, e.g. " the") or --target-id is given. --earlier also lists features
that fire only before the position; --here-only skips the "≤ pos" ablations (half the batch). The last lines compare the sum of single-feature effects with the
effect of ablating all features together. Defaults: the bundled model and SAE. Text "-" reads stdin.`;

const fmt = (v: number | undefined) => (v === undefined ? '—'.padStart(8) : (v >= 0 ? '+' : '') + v.toFixed(3)).padStart(8);

function rowName(r: AttributionRow): string {
  return r.kind === 'error' ? 'error (x − x̂)' : `#${r.feature}${r.label ? ` "${r.label}"` : ''}`;
}

function formatTable(a: Attribution, rows: number): string {
  const pct = (e: Effect, of: Effect) => (Math.abs(of.logit) > 1e-9 ? ` (${((e.logit / of.logit) * 100).toFixed(0)}% of joint)` : '');
  const lines = [
    `model ${a.model} · site ${a.site} · SAE ${a.sae}`,
    `position ${a.position} ${JSON.stringify(a.token)} → target ${JSON.stringify(a.target.token)} (id ${a.target.id}): logit ${a.target.logit.toFixed(3)}, ` +
      `log p ${a.target.logProb.toFixed(3)} (p ${a.target.probability.toFixed(3)})`,
    `top predictions: ${a.top.map((t) => `${JSON.stringify(t.token)} ${t.probability.toFixed(3)}`).join(', ')}`,
  ];
  if (a.windowStart !== undefined) lines.push(`(the context ends at the position: tokens before ${a.windowStart} are not seen)`);
  lines.push('', 'effect of ablating = clean − ablated (positive: it pushed the target up)', '');
  lines.push(`${'rank'.padStart(4)}  ${'row'.padEnd(28)} ${'act'.padStart(7)}  ${'Δlogit'.padStart(8)} ${'Δlog p'.padStart(8)}  ${'Δlogit≤'.padStart(8)} ${'Δlog p≤'.padStart(8)}`);
  a.rows.slice(0, rows).forEach((r, i) => {
    lines.push(
      `${String(i + 1).padStart(4)}  ${rowName(r).slice(0, 28).padEnd(28)} ${r.activation.toFixed(2).padStart(7)}  ${fmt(r.here?.logit)} ${fmt(r.here?.logProb)}  ${fmt(r.upTo?.logit)} ${fmt(r.upTo?.logProb)}`,
    );
  });
  const error = a.rows.findIndex((r) => r.kind === 'error');
  if (error >= rows) lines.push(`  …  (error term at rank ${error + 1}: Δlogit ${fmt(a.rows[error].here?.logit).trim()})`);
  if (a.rows.length > rows) lines.push(`  … ${a.rows.length - rows} more rows (--rows)`);
  const joint = (name: string, j: JointEffect) => [
    `${name.padEnd(17)}Σ single-feature Δlogit ${fmt(j.sumOfSingles.logit).trim()}, all features ablated together ${fmt(j.joint.logit).trim()}${pct(j.sumOfSingles, j.joint)}`,
    `${''.padEnd(17)}Σ single-feature Δlog p ${fmt(j.sumOfSingles.logProb).trim()}, together ${fmt(j.joint.logProb).trim()}`,
  ];
  lines.push('', ...joint('at the position:', a.here), ...(a.upTo ? joint('up to it:', a.upTo) : []), `${a.variants} ablations in one batch · ${a.elapsedMs.toFixed(0)} ms`);
  return lines.join('\n');
}

export const attributeCommand: CliCommand = {
  name: 'attribute',
  summary: 'which SAE features made the model predict a token (exact, by ablation)',
  usage: USAGE,
  async run(argv) {
    const args = parseArgs(argv, ['model', 'sae', 'hook', 'site', 'position', 'target', 'target-id', 'rows'], ['json', 'earlier', 'here-only']);
    if (args.positionals.length !== 1) throw new UsageError('give exactly one text argument (quote it)');
    const text = args.positionals[0] === '-' ? readFileSync(0, 'utf8') : args.positionals[0];
    const position = numberFlag(args, 'position');
    const rows = numberFlag(args, 'rows', 20)!;
    const targetText = stringFlag(args, 'target');
    const targetId = numberFlag(args, 'target-id');
    if (position !== undefined && (!Number.isInteger(position) || position < 0)) throw new UsageError('--position must be a token position (an integer ≥ 0)');
    if (!Number.isInteger(rows) || rows < 1) throw new UsageError('--rows must be a positive integer');
    if (targetText !== undefined && targetId !== undefined) throw new UsageError('give --target or --target-id, not both');
    if (targetId !== undefined && (!Number.isInteger(targetId) || targetId < 0)) throw new UsageError('--target-id must be a token id (an integer ≥ 0)');
    process.stderr.write('loading model and SAE…\n');
    const session = await AnalysisSession.open(
      { modelPath: stringFlag(args, 'model'), saePath: stringFlag(args, 'sae'), saeHook: stringFlag(args, 'hook'), site: stringFlag(args, 'site') },
      packageRoot(),
      defaultLoaders(),
    );
    try {
      for (const w of session.info.warnings) process.stderr.write(`warning: ${w}\n`);
      const choice = session.info.saeChoice;
      if (choice) throw new UsageError(`${session.info.saeProblem} (${choice.kind === 'hook' ? `--hook ${choice.hooks.join(' | ')}` : '--site <hook>'})`);
      const tokens = session.model.tokenize(text).ids.length;
      const result = await attribute(session.model, session.requireSae(), session.site, text, {
        position: position ?? tokens - 1,
        ...(targetText !== undefined ? { target: { text: targetText } } : targetId !== undefined ? { target: { id: targetId } } : {}),
        upTo: !args.flags.has('here-only'),
        includeEarlier: args.flags.has('earlier'),
      });
      process.stdout.write((args.flags.has('json') ? JSON.stringify(result, null, 2) : formatTable(result, rows)) + '\n');
      return 0;
    } finally {
      await session.dispose();
    }
  },
};
