// feature-lens generate: a greedy continuation, as a quick sanity check of a model.
import { numberFlag, parseArgs, requireFlag } from '../args';
import type { CliCommand } from '../command';
import { MODEL_FLAGS, MODEL_USAGE, openModel } from './modelOption';

export const generateCommand: CliCommand = {
  name: 'generate',
  summary: 'Greedy continuation of a prompt (a quick model sanity check)',
  usage: [
    'Usage: feature-lens generate [--model <path>] --prompt <text> [--tokens N] [--json]',
    '',
    MODEL_USAGE,
    '  --tokens N         new tokens to generate (default 32)',
    '  --json             print {prompt, continuation, ids} as JSON',
  ].join('\n'),
  async run(argv) {
    const args = parseArgs(argv, [...MODEL_FLAGS, 'prompt', 'tokens'], ['json']);
    const prompt = requireFlag(args, 'prompt');
    const n = numberFlag(args, 'tokens', 32) as number;
    if (!Number.isInteger(n) || n < 1 || n > 4096) throw new Error('--tokens must be an integer in 1..4096');
    const lm = await openModel(args);
    try {
      if (!lm.tokenizer) throw new Error(`${lm.info.onnxFile} has no tokenizer.json next to it`);
      const ids = lm.tokenizer.encode(prompt).ids;
      if (ids.length === 0) throw new Error('the prompt has no tokens');
      const out = await lm.generate(ids, n);
      const continuation = lm.tokenizer.decode(out);
      if (args.flags.has('json')) process.stdout.write(JSON.stringify({ prompt, continuation, ids: Array.from(out) }) + '\n');
      else process.stdout.write(`${prompt}${continuation}\n`);
      return 0;
    } finally {
      await lm.dispose();
    }
  },
};
