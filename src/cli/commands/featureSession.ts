// Opening the model + SAE for the feature-index commands (index, label), with the same defaults as analyze.
import { join } from 'node:path';
import { defaultLoaders } from '../../core/analysis/defaultLoaders';
import { AnalysisSession } from '../../core/analysis/session';
import type { IndexTarget } from '../../core/features/sessionIndex';
import { stringFlag, UsageError, type ParsedArgs } from '../args';
import { packageRoot } from './analyze';

export const SESSION_FLAGS = ['model', 'sae', 'hook', 'site', 'corpus'] as const;

export async function openFeatureSession(args: ParsedArgs): Promise<{ session: AnalysisSession; target: IndexTarget; folder: string; corpusPath: string }> {
  const root = packageRoot();
  process.stderr.write('loading model and SAE…\n');
  const session = await AnalysisSession.open(
    { modelPath: stringFlag(args, 'model'), saePath: stringFlag(args, 'sae'), saeHook: stringFlag(args, 'hook'), site: stringFlag(args, 'site') },
    root,
    defaultLoaders(),
  );
  const choice = session.info.saeChoice;
  if (choice) {
    await session.dispose();
    const flag = choice.kind === 'hook' ? `--hook ${choice.hooks.join(' | ')}` : choice.kind === 'site' ? '--site <hook>' : '--site-out <hook>';
    throw new UsageError(`${session.info.saeProblem} (${flag})`);
  }
  for (const w of session.info.warnings) process.stderr.write(`warning: ${w}\n`);
  const sae = session.requireSae();
  const target: IndexTarget = session.indexTarget(sae);
  return { session, target, folder: session.labelsDir!, corpusPath: stringFlag(args, 'corpus') ?? join(root, 'models', 'sample-corpus') };
}

/** One progress line on stderr, rewritten in place. */
export function progressLine(text: string): void {
  if (process.stderr.isTTY) process.stderr.write(`\r${text}\x1b[K`);
}
