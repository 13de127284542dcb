// --sae / --hook handling shared by the commands that read an SAE: one loader (core/formats/open-sae) for
// every format, warnings on stderr, and a usage error naming the hooks when a folder holds several SAEs.
import { MultipleSaesError } from '../../core/formats/detect';
import { openSae, type OpenedSae } from '../../core/formats/open-sae';
import { requireFlag, stringFlag, UsageError, type ParsedArgs } from '../args';

export const SAE_FLAGS = ['sae', 'hook'] as const;

export const SAE_USAGE = `  --sae <path>       the SAE, in any supported format: SAELens folder, Gemma Scope params.npz (or its folder),
                     sparsify folder (or its parent: one sub-folder per hook), dictionary_learning ae.pt;
                     transcoders of SAELens, sparsify and Gemma Scope too
  --hook <name>      which SAE of a folder holding several (not needed when it holds one)`;

export function openSaeOption(args: ParsedArgs, flag = 'sae'): OpenedSae {
  const path = requireFlag(args, flag);
  let opened: OpenedSae;
  try {
    opened = openSae(path, { hook: stringFlag(args, 'hook') });
  } catch (err) {
    if (err instanceof MultipleSaesError) throw new UsageError(`${err.message}: pass --hook ${err.hooks.join(' | ')}`);
    throw err;
  }
  for (const w of opened.warnings) process.stderr.write(`warning: ${w}\n`);
  return opened;
}
