import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { analyzeText } from '../../core/analysis/analyzeText';
import { defaultLoaders } from '../../core/analysis/defaultLoaders';
import { AnalysisSession } from '../../core/analysis/session';
import { openFeatureBook } from '../../core/features/openBook';
import { RANKINGS, rankTokens, type Ranking } from '../../core/features/rankHits';
import type { AnalysisResult } from '../../protocol/analysis';
import { numberFlag, parseArgs, stringFlag, UsageError } from '../args';
import type { CliCommand } from '../command';

/** Features per token taken before re-ranking (as the worker sends the token view). */
const RERANK_TOP_K = 32;

const USAGE = `feature-lens analyze "some text" [--model <dir>] [--sae <path>] [--hook <name>] [--site <hook>] [--site-out <hook>] [--top 5] [--rank surprise|activation|share] [--show-dense] [--max-tokens 1024] [--json]

Runs the text through the model to the SAE's hook site, encodes it with the SAE and prints, per token,
its strongest features (activation and share of the reconstruction), its reconstruction error and L0.
The SAE may be in any supported format (SAELens, Gemma Scope params.npz, sparsify, dictionary_learning ae.pt);
--hook picks one SAE of a folder holding several. A transcoder's features are read at --site (default: its
input hook) and its reconstruction error is against --site-out (default: its output hook). Defaults: the
bundled model and SAE. Text "-" reads stdin.

When the SAE has a current feature index (see \`feature-lens index\`), features carry their automatic labels and
are ranked by surprise (activation × −log of how often the feature fires on the indexed corpus), so a token's
distinctive features come first; dense features (firing on ≥ 10 % of tokens) are hidden unless --show-dense.
--rank activation|share restores the plain orderings. Without an index, features are ranked by activation.`;

/** The folder holding models/: the package root, found from this file whether bundled or run from source. */
export function packageRoot(from: string = __dirname): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && /"name":\s*"feature-lens"/.test(readFileSync(pkg, 'utf8'))) return dir;
    if (dirname(dir) === dir) return resolve(from, '..');
  }
}

function formatTable(r: AnalysisResult): string {
  const lines = [`model ${r.model} · site ${r.site} · SAE ${r.sae} (d_sae ${r.dSae})`];
  if (r.truncatedFrom !== undefined) lines.push(`(input cut to ${r.tokens.length} of ${r.truncatedFrom} tokens)`);
  lines.push('');
  r.tokens.forEach((t, i) => {
    const feats = t.features.map((f) => `#${f.id}${f.label ? ` ${f.labelSource === 'auto' ? '~' : ''}"${f.label}"` : ''} ${f.activation.toFixed(2)} (${(f.share * 100).toFixed(0)}%)`).join(', ');
    lines.push(`${String(i).padStart(4)} ${JSON.stringify(t.text).padEnd(16)} L0 ${String(t.l0).padStart(3)}  err ${t.reconError.toFixed(3)}  ${feats || '—'}`);
  });
  lines.push('', '~"…" = automatic label from the feature index (see `feature-lens label`); "…" = your label', `mean L0 ${r.meanL0.toFixed(1)} · mean reconstruction error ${r.meanReconError.toFixed(3)} · ${r.elapsedMs.toFixed(0)} ms`);
  return lines.join('\n');
}

export const analyzeCommand: CliCommand = {
  name: 'analyze',
  summary: 'per-token SAE features of a text',
  usage: USAGE,
  async run(argv) {
    const args = parseArgs(argv, ['model', 'sae', 'hook', 'site', 'site-out', 'top', 'max-tokens', 'rank'], ['json', 'show-dense']);
    if (args.positionals.length !== 1) throw new UsageError('give exactly one text argument (quote it)');
    const text = args.positionals[0] === '-' ? readFileSync(0, 'utf8') : args.positionals[0];
    const topK = numberFlag(args, 'top', 5)!;
    const maxTokens = numberFlag(args, 'max-tokens', 1024)!;
    if (!Number.isInteger(topK) || topK < 1) throw new UsageError('--top must be a positive integer');
    if (!Number.isInteger(maxTokens) || maxTokens < 1) throw new UsageError('--max-tokens must be a positive integer');
    const rankFlag = stringFlag(args, 'rank');
    if (rankFlag !== undefined && !(RANKINGS as readonly string[]).includes(rankFlag)) throw new UsageError(`--rank must be one of ${RANKINGS.join(', ')}`);
    const root = packageRoot();
    process.stderr.write('loading model and SAE…\n');
    const session = await AnalysisSession.open(
      {
        modelPath: stringFlag(args, 'model'),
        saePath: stringFlag(args, 'sae'),
        saeHook: stringFlag(args, 'hook'),
        site: stringFlag(args, 'site'),
        siteOut: stringFlag(args, 'site-out'),
      },
      root,
      defaultLoaders(),
    );
    try {
      for (const w of session.info.warnings) process.stderr.write(`warning: ${w}\n`);
      const choice = session.info.saeChoice;
      if (choice) {
        const flag = choice.kind === 'hook' ? `--hook ${choice.hooks.join(' | ')}` : choice.kind === 'site' ? '--site <hook>' : '--site-out <hook>';
        throw new UsageError(`${session.info.saeProblem} (${flag})`);
      }
      const sae = session.requireSae();
      // Automatic labels and densities from a current feature index beside the SAE (user labels win); none is built here.
      const opened = session.labelsDir
        ? await openFeatureBook(session.indexTarget(sae), session.labelsDir, join(root, 'models', 'sample-corpus'), { build: false }).catch(() => ({ book: undefined }))
        : { book: undefined };
      // With densities known, take more features per token so re-ranking and hiding dense ones still fill --top.
      const rank: Ranking = (rankFlag as Ranking | undefined) ?? (opened.book ? 'surprise' : 'activation');
      const raw = await analyzeText(session.model, sae, session.site, text, { topK: opened.book ? Math.max(topK, RERANK_TOP_K) : topK, maxTokens });
      const annotated = opened.book ? opened.book.annotate(raw, sae.labels) : raw;
      opened.book?.close();
      const result = { ...annotated, tokens: rankTokens(annotated.tokens, rank, !args.flags.has('show-dense'), topK) };
      if (args.flags.has('json')) {
        const { active: _active, ...rest } = result;
        process.stdout.write(JSON.stringify(rest, null, 2) + '\n');
      } else {
        process.stdout.write(formatTable(result) + '\n');
      }
      return 0;
    } finally {
      await session.dispose();
    }
  },
};
