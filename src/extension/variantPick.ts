// Which weights to load from a model folder holding several copies of one export (transformers.js:
// onnx/model.onnx, model_fp16.onnx, model_quantized.onnx, model_q4.onnx…): a Quick Pick, with the last
// choice (the featureLens.modelVariant setting) first; the choice is written back to that setting.
import * as vscode from 'vscode';
import { statSync } from 'node:fs';
import { basename } from 'node:path';
import { listModelVariants, type ModelVariant } from '../core/runtime/variants';

const DESCRIPTIONS: Record<string, string> = {
  fp32: 'full precision',
  fp16: 'half precision',
  int8: '8-bit weights (dynamic quantization)',
  uint8: '8-bit weights (unsigned)',
  q4: '4-bit weights (MatMulNBits)',
  q4f16: '4-bit weights, half-precision activations',
  bnb4: '4-bit weights (bitsandbytes layout)',
};

/** The variants of a model folder; none for a file or a folder with one copy. */
export function folderVariants(path: string | undefined): ModelVariant[] {
  if (!path) return [];
  try {
    return statSync(path).isDirectory() ? listModelVariants(path) : [];
  } catch {
    return [];
  }
}

/** The remembered variant when the folder has it. */
export function rememberedVariant(path: string | undefined): string | undefined {
  const remembered = vscode.workspace.getConfiguration('featureLens').get<string>('modelVariant', '');
  return remembered && folderVariants(path).some((v) => v.variant === remembered) ? remembered : undefined;
}

/**
 * The variant to load from `path`: undefined when there is nothing to choose, null when the user cancelled.
 * `ask: false` (a path handed in by a test or link) takes the remembered variant, else the default.
 */
export async function pickVariant(path: string, ask: boolean): Promise<string | undefined | null> {
  const variants = folderVariants(path);
  if (variants.length < 2) return undefined;
  const remembered = rememberedVariant(path);
  if (!ask) return remembered;
  const size = (file: string) => {
    try {
      return `${(statSync(file).size / 2 ** 20).toFixed(1)} MiB`;
    } catch {
      return '';
    }
  };
  const ordered = remembered ? [...variants.filter((v) => v.variant === remembered), ...variants.filter((v) => v.variant !== remembered)] : variants;
  const picked = await vscode.window.showQuickPick(
    ordered.map((v) => ({
      label: v.variant,
      description: `${DESCRIPTIONS[v.variant] ?? ''}${v.variant === remembered ? ' · last used' : ''}`,
      detail: `${basename(v.onnxFile)} · ${size(v.onnxFile)}`,
      variant: v.variant,
    })),
    { placeHolder: `${basename(path)} holds ${variants.length} copies of its weights: which one?` },
  );
  if (!picked) return null;
  await vscode.workspace.getConfiguration('featureLens').update('modelVariant', picked.variant, vscode.ConfigurationTarget.Global);
  return picked.variant;
}
