#!/usr/bin/env node
// Check that @huggingface/tokenizers (the JS port used by the extension) loads our
// tokenizer.json and produces exactly the ids of the Python reference (bpe.py).
// Usage: node tools/build-model/verify-tokenizer.mjs [path/to/tokenizer.json]
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');
const require = createRequire(path.join(root, 'package.json'));
const { Tokenizer } = require('@huggingface/tokenizers');

const tokPath = path.resolve(process.argv[2] ?? path.join(root, 'models', 'tiny-lm', 'tokenizer.json'));
const tokenizer = new Tokenizer(JSON.parse(fs.readFileSync(tokPath, 'utf8')), {});

const texts = [
  'Hello world! The quick brown fox jumps over the lazy dog.',
  "It's a test: don't, won't, they'll, we've, I'm, she'd.",
  'Emoji: 😀🎉 👩‍💻 and flags 🇩🇪; accents: café, naïve, Ελληνικά, 日本語テキスト.',
  'Windows line endings\r\nsecond line\r\n\r\nthird\r\n',
  '\tindented with tabs\n\t\tdouble tab\n    four spaces\n',
  'function add(a: number, b: number): number {\n  return a + b; // sum\n}\n',
  'export interface Foo<T> extends Bar { readonly x?: T[]; }\n\nconst s = `template ${x}`;',
  'numbers 12345 3.14159 1e-9 0xFF, trailing spaces   \n   ',
  'first doc<|endoftext|>second doc <|endoftext|> third',
  'odd\u00a0spaces\u2003here\u3000and\ufeffbom and \u0085 nel and \u000b vt',
  '',
  ' ',
];
const heldout = path.join(here, 'out', 'corpus', 'heldout.txt');
if (fs.existsSync(heldout)) texts.push(fs.readFileSync(heldout, 'utf8').slice(0, 20000));

const py = `
import json, sys
sys.path.insert(0, ${JSON.stringify(here)})
from bpe import ByteLevelBPE
tok = ByteLevelBPE.load(${JSON.stringify(tokPath)})
texts = json.loads(sys.stdin.read())
print(json.dumps([tok.encode(t) for t in texts]))
`;
const pyIds = JSON.parse(
  execFileSync('/usr/bin/python3', ['-c', py], { input: JSON.stringify(texts), maxBuffer: 1 << 28 }).toString(),
);

let bad = 0;
texts.forEach((t, i) => {
  const js = tokenizer.encode(t).ids;
  const ok = js.length === pyIds[i].length && js.every((x, j) => x === pyIds[i][j]);
  const dec = js.length === 0 ? '' : tokenizer.decode(js, { skip_special_tokens: false, clean_up_tokenization_spaces: false });
  const roundTrip = dec === t;
  if (!ok || !roundTrip) bad++;
  console.log(
    `${ok ? 'OK ' : 'DIFF'} ${roundTrip ? 'roundtrip' : 'NO-ROUNDTRIP'} ${js.length} ids  ${JSON.stringify(t.slice(0, 50))}`,
  );
  if (!ok) console.log('   js:', js.slice(0, 40).join(','), '\n   py:', pyIds[i].slice(0, 40).join(','));
});
console.log(bad ? `${bad} mismatches` : 'all texts match');
process.exit(bad ? 1 : 0);
