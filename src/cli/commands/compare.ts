// feature-lens compare: two or more SAEs at one site side by side — L0, FVU, ΔLM loss, loss recovered, KL,
// dead and dense — plus feature matching between the first two by decoder cosine. Metrics are cached
// beside each checkpoint (evaluations.json), keyed by the evaluation set.
import { compareCheckpoints, type EvalSet } from '../../core/compare/compareCheckpoints';
import { activationsEvalSet, modelEvalSet } from '../../core/compare/evalSets';
import { loadModel } from '../../core/runtime/model';
import { corpusEvalWindows } from '../../core/store/evalWindows';
import type { CheckpointComparison } from '../../protocol/compare';
import { numberFlag, parseArgs, stringFlag, UsageError } from '../args';
import type { CliCommand } from '../command';

export function formatComparison(c: CheckpointComparison): string {
  const f = (v: number | undefined, d = 4) => (v === undefined || !Number.isFinite(v) ? '–' : v.toPrecision(d));
  const rows = [['SAE', 'arch', 'd_sae', 'L0', 'FVU', 'ΔLM', 'loss rec.', 'KL', 'dead', 'dense', '']];
  for (const x of c.checkpoints) {
    const m = x.metrics;
    rows.push([x.label, x.architecture, String(x.dSae), f(m.l0), f(m.fvu, 3), f(m.deltaLoss, 3), f(m.lossRecovered, 3), f(m.kl, 3), String(m.deadFeatures), String(m.denseFeatures), x.cached ? '(cached)' : '']);
  }
  const widths = rows[0].map((_, j) => Math.max(...rows.map((r) => r[j].length)));
  const lines = [`site ${c.site} (d_in ${c.dIn}), evaluated on ${c.evalSet}`, ...rows.map((r) => r.map((v, j) => v.padEnd(widths[j])).join('  ').trimEnd())];
  const m = c.matching;
  if (m) {
    lines.push('', `feature matching ${m.a} → ${m.b} by decoder cosine (${m.method}, one to one):`);
    lines.push('  ' + m.matchedAbove.map((t) => `cos ≥ ${t.threshold}: ${t.count}`).join('   '));
    lines.push(`  unmatched (below ${m.matchedAbove[0]?.threshold}): ${m.unmatchedA.length} of ${m.a}, ${m.unmatchedB.length} of ${m.b}`);
  }
  return lines.join('\n') + '\n';
}

export const compareCommand: CliCommand = {
  name: 'compare',
  summary: 'Compare two or more SAEs at one site: metrics table and feature matching by decoder cosine',
  usage: [
    'Usage: feature-lens compare <sae> <sae> [<sae>...] (--acts acts.npy | --model <dir> --corpus <dir>)',
    '                            [--site <hook>] [--tokens N] [--seed N] [--max-file-mb M] [--json]',
    '',
    'Each <sae> is any format the loader reads (SAELens, Gemma Scope, sparsify, dictionary_learning). All',
    'must read the same site and width. With --acts: L0, FVU, dead, dense on its first --tokens rows (default',
    '8192); with --model and --corpus also ΔLM loss, loss recovered and KL on --tokens tokens of the corpus.',
    'Results are cached in evaluations.json beside each SAE. The first two SAEs are matched feature to',
    'feature by decoder cosine (greedy one-to-one): counts above 0.5/0.7/0.9/0.99, and the unmatched.',
  ].join('\n'),
  async run(argv) {
    const args = parseArgs(argv, ['acts', 'model', 'corpus', 'site', 'tokens', 'seed', 'max-file-mb'], ['json']);
    const paths = args.positionals;
    if (paths.length < 2) throw new UsageError('give two or more SAEs to compare');
    const tokens = numberFlag(args, 'tokens', 8192) ?? 8192;
    if (!(Number.isInteger(tokens) && tokens >= 1)) throw new UsageError('--tokens must be a positive integer');
    const seed = numberFlag(args, 'seed', 0) ?? 0;
    const acts = stringFlag(args, 'acts');
    const modelPath = stringFlag(args, 'model');
    const corpusDir = stringFlag(args, 'corpus');
    const site = stringFlag(args, 'site');
    const progress = (message: string) => process.stderr.write(`compare: ${message}\n`);
    let result: CheckpointComparison;
    if (acts !== undefined) {
      if (modelPath || corpusDir) throw new UsageError('--acts, or --model with --corpus, not both');
      result = await compareCheckpoints(paths, activationsEvalSet(acts, tokens), { site, onProgress: progress });
    } else if (modelPath && corpusDir) {
      const lm = await loadModel(modelPath);
      try {
        const windows = await corpusEvalWindows(lm, modelPath, corpusDir, {
          tokens,
          seed,
          maxFileBytes: (numberFlag(args, 'max-file-mb', 4) ?? 4) * 1024 * 1024,
        });
        const set: EvalSet = modelEvalSet({ lm, modelPath, corpusDir, windows, seed });
        result = await compareCheckpoints(paths, set, { site, onProgress: progress });
      } finally {
        await lm.dispose();
      }
    } else {
      throw new UsageError('give --acts, or --model and --corpus');
    }
    process.stdout.write(args.flags.has('json') ? JSON.stringify(result, null, 2) + '\n' : formatComparison(result));
    return 0;
  },
};
