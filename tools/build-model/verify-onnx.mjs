#!/usr/bin/env node
// Compare models/tiny-lm/model.onnx run by onnxruntime-node against the PyTorch
// reference logits written by export.py (out/export/reference.json), including a
// right-padded batch of 2, and run one greedy continuation end to end with the JS
// tokenizer to compare with out/export/samples.json.
// Usage: node tools/build-model/verify-onnx.mjs [models/tiny-lm]
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');
const require = createRequire(path.join(root, 'package.json'));
const ort = require('onnxruntime-node');
const { Tokenizer } = require('@huggingface/tokenizers');

const modelDir = path.resolve(process.argv[2] ?? path.join(root, 'models', 'tiny-lm'));
const ref = JSON.parse(fs.readFileSync(path.join(here, 'out', 'export', 'reference.json'), 'utf8'));
const session = await ort.InferenceSession.create(path.join(modelDir, 'model.onnx'));
console.log('inputs:', session.inputNames, 'outputs:', session.outputNames);

const i64 = (rows) =>
  new ort.Tensor('int64', BigInt64Array.from(rows.flat().map((v) => BigInt(v))), [rows.length, rows[0].length]);

async function run(ids, mask, pos) {
  const out = await session.run({ input_ids: i64(ids), attention_mask: i64(mask), position_ids: i64(pos) });
  return out.logits;
}

const logits = await run(ref.input_ids, ref.attention_mask, ref.position_ids);
const [B, T, V] = logits.dims;
let maxAll = 0;
let maxReal = 0;
for (let b = 0; b < B; b++)
  for (let t = 0; t < T; t++)
    for (let v = 0; v < V; v++) {
      const d = Math.abs(logits.data[(b * T + t) * V + v] - ref.logits[b][t][v]);
      maxAll = Math.max(maxAll, d);
      if (t < ref.lengths[b]) maxReal = Math.max(maxReal, d);
    }
// each row alone (no padding) must give the same logits as inside the padded batch
let maxSingle = 0;
for (let b = 0; b < B; b++) {
  const n = ref.lengths[b];
  const row = ref.input_ids[b].slice(0, n);
  const out = await run([row], [row.map(() => 1)], [row.map((_, i) => i)]);
  for (let t = 0; t < n; t++)
    for (let v = 0; v < V; v++)
      maxSingle = Math.max(maxSingle, Math.abs(out.data[t * V + v] - ref.single_logits[b][t][v]));
}
console.log(`logits dims [${logits.dims}]`);
console.log(`max |onnx - torch| all positions (right-padded batch of 2): ${maxAll.toExponential(2)}`);
console.log(`max |onnx - torch| real-token positions:                   ${maxReal.toExponential(2)}`);
console.log(`max |onnx(unpadded row) - torch(unpadded row)|:             ${maxSingle.toExponential(2)}`);

// greedy continuation with the JS tokenizer + ONNX
const tok = new Tokenizer(JSON.parse(fs.readFileSync(path.join(modelDir, 'tokenizer.json'), 'utf8')), {});
const samplesPath = path.join(here, 'out', 'export', 'samples.json');
let greedyOk = true;
if (fs.existsSync(samplesPath)) {
  const samples = JSON.parse(fs.readFileSync(samplesPath, 'utf8'));
  for (const s of samples.slice(0, 2)) {
    const ids = tok.encode(s.prompt).ids;
    for (let k = 0; k < 40; k++) {
      const out = await run([ids], [ids.map(() => 1)], [ids.map((_, i) => i)]);
      const off = (ids.length - 1) * V;
      let best = 0;
      for (let v = 1; v < V; v++) if (out.data[off + v] > out.data[off + best]) best = v;
      if (best === 0) break;
      ids.push(best);
    }
    const text = tok.decode(ids, { skip_special_tokens: false, clean_up_tokenization_spaces: false });
    const same = text === s.completion;
    greedyOk &&= same;
    console.log(`greedy ${same ? 'matches PyTorch' : 'DIFFERS'}: ${JSON.stringify(text)}`);
  }
}
const ok = maxAll < 1e-3 && maxSingle < 1e-3 && greedyOk;
console.log(ok ? 'ONNX OK' : 'ONNX MISMATCH');
process.exit(ok ? 0 : 1);
