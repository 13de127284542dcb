// Exact attribution and steered generation on the bundled model and SAE, in-process (core only).
//  1. Attribution of the last position of texts of 16, 64 and 256 tokens with every feature active there,
//     each ablated at the position ("here": + error term + joint ablation) and, in the second mode, also at
//     every position up to it (twice the batch), one batch on the graph cut at the site, against one
//     forward pass (logits) of the same tokens: p50/p95 and ratio.
//  2. Greedy generation of 32 tokens with one intervention (steered run alone) against plain greedy
//     generation (one forward per token): tokens/s and ratio.
//   npx tsx bench/steer-attribute.ts [--runs 20] [--threads 2]
import { join, resolve } from 'node:path';
import { attribute } from '../src/core/analysis/attribution';
import { defaultLoaders } from '../src/core/analysis/defaultLoaders';
import { generateSideBySide } from '../src/core/analysis/generation';
import { GREEDY } from '../src/core/analysis/sampling';
import { AnalysisSession } from '../src/core/analysis/session';
import { softmax } from '../src/core/analysis/nextToken';

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

const root = resolve(__dirname, '..');
const runs = Number(flag('runs', '20'));
const threads = Number(flag('threads', '2'));
const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))];

async function main(): Promise<void> {
  const session = await AnalysisSession.open({}, root, defaultLoaders({ intraOpThreads: threads }));
  const { model, site } = session;
  const sae = session.requireSae();
  console.log(`model ${model.name} · site ${site} · SAE ${sae.name} (d_sae ${sae.weights.config.dSae}) · ${threads} ORT thread(s) · ${runs} runs each`);
  const corpus = join(root, 'models', 'sample-corpus', 'english-brown.txt');
  const text = (await import('node:fs')).readFileSync(corpus, 'utf8');
  const all = model.tokenize(text.slice(0, 20000));

  console.log('\nattribution of one position (all its active features) vs one forward pass of the same tokens');
  console.log('mode     tokens  features  variants  attribute p50   p95    forward p50   p95    ratio p50');
  for (const [mode, upTo] of [['here', false], ['here+≤', true]] as const)
  for (const n of [16, 64, 256]) {
    const piece = text.slice(0, all.offsets[2 * n - 1]);
    const ids = model.tokenize(piece).ids;
    const forward = () => model.lastLogits(ids);
    const attr = () => attribute(model, sae, site, piece, { position: ids.length - 1, upTo });
    let last = await attr();
    for (let i = 0; i < 3; i++) {
      await forward();
      last = await attr();
    }
    const ta: number[] = [];
    const tf: number[] = [];
    for (let i = 0; i < runs; i++) {
      let t = performance.now();
      await forward();
      tf.push(performance.now() - t);
      t = performance.now();
      await attr();
      ta.push(performance.now() - t);
    }
    const features = last.rows.filter((r) => r.kind === 'feature').length;
    const [a50, a95, f50, f95] = [quantile(ta, 0.5), quantile(ta, 0.95), quantile(tf, 0.5), quantile(tf, 0.95)];
    console.log(
      `${mode.padEnd(7)}  ${String(ids.length).padStart(6)}  ${String(features).padStart(8)}  ${String(last.variants).padStart(8)}  ${a50.toFixed(1).padStart(10)} ${a95.toFixed(1).padStart(6)} ms  ${f50.toFixed(1).padStart(8)} ${f95.toFixed(1).padStart(6)} ms  ${(a50 / f50).toFixed(1).padStart(7)}×`,
    );
  }

  console.log('\ngreedy generation, 32 new tokens after a 32-token prompt: one intervention vs plain');
  const prompt = text.slice(0, all.offsets[2 * 32 - 1]);
  const promptIds = Array.from(model.tokenize(prompt).ids);
  const tokens = 32;
  const plain = async () => {
    const ids = [...promptIds];
    for (let k = 0; k < tokens; k++) {
      const p = softmax(await model.lastLogits(Int32Array.from(ids.slice(-model.contextLength))));
      let best = 0;
      for (let i = 1; i < p.length; i++) if (p[i] > p[best]) best = i;
      ids.push(best);
    }
  };
  const steered = () =>
    generateSideBySide(model, sae, site, prompt, {
      maxNewTokens: tokens,
      interventions: [{ feature: 0, op: { kind: 'clamp', value: 5 }, positions: { kind: 'all' } }],
      sampling: GREEDY,
      withClean: false,
    });
  await plain();
  await steered();
  const tp: number[] = [];
  const ts: number[] = [];
  const genRuns = Math.max(3, Math.floor(runs / 4));
  for (let i = 0; i < genRuns; i++) {
    let t = performance.now();
    await plain();
    tp.push(performance.now() - t);
    t = performance.now();
    await steered();
    ts.push(performance.now() - t);
  }
  const [p50, s50] = [quantile(tp, 0.5), quantile(ts, 0.5)];
  const rate = (ms: number) => (tokens / (ms / 1000)).toFixed(0);
  console.log(`plain ${rate(p50)} tokens/s · with the intervention ${rate(s50)} tokens/s · ratio ${(p50 / s50).toFixed(2)} (${genRuns} runs, p50)`);
  await session.dispose();
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
