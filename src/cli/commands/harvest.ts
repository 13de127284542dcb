// feature-lens harvest: activations at one hook site over a corpus → a float32 .npy [N, d].
import { resolve } from 'node:path';
import { exportStoreToNpy } from '../../core/store/manifest';
import { harvestCorpus } from '../../core/store/harvestCorpus';
import { numberFlag, parseArgs, requireFlag, stringFlag } from '../args';
import type { CliCommand } from '../command';
import { defaultCacheDir, progressLine } from './storeOptions';

export const harvestCommand: CliCommand = {
  name: 'harvest',
  summary: 'Harvest activations at a hook site from a text corpus into a .npy file',
  usage: [
    'Usage: feature-lens harvest --model <dir> --site <hook> --corpus <dir> --tokens N --out acts.npy',
    '                            [--cache <dir>] [--seed N] [--max-file-mb M] [--batch W] [--threads T]',
    '',
    'Text files under --corpus (recursively; binaries and files over --max-file-mb, default 4, skipped)',
    'are tokenized, cut into context windows (position 0 of each window excluded), shuffled across',
    'documents and run through the model. Shards are cached under --cache (default',
    '.feature-lens-cache/activations) and reused when model, site, corpus and context match.',
    'Prints a JSON summary on stdout.',
  ].join('\n'),
  async run(argv) {
    const args = parseArgs(argv, ['model', 'site', 'corpus', 'tokens', 'out', 'cache', 'seed', 'max-file-mb', 'batch', 'threads']);
    const out = resolve(requireFlag(args, 'out'));
    const tokens = numberFlag(args, 'tokens');
    if (!tokens || tokens <= 0) throw new Error('--tokens must be a positive number');
    const started = Date.now();
    const cache = await harvestCorpus({
      modelPath: requireFlag(args, 'model'),
      site: requireFlag(args, 'site'),
      corpusDir: requireFlag(args, 'corpus'),
      tokens,
      cacheDir: stringFlag(args, 'cache') ?? defaultCacheDir(),
      seed: numberFlag(args, 'seed', 0),
      maxFileBytes: (numberFlag(args, 'max-file-mb', 4) ?? 4) * 1024 * 1024,
      batchWindows: numberFlag(args, 'batch'),
      intraOpThreads: numberFlag(args, 'threads'),
      onListing: (files, skipped) => process.stderr.write(`corpus: ${files} text files (skipped ${skipped.tooLarge} too large, ${skipped.binary} binary)\n`),
      onProgress: progressLine(),
    });
    const rows = exportStoreToNpy(cache.dir, cache.manifest, out, tokens);
    const seconds = (Date.now() - started) / 1000;
    process.stderr.write('\n');
    const summary = {
      out,
      rows,
      dim: cache.manifest.dim,
      site: cache.manifest.site,
      contextLength: cache.manifest.contextLength,
      exhausted: cache.manifest.exhausted,
      reusedCache: cache.reused,
      cacheDir: cache.dir,
      seconds,
      tokensPerSecond: cache.reused ? undefined : rows / seconds,
      peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
    };
    process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
    return 0;
  },
};
