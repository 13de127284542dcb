// --model handling shared by the model commands: the default is the bundled model, found relative to the
// running script (dist/cli.js or src/cli/commands/*.ts under tsx) by walking up to feature-lens's package.json.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { loadModel, type OnnxLanguageModel } from '../../core/runtime';
import { numberFlag, stringFlag, UsageError, type ParsedArgs } from '../args';

export const MODEL_FLAGS = ['model', 'threads', 'cache-dir'] as const;

export const MODEL_USAGE = `  --model <path>     model folder (model.onnx + tokenizer.json) or .onnx file; default: the bundled models/tiny-lm
  --threads <n>      ONNX Runtime intra-op threads (default 2)
  --cache-dir <dir>  where edited models are cached (default: <tmp>/feature-lens-cache)`;

export function bundledModelPath(from: string = __dirname): string {
  for (let dir = from; dirname(dir) !== dir; dir = dirname(dir)) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'feature-lens') return join(dir, 'models', 'tiny-lm');
      } catch {
        // not ours; keep walking
      }
    }
  }
  throw new Error(`cannot find the bundled model: no feature-lens package.json above ${from}; pass --model`);
}

export async function openModel(args: ParsedArgs): Promise<OnnxLanguageModel> {
  const threads = numberFlag(args, 'threads');
  if (threads !== undefined && (!Number.isInteger(threads) || threads < 1)) throw new UsageError('--threads must be a positive integer');
  const path = stringFlag(args, 'model') ?? bundledModelPath();
  return loadModel(path, { intraOpThreads: threads, cacheDir: stringFlag(args, 'cache-dir') });
}
