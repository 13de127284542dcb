// Weight variants of one model export: transformers.js publishes onnx/model.onnx, model_fp16.onnx,
// model_quantized.onnx, model_q4.onnx… side by side and the user picks one. File names only, no ONNX
// Runtime: the extension host lists them for its Quick Pick.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Weight variants of one export as transformers.js publishes them (onnx/model.onnx, model_fp16.onnx,
 * model_quantized.onnx, ...): file-name suffix → variant name the user picks.
 */
const VARIANT_SUFFIXES: readonly (readonly [string, string])[] = [
  ['_q4f16', 'q4f16'],
  ['_fp16', 'fp16'],
  ['_quantized', 'int8'],
  ['_int8', 'int8'],
  ['_uint8', 'uint8'],
  ['_q4', 'q4'],
  ['_bnb4', 'bnb4'],
  ['', 'fp32'],
];

/** Variants from full precision down, the order they are listed to the user. */
export const VARIANT_ORDER = ['fp32', 'fp16', 'int8', 'uint8', 'q4', 'q4f16', 'bnb4'];

export interface ModelVariant {
  /** fp32, fp16, int8, uint8, q4, q4f16 or bnb4. */
  readonly variant: string;
  readonly onnxFile: string;
}

/** What a decoder .onnx file name says about its weights (undefined for names of other exports). */
function variantOf(file: string): string | undefined {
  const stem = file.replace(/\.onnx$/, '');
  for (const base of ['model', 'decoder_model_merged', 'decoder_model']) {
    for (const [suffix, variant] of VARIANT_SUFFIXES) if (stem === base + suffix) return variant;
  }
  return undefined;
}

/** The folder holding the .onnx files: the model folder, or its onnx/ subfolder (transformers.js layout). */
export function onnxFolder(dir: string): string {
  const sub = join(dir, 'onnx');
  const hasOnnx = (d: string) => readdirSync(d).some((f) => f.endsWith('.onnx'));
  if (!hasOnnx(dir) && existsSync(sub) && statSync(sub).isDirectory() && hasOnnx(sub)) return sub;
  return dir;
}

/**
 * The weight variants in a model folder (several only in the transformers.js layout, or when quantized
 * copies sit beside model.onnx), preferring model*.onnx over the decoder_model* names for each variant.
 */
export function listModelVariants(dir: string): ModelVariant[] {
  const folder = onnxFolder(dir);
  const files = readdirSync(folder).filter((f) => f.endsWith('.onnx')).sort();
  const rank = (f: string) => (f.startsWith('model') ? 0 : f.startsWith('decoder_model_merged') ? 1 : 2);
  const byVariant = new Map<string, string>();
  for (const f of [...files].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b))) {
    const v = variantOf(f);
    if (v && !byVariant.has(v)) byVariant.set(v, join(folder, f));
  }
  return VARIANT_ORDER.filter((v) => byVariant.has(v)).map((variant) => ({ variant, onnxFile: byVariant.get(variant) as string }));
}
