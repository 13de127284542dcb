import { readCorpusFiles } from '../../core/features/corpusFiles';
import { testHypothesis, type TokenRule } from '../../core/features/hypothesis';
import { buildIndexFor, indexPathFor, openCurrentIndex, sessionEncoder } from '../../core/features/sessionIndex';
import { numberFlag, parseArgs, stringFlag, UsageError } from '../args';
import type { CliCommand } from '../command';
import { openFeatureSession, progressLine, SESSION_FLAGS } from './featureSession';

const USAGE = `feature-lens hypothesis (--regex <pattern> | --tokens <w1,w2,…>) [--sae <path>] [--corpus <dir|file>] [--top 10] [--probe 3] [--json]

Is there a feature for X? Marks every token of the indexed corpus that the rule matches (--regex: a
JavaScript regular expression tested against each token's text, e.g. "^ ?[0-9]+$"; --tokens: words, case
and surrounding spaces ignored) and ranks the features by how well their activation detects it (AUROC on
the indexed split, and on the held-out split), with precision and recall of "the feature fires"; then fits
the best sparse logistic combination of up to --probe features and scores it on the held-out split.`;

export const hypothesisCommand: CliCommand = {
  name: 'hypothesis',
  summary: 'which features detect a rule over tokens (regex or word list), plus a tiny sparse probe',
  usage: USAGE,
  async run(argv) {
    const args = parseArgs(argv, [...SESSION_FLAGS, 'regex', 'tokens', 'top', 'probe'], ['json']);
    const regex = stringFlag(args, 'regex');
    const tokens = stringFlag(args, 'tokens');
    if ((regex === undefined) === (tokens === undefined)) throw new UsageError('give exactly one of --regex and --tokens');
    const hypothesis: TokenRule = regex !== undefined ? { kind: 'regex', pattern: regex } : { kind: 'tokens', tokens: tokens!.split(',') };
    const top = numberFlag(args, 'top', 10)!;
    const probeSize = numberFlag(args, 'probe', 3)!;
    if (!Number.isInteger(top) || top < 1 || !Number.isInteger(probeSize) || probeSize < 0) throw new UsageError('--top and --probe must be whole numbers');
    const { session, target, folder, corpusPath } = await openFeatureSession(args);
    try {
      const corpus = readCorpusFiles(corpusPath);
      const opened = await openCurrentIndex(indexPathFor(folder), target, corpus);
      let db;
      if ('db' in opened) db = opened.db;
      else {
        process.stderr.write(`${opened.reason}: building it (not saved; run feature-lens index to keep it)\n`);
        db = await buildIndexFor(target, corpusPath, { corpus, onProgress: (p) => progressLine(`${p.phase} ${p.done}/${p.total}`) });
      }
      const labels = db.autoLabels();
      const r = await testHypothesis(db, sessionEncoder(target), hypothesis, { top, probeSize });
      db.close();
      progressLine('');
      const named = (f: number) => session.requireSae().labels.get(f) ?? labels.get(f)?.label ?? '';
      if (args.flags.has('json')) {
        process.stdout.write(JSON.stringify({ ...r, labels: Object.fromEntries(r.detectors.map((d) => [d.feature, named(d.feature)])) }, null, 2) + '\n');
        return 0;
      }
      const lines = [`${r.positives} of ${r.tokens} indexed tokens match (${r.heldoutPositives} held out)`, '', 'feature   AUROC  held-out  precision  recall  label'];
      for (const d of r.detectors) {
        lines.push(`#${String(d.feature).padEnd(7)} ${d.auroc.toFixed(3)}  ${d.heldoutAuroc !== undefined ? d.heldoutAuroc.toFixed(3) : '  n/a'}     ${d.precision.toFixed(3)}    ${d.recall.toFixed(3)}  ${named(d.feature)}`);
      }
      if (r.probe) {
        lines.push('', `sparse probe: ${r.probe.features.map((f) => `${f.weight.toFixed(2)}·log1p(#${f.feature})`).join(' + ')} ${r.probe.bias >= 0 ? '+' : '−'} ${Math.abs(r.probe.bias).toFixed(2)}`);
        lines.push(`  AUROC ${r.probe.auroc.toFixed(3)} indexed, ${r.probe.heldoutAuroc !== undefined ? r.probe.heldoutAuroc.toFixed(3) : 'n/a'} held out`);
      }
      process.stdout.write(lines.join('\n') + '\n');
      return 0;
    } finally {
      await session.dispose();
    }
  },
};
