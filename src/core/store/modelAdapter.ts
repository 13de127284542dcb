// Bridges the runtime's LanguageModel to what the store needs: flat window batches in, one stacked
// [batch·T, d] matrix out, and a content hash of the weights as the model's identity.
import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import type { LanguageModel } from '../runtime/types';
import type { Matrix } from '../tensor';
import type { ActivationModel } from './types';

export function activationModelOf(lm: LanguageModel, contextLength = lm.info.contextLength): ActivationModel {
  const tokenizer = lm.tokenizer;
  if (!tokenizer) throw new Error(`${lm.info.onnxFile} has no tokenizer.json next to it: cannot tokenize a corpus`);
  const dims = new Map(lm.sites().map((s) => [s.name, s.dim]));
  return {
    id: fileHash(lm.info.onnxFile),
    contextLength,
    separatorId: tokenizer.eosId ?? lm.info.eosId,
    siteDim(site) {
      const d = dims.get(site);
      if (d === undefined) throw new Error(`unknown hook site "${site}"; this model has ${[...dims.keys()].join(', ')}`);
      return d;
    },
    tokenize: (text) => tokenizer.encode(text).ids,
    async activations(ids, batch, site) {
      const T = contextLength;
      const seqs = Array.from({ length: batch }, (_, b) => ids.subarray(b * T, (b + 1) * T));
      const per = (await lm.activations(seqs, [site])).get(site);
      if (!per || per.length !== batch) throw new Error(`runtime returned no activations for ${site}`);
      const dim = per[0].cols;
      const out: Matrix = { data: new Float32Array(batch * T * dim), rows: batch * T, cols: dim };
      per.forEach((m, b) => out.data.set(m.data.subarray(0, T * dim), b * T * dim));
      return out;
    },
  };
}

/** sha256 of a file, read in 1 MB pieces (model files can be large). */
export function fileHash(path: string): string {
  const h = createHash('sha256');
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(1 << 20);
    for (let pos = 0; ; ) {
      const n = readSync(fd, buf, 0, buf.length, pos);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
      pos += n;
    }
  } finally {
    closeSync(fd);
  }
  return h.digest('hex').slice(0, 16);
}
