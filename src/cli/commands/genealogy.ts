// feature-lens genealogy: how a run's features were born, split, merged and died, checkpoint to checkpoint,
// from the decoder directions of the checkpoints training keeps (<run>.checkpoints/), or of SAEs given in order.
import { eventCounts, featureTimeline } from '../../core/compare/genealogy';
import { genealogyOf } from '../../core/compare/runGenealogy';
import type { Genealogy } from '../../protocol/compare';
import { numberFlag, parseArgs, stringFlag, UsageError } from '../args';
import type { CliCommand } from '../command';

const MAX_LISTED = 12;

export function formatGenealogy(g: Genealogy): string {
  const lines = [`${g.checkpoints.length} checkpoints; same feature at cos ≥ ${g.sameAbove}, related at cos ≥ ${g.relatedAbove}`];
  for (const t of g.transitions) {
    const a = g.checkpoints[t.from];
    const b = g.checkpoints[t.from + 1];
    const n = eventCounts(t);
    lines.push(`${a.label} → ${b.label}: ${n.continued} continued, ${n.birth} born, ${n.death} died, ${n.split} split, ${n.merge} merged`);
    const splits = t.events.flatMap((e) => (e.kind === 'split' ? [`#${e.parent} → ${e.children.map((c) => `#${c}`).join(' + ')} (fit ${e.fit.toFixed(2)})`] : []));
    const merges = t.events.flatMap((e) => (e.kind === 'merge' ? [`${e.parents.map((p) => `#${p}`).join(' + ')} → #${e.child} (fit ${e.fit.toFixed(2)})`] : []));
    const more = (xs: string[]) => xs.slice(0, MAX_LISTED).join(', ') + (xs.length > MAX_LISTED ? `, … (${xs.length - MAX_LISTED} more)` : '');
    if (splits.length) lines.push(`  splits: ${more(splits)}`);
    if (merges.length) lines.push(`  merges: ${more(merges)}`);
  }
  return lines.join('\n') + '\n';
}

export const genealogyCommand: CliCommand = {
  name: 'genealogy',
  summary: "Feature genealogy across a run's checkpoints: births, splits, merges and deaths by decoder cosine",
  usage: [
    'Usage: feature-lens genealogy --run <folder> [--feature N [--at K]] [--same 0.8] [--related 0.5] [--json]',
    '       feature-lens genealogy <sae> <sae> [<sae>...] [same options]',
    '',
    "--run: a training run folder (its checkpoints are kept in <folder>.checkpoints/step-N/), or a folder of",
    'SAE sub-folders in name order. Decoder directions are matched from each checkpoint to the next: a mutual',
    'best match at cos ≥ --same continues; a feature rebuilt from several related (cos ≥ --related) ones split',
    'or merged; the rest were born or died. --feature N prints the timeline of feature N of checkpoint --at',
    '(default: the last).',
  ].join('\n'),
  async run(argv) {
    const args = parseArgs(argv, ['run', 'feature', 'at', 'same', 'related'], ['json']);
    const run = stringFlag(args, 'run');
    if (run !== undefined && args.positionals.length > 0) throw new UsageError('give --run or the checkpoints, not both');
    if (run === undefined && args.positionals.length < 2) throw new UsageError('give --run <folder>, or two or more checkpoints in order');
    const sameAbove = numberFlag(args, 'same', 0.8) ?? 0.8;
    const relatedAbove = numberFlag(args, 'related', 0.5) ?? 0.5;
    if (!(relatedAbove > 0 && relatedAbove <= sameAbove && sameAbove <= 1)) throw new UsageError('need 0 < --related ≤ --same ≤ 1');
    const g = genealogyOf(run ?? args.positionals, { sameAbove, relatedAbove, onProgress: (done, of) => process.stderr.write(`genealogy: ${done}/${of} transitions\n`) });
    const feature = numberFlag(args, 'feature', undefined);
    if (feature !== undefined) {
      const at = numberFlag(args, 'at', g.checkpoints.length - 1) ?? g.checkpoints.length - 1;
      const timeline = featureTimeline(g, at, feature);
      if (args.flags.has('json')) process.stdout.write(JSON.stringify(timeline, null, 2) + '\n');
      else {
        const lines = g.checkpoints.map((c, i) => `${c.label.padEnd(14)} ${timeline.ids[i] === null ? '—' : `#${timeline.ids[i]}`}${timeline.marks.filter((m) => m.at === i).map((m) => `   ${m.text}`).join('')}`);
        process.stdout.write(`feature #${feature} of ${g.checkpoints[at].label}:\n${lines.join('\n')}\n`);
      }
      return 0;
    }
    process.stdout.write(args.flags.has('json') ? JSON.stringify(g, null, 2) + '\n' : formatGenealogy(g));
    return 0;
  },
};
