// feature-lens convert: read an SAE in any supported format and write it as SAELens (native) or sparsify.
import { writeSaeLensFolder } from '../../core/checkpoints/saelens';
import { writeSparsifyFolder } from '../../core/formats/sparsify';
import { parseArgs, requireFlag, stringFlag, UsageError } from '../args';
import type { CliCommand } from '../command';
import { openSaeOption } from './saeOption';

export const convertCommand: CliCommand = {
  name: 'convert',
  summary: 'Convert an SAE (SAELens, Gemma Scope, sparsify, dictionary_learning) to SAELens or sparsify',
  usage: [
    'Usage: feature-lens convert --from <path> --to <dir> [--format saelens|sparsify] [--hook <name>]',
    '',
    '  --from <path>      SAELens folder, sparsify folder (or its parent with one folder per hook),',
    '                     Gemma Scope params.npz (or its folder), dictionary_learning ae.pt (or its folder)',
    '  --to <dir>         output folder (replaced atomically if it exists)',
    '  --format <f>       saelens (default, Feature Lens native) or sparsify (TopK SAEs only)',
    '  --hook <name>      which SAE of a multi-SAE folder to convert (not needed when it holds one)',
  ].join('\n'),
  async run(argv) {
    const args = parseArgs(argv, ['from', 'to', 'format', 'hook']);
    const from = requireFlag(args, 'from');
    const to = requireFlag(args, 'to');
    const format = stringFlag(args, 'format') ?? 'saelens';
    if (format !== 'saelens' && format !== 'sparsify') throw new UsageError(`--format must be saelens or sparsify, got "${format}"`);
    const summary = await convertSae(from, to, format, stringFlag(args, 'hook'));
    process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
    return 0;
  },
};

export interface ConvertSummary {
  readonly from: string;
  readonly fromFormat: string;
  readonly to: string;
  readonly toFormat: 'saelens' | 'sparsify';
  readonly architecture: string;
  readonly dIn: number;
  readonly dSae: number;
  readonly k?: number;
  readonly hookName: string | null;
  readonly warnings: readonly string[];
}

/** Reads `from` through the one loader (warnings go to stderr) and writes it in `format` at `to`. */
export async function convertSae(from: string, to: string, format: 'saelens' | 'sparsify', hook?: string): Promise<ConvertSummary> {
  const flags = new Map<string, string | true>([['sae', from], ...(hook !== undefined ? [['hook', hook] as [string, string]] : [])]);
  const { loaded } = openSaeOption({ positionals: [], flags });
  if (format === 'saelens') await writeSaeLensFolder(to, loaded.weights, { sparsity: loaded.sparsity });
  else await writeSparsifyFolder(to, loaded.weights);
  const { config } = loaded.weights;
  return {
    from: loaded.source,
    fromFormat: loaded.format,
    to,
    toFormat: format,
    architecture: config.architecture,
    dIn: config.dIn,
    dSae: config.dSae,
    ...(config.k !== undefined ? { k: config.k } : {}),
    hookName: config.hookName ?? null,
    warnings: loaded.warnings,
  };
}
