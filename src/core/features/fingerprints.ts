// Content fingerprints that tie an index to the SAE, model and corpus it was built from. Content, not
// file times: a fresh clone or a copied folder keeps its index valid; retrained weights invalidate it.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolveModelFiles } from '../runtime/model';
import type { SaeWeights } from '../sae/weights';

export function saeFingerprint(weights: SaeWeights): string {
  const hash = createHash('sha256');
  hash.update(JSON.stringify({ architecture: weights.config.architecture, dIn: weights.config.dIn, dSae: weights.config.dSae }));
  for (const name of [...weights.tensors.keys()].sort()) {
    const t = weights.tensors.get(name)!;
    hash.update(name).update(JSON.stringify(t.shape)).update(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  }
  return hash.digest('hex').slice(0, 32);
}

/**
 * Over the ONNX file and tokenizer; a model without files (tests) is named by `fallback`. `onnxFile`: the
 * weights actually loaded when the folder holds several variants (fp32, int8…), whose activations differ.
 */
export function modelFingerprint(modelPath: string | undefined, fallback: string, onnxFile?: string): string {
  const hash = createHash('sha256');
  try {
    if (!modelPath) throw new Error('no path');
    const files = resolveModelFiles(modelPath);
    hash.update(readFileSync(onnxFile ?? files.onnxFile));
    if (files.tokenizerFile) hash.update(readFileSync(files.tokenizerFile));
  } catch {
    hash.update(`model:${fallback}`);
  }
  return hash.digest('hex').slice(0, 32);
}
