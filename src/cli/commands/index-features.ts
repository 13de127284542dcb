import { readCorpusFiles } from '../../core/features/corpusFiles';
import { buildIndexFor, indexPathFor } from '../../core/features/sessionIndex';
import { numberFlag, parseArgs, stringFlag, UsageError } from '../args';
import type { CliCommand } from '../command';
import { openFeatureSession, progressLine, SESSION_FLAGS } from './featureSession';

const USAGE = `feature-lens index [--sae <path>] [--corpus <dir|file>] [--out <file>] [--model <dir>] [--hook <name>] [--site <hook>] [--max-tokens 120000] [--json]

Builds the feature index of an SAE: encodes the corpus once and stores, per feature, its top-activating
contexts, samples from ten activation bands, firing density, activation histogram, co-firing features,
promoted/suppressed tokens and the key counts automatic labels are made from, in an SQLite file
(default: feature_index.sqlite beside the SAE). Every fifth corpus window is held out for scoring labels.
Defaults: the bundled model, SAE and sample corpus. Binary files in the corpus are skipped.`;

export const indexCommand: CliCommand = {
  name: 'index',
  summary: 'build the feature index (contexts, statistics) of an SAE',
  usage: USAGE,
  async run(argv) {
    const args = parseArgs(argv, [...SESSION_FLAGS, 'out', 'max-tokens'], ['json']);
    if (args.positionals.length > 0) throw new UsageError(`unexpected argument ${args.positionals[0]}`);
    const maxTokens = numberFlag(args, 'max-tokens', 120_000)!;
    if (!Number.isInteger(maxTokens) || maxTokens < 64) throw new UsageError('--max-tokens must be an integer ≥ 64');
    const { session, target, folder, corpusPath } = await openFeatureSession(args);
    try {
      const corpus = readCorpusFiles(corpusPath);
      for (const s of corpus.skipped) process.stderr.write(`skipped ${s.source}: ${s.reason}\n`);
      const started = Date.now();
      const db = await buildIndexFor(target, corpusPath, {
        corpus,
        build: { maxTokens },
        onProgress: (p) => progressLine(`${p.phase} ${p.done}/${p.total}`),
      });
      const out = stringFlag(args, 'out') ?? indexPathFor(folder);
      await db.save(out);
      const seconds = (Date.now() - started) / 1000;
      const bytes = db.bytes().length;
      const live = [...db.fireCounts()].filter((n) => n > 0).length;
      const summary = { out, seconds, bytes, live, dSae: db.meta.dSae, explainTokens: db.meta.explainTokens, heldoutTokens: db.meta.heldoutTokens, fingerprints: db.meta.fingerprints };
      db.close();
      progressLine('');
      process.stdout.write(
        args.flags.has('json')
          ? JSON.stringify(summary, null, 2) + '\n'
          : `wrote ${out} (${(bytes / 1e6).toFixed(2)} MB) in ${seconds.toFixed(1)} s: ${live} of ${summary.dSae} features fire on ${summary.explainTokens} indexed tokens (${summary.heldoutTokens} held out)\n`,
      );
      return 0;
    } finally {
      await session.dispose();
    }
  },
};
