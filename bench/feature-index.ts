// The feature index on the bundled model, SAE and sample corpus: how fast a dashboard opens from it, against
// the reference measured in the same run (the dashboard as computed before the index: encode 4,096 corpus
// tokens, then one feature's statistics, the first-open cost), and why SQLite: opening the stored index and
// searching it, against the same data as one gzip'd JSON file (parse) and a linear scan over its texts.
//   npm run build && npx tsx bench/feature-index.ts [--sae <dir>] [--features 30] [--build]
// --build also times a full index build + labelling (a minute or two here) against one forward pass over the corpus.
import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { CorpusIndex, featureDashboard, readCorpus } from '../src/core/analysis/dashboard';
import { defaultLoaders } from '../src/core/analysis/defaultLoaders';
import { AnalysisSession, findBundledSae } from '../src/core/analysis/session';
import { FeatureBook } from '../src/core/features/featureBook';
import { FeatureIndexDb, INDEX_FILE } from '../src/core/features/indexDb';
import { openFeatureBook } from '../src/core/features/openBook';

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const time = async <T>(f: () => Promise<T> | T): Promise<[T, number]> => {
  const t = performance.now();
  const r = await f();
  return [r, performance.now() - t];
};

async function main(): Promise<void> {
  const root = resolve(__dirname, '..');
  const saePath = flag('sae', '') || findBundledSae(root)!;
  const corpusPath = join(root, 'models', 'sample-corpus');
  const session = await AnalysisSession.open({ saePath }, root, defaultLoaders());
  const sae = session.requireSae();
  const names = { model: session.model.name, site: session.site, sae: sae.name };

  // Reference: the pre-index dashboard (first open builds a 4,096-token corpus encoding, then one feature).
  const [ref, refMs] = await time(async () => {
    const index = await CorpusIndex.build(session.model, sae, session.site, corpusPath, readCorpus(corpusPath), { maxTokens: 4096, windowTokens: 64 });
    return featureDashboard(session.model, sae, session.site, index, 5, { examples: 12, context: 8, logitTokens: 10 });
  });

  // Open the stored index (read, gunzip, SQLite open, labels and densities), then dashboards from it.
  const path = join(session.labelsDir!, INDEX_FILE);
  const [book, openMs] = await time(async () => new FeatureBook((await FeatureIndexDb.read(path))!, path));
  const live = [...book.db.fireCounts().entries()].filter(([, n]) => n > 0).map(([f]) => f);
  const count = Number(flag('features', '30'));
  const picks = Array.from({ length: count }, (_, i) => live[Math.floor((i * live.length) / count)]);
  const dashMs: number[] = [];
  for (const f of picks) dashMs.push((await time(() => book.dashboard(f, names, sae.labels, 12)))[1]);
  // The full check the worker does on first use (fingerprints of SAE, model files and corpus + open).
  const [, checkedOpenMs] = await time(() => openFeatureBook({ model: session.model, sae, site: session.site, modelPath: session.modelPath }, session.labelsDir!, corpusPath, { build: false }).then((o) => o.book?.close()));

  // The same data as one JSON document: what a file-based index would parse before the first dashboard.
  const all = live.map((f) => book.dashboard(f, names, sae.labels, 12));
  const json = gzipSync(JSON.stringify(all));
  const [, jsonMs] = await time(() => JSON.parse(gunzipSync(json).toString('utf8')));
  const queries = ['the', 'function', 'interface', 'said', 'number', 'return'];
  const ftsMs: number[] = [];
  const scanMs: number[] = [];
  for (const q of queries) {
    ftsMs.push((await time(() => book.search(q, 'text', sae.labels, 50)))[1]);
    scanMs.push((await time(() => all.filter((d) => `${d.label} ${d.autoLabel?.rule} ${d.examples.map((e) => e.tokens.join('')).join(' ')}`.toLowerCase().includes(q)).length))[1]);
  }

  const stored = readFileSync(path).length;
  console.log(`reference: dashboard computed without the index (first open) ${refMs.toFixed(0)} ms (feature ${ref.feature})`);
  console.log(`dashboard from the index: median ${median(dashMs).toFixed(1)} ms over ${count} live features = ${(median(dashMs) / refMs).toExponential(2)} × reference`);
  console.log(`open the index: ${openMs.toFixed(0)} ms (${(openMs / refMs).toFixed(3)} × reference); with fingerprint checks ${checkedOpenMs.toFixed(0)} ms (${(checkedOpenMs / refMs).toFixed(3)} ×)`);
  console.log(`storage: SQLite gz ${(stored / 1e6).toFixed(2)} MB vs all dashboards as gz JSON ${(json.length / 1e6).toFixed(2)} MB (${(json.length / stored).toFixed(2)} ×); JSON gunzip+parse ${jsonMs.toFixed(0)} ms = ${(jsonMs / openMs).toFixed(2)} × SQLite open`);
  console.log(`search: FTS4 median ${median(ftsMs).toFixed(2)} ms vs substring scan over the JSON's texts ${median(scanMs).toFixed(2)} ms (${(median(scanMs) / median(ftsMs)).toFixed(2)} ×)`);

  if (process.argv.includes('--build')) {
    const ids = session.model.tokenize(readCorpus(corpusPath, 20_000).map((d) => d.text).join('\n')).ids;
    const [, fwdMs] = await time(() => session.model.activations(Int32Array.from(ids.slice(0, 4096)), session.site));
    const out = join(root, '.feature-lens-cache', 'bench-feature-index');
    mkdirSync(out, { recursive: true });
    const [built, buildMs] = await time(() => openFeatureBook({ model: session.model, sae, site: session.site, modelPath: session.modelPath }, out, corpusPath, { build: true, rebuild: true }));
    console.log(`build + label: ${(buildMs / 1000).toFixed(1)} s (${built.built?.liveFeatures} live, ${built.built?.labelled} labelled) = ${(buildMs / fwdMs).toFixed(0)} × one 4,096-token forward pass (${fwdMs.toFixed(0)} ms)`);
    built.book?.close();
  }
  book.close();
  await session.dispose();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
