// feature-lens activations: one text (or id list) through the model, the activations at one site → .npy.
import { resolve } from 'node:path';
import { writeNpyMatrix } from '../../core/npy';
import { numberFlag, parseArgs, requireFlag, stringFlag, UsageError } from '../args';
import type { CliCommand } from '../command';
import { MODEL_FLAGS, MODEL_USAGE, openModel } from './modelOption';

function parseIds(text: string): Int32Array {
  const parts = text.split(',').map((s) => s.trim());
  return Int32Array.from(
    parts.map((p, i) => {
      if (!/^\d+$/.test(p)) throw new UsageError(`--ids: item ${i} ("${p}") is not a non-negative integer`);
      return Number(p);
    }),
  );
}

export const activationsCommand: CliCommand = {
  name: 'activations',
  summary: 'Write the activations at one hook site for a text or token ids to a float32 .npy [n_tokens, d]',
  usage: [
    'Usage: feature-lens activations [--model <path>] --site <name> (--text <t> | --ids 1,2,3) --out acts.npy',
    '                                [--max-tokens N] [--stride S]',
    '',
    MODEL_USAGE,
    '  --site <name>      e.g. blocks.2.hook_resid_post (see `feature-lens sites`)',
    '  --text <t>         text to tokenize ("-" reads stdin); --ids gives token ids instead',
    '  --max-tokens N     cap on tokens processed (default 8192); longer inputs are cut, with a message',
    '  --stride S         for inputs longer than the context: tokens between window starts (default context/2)',
    '',
    'Inputs longer than the context run in overlapping windows; each token is taken from the window where it has',
    'the most left context. Prints a JSON summary on stdout.',
  ].join('\n'),
  async run(argv) {
    const args = parseArgs(argv, [...MODEL_FLAGS, 'site', 'text', 'ids', 'out', 'max-tokens', 'stride']);
    const site = requireFlag(args, 'site');
    const out = resolve(requireFlag(args, 'out'));
    const text = stringFlag(args, 'text');
    const idsText = stringFlag(args, 'ids');
    if ((text === undefined) === (idsText === undefined)) throw new UsageError('give exactly one of --text and --ids');
    const maxTokens = numberFlag(args, 'max-tokens');
    const stride = numberFlag(args, 'stride');
    const lm = await openModel(args);
    try {
      let ids: Int32Array;
      if (text !== undefined) {
        if (!lm.tokenizer) throw new Error(`${lm.info.onnxFile} has no tokenizer.json next to it: use --ids`);
        const input = text === '-' ? (await import('node:fs')).readFileSync(0, 'utf8') : text;
        ids = lm.tokenizer.encode(input).ids;
      } else {
        ids = parseIds(idsText as string);
      }
      if (ids.length === 0) throw new Error('the input has no tokens');
      const r = await lm.activationsLong(ids, [site], { maxTokens, stride });
      if (r.message) process.stderr.write(`${r.message}\n`);
      const acts = r.acts.get(site)!;
      writeNpyMatrix(out, acts);
      const summary = { out, site, tokens: acts.rows, dim: acts.cols, tokensTotal: r.tokensTotal, truncated: r.truncated, model: lm.info.onnxFile };
      process.stdout.write(JSON.stringify(summary) + '\n');
      return 0;
    } finally {
      await lm.dispose();
    }
  },
};
