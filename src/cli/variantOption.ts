// --variant for every command that loads a model: in a folder with several weight copies of one export
// (transformers.js: onnx/model.onnx, model_fp16.onnx, model_quantized.onnx, model_q4.onnx…) it picks one.
// It is resolved here, before the command parses its options, into --model <the variant's .onnx file>:
// every loader accepts a file and finds tokenizer.json and config.json above onnx/, so no command needs
// to know about variants.
import { existsSync, statSync } from 'node:fs';
import { listModelVariants, resolveModelFiles } from '../core/runtime';
import { UsageError } from './args';

export const VARIANT_USAGE = `  --variant <v>      which weights of a folder holding several (transformers.js onnx/model*.onnx): fp32, fp16, int8, uint8, q4, q4f16 or bnb4`;

/** `argv` with --variant v (or --variant=v) removed and --model replaced by the variant's file. */
export function applyVariant(argv: readonly string[], takesModel: boolean, defaultModel: () => string): string[] {
  let variant: string | undefined;
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      rest.push(...argv.slice(i));
      break;
    }
    if (a === '--variant') {
      variant = argv[i + 1];
      if (variant === undefined || variant.startsWith('--')) throw new UsageError('--variant needs a value');
      i++;
    } else if (a.startsWith('--variant=')) {
      variant = a.slice('--variant='.length);
    } else {
      rest.push(a);
    }
  }
  if (variant === undefined) return rest;
  if (!takesModel) throw new UsageError('--variant goes with --model: this command loads no model');
  const at = rest.findIndex((a) => a === '--model' || a.startsWith('--model='));
  const model = at < 0 ? defaultModel() : rest[at].startsWith('--model=') ? rest[at].slice('--model='.length) : rest[at + 1];
  if (model === undefined || model.startsWith('--')) throw new UsageError('--model needs a value');
  if (existsSync(model) && !statSync(model).isDirectory()) {
    throw new UsageError(`--variant picks one of the .onnx files of a model folder, but --model ${model} is a file: pass the folder, or the variant's file without --variant`);
  }
  const known = listModelVariantsOrNone(model);
  if (known !== undefined && !known.includes(variant)) {
    throw new UsageError(`--variant ${variant}: ${model} has ${known.length ? known.join(', ') : 'no weight variants'}`);
  }
  const file = resolveModelFiles(model, variant).onnxFile;
  if (at < 0) return [...rest, '--model', file];
  return rest[at].startsWith('--model=') ? [...rest.slice(0, at), `--model=${file}`, ...rest.slice(at + 1)] : [...rest.slice(0, at + 1), file, ...rest.slice(at + 2)];
}

/** The variants of a model folder; undefined when it cannot be read (resolveModelFiles then explains). */
function listModelVariantsOrNone(path: string): string[] | undefined {
  try {
    return listModelVariants(path).map((v) => v.variant);
  } catch {
    return undefined;
  }
}
