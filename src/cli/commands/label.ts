import { readCorpusFiles } from '../../core/features/corpusFiles';
import { labelFeatures } from '../../core/features/labelFeatures';
import { formatSummary, summarizeLabels } from '../../core/features/labelSummary';
import { buildIndexFor, indexPathFor, openCurrentIndex, sessionEncoder } from '../../core/features/sessionIndex';
import { KEY_KINDS } from '../../core/features/tokenKeys';
import { parseArgs, stringFlag, UsageError } from '../args';
import type { CliCommand } from '../command';
import { openFeatureSession, progressLine, SESSION_FLAGS } from './featureSession';

const USAGE = `feature-lens label [--sae <path>] [--corpus <dir|file>] [--index <file>] [--model <dir>] [--hook <name>] [--site <hook>] [--json]

Labels every live feature automatically from its feature index (built first when missing or out of date):
the rule over tokens, neighbouring tokens, bigrams, character classes, positions or repetition that best picks
out where it fires, as a short label plus the rule. Each label is scored on the held-out windows the index
never counted: detection AUROC, balanced accuracy and simulation correlation. Labels are stored in the index;
labels users typed (feature_labels.json) are not touched and win over automatic ones.`;

export const labelCommand: CliCommand = {
  name: 'label',
  summary: 'label every live feature automatically, scored on held-out text',
  usage: USAGE,
  async run(argv) {
    const args = parseArgs(argv, [...SESSION_FLAGS, 'index'], ['json']);
    if (args.positionals.length > 0) throw new UsageError(`unexpected argument ${args.positionals[0]}`);
    const { session, target, folder, corpusPath } = await openFeatureSession(args);
    try {
      const path = stringFlag(args, 'index') ?? indexPathFor(folder);
      const corpus = readCorpusFiles(corpusPath);
      const opened = await openCurrentIndex(path, target, corpus);
      let db;
      if ('db' in opened) db = opened.db;
      else {
        process.stderr.write(`${opened.reason}: building it\n`);
        db = await buildIndexFor(target, corpusPath, { corpus, onProgress: (p) => progressLine(`${p.phase} ${p.done}/${p.total}`) });
      }
      const labels = await labelFeatures(db, sessionEncoder(target), (p) => progressLine(`${p.phase} ${p.done}/${p.total}`));
      await db.save(path);
      const live = [...db.fireCounts()].filter((n) => n > 0).length;
      db.close();
      progressLine('');
      const summary = summarizeLabels(labels, live, KEY_KINDS);
      process.stdout.write(args.flags.has('json') ? JSON.stringify({ index: path, ...summary }, null, 2) + '\n' : `wrote labels to ${path}\n${formatSummary(summary)}\n`);
      return 0;
    } finally {
      await session.dispose();
    }
  },
};
