// feature-lens sites: the hook sites the graph analysis finds in a model, with their shapes.
import { parseArgs } from '../args';
import type { CliCommand } from '../command';
import { MODEL_FLAGS, MODEL_USAGE, openModel } from './modelOption';

export const sitesCommand: CliCommand = {
  name: 'sites',
  summary: 'List the hook sites of a model (TransformerLens names) with their shapes',
  usage: ['Usage: feature-lens sites [--model <path>] [--json]', '', MODEL_USAGE, '  --json             print JSON instead of a table'].join('\n'),
  async run(argv) {
    const args = parseArgs(argv, [...MODEL_FLAGS], ['json']);
    const lm = await openModel(args);
    try {
      const sites = lm.sites().map((s) => ({ ...s, shape: ['tokens', s.dim], tensor: lm.siteTensor(s.name) }));
      if (args.flags.has('json')) {
        process.stdout.write(JSON.stringify({ model: lm.info, sites }, null, 2) + '\n');
      } else {
        const { name, layers, dModel, vocabSize, contextLength } = lm.info;
        const lines = [`${name}: ${layers} layers, d_model ${dModel}, vocabulary ${vocabSize}, context ${contextLength} (${lm.info.onnxFile})`, ''];
        const width = Math.max(...sites.map((s) => s.name.length));
        for (const s of sites) lines.push(`${s.name.padEnd(width)}  [tokens, ${s.dim}]  ${s.tensor}`);
        process.stdout.write(lines.join('\n') + '\n');
      }
      return 0;
    } finally {
      await lm.dispose();
    }
  },
};
