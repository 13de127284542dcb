#!/usr/bin/env node
// Plots bench/l0-sweep.ts results (one or more --out JSON files) as an SVG with two panels, L0 vs FVU and
// L0 vs ΔLM loss, log-scaled L0, one line per architecture; also prints the merged markdown table.
//
//   node bench/l0-sweep-plot.mjs out.svg sweep-a.json [sweep-b.json …]
import { readFileSync, writeFileSync } from 'node:fs';

const [outSvg, ...inputs] = process.argv.slice(2);
if (!outSvg || inputs.length === 0) {
  console.error('usage: node bench/l0-sweep-plot.mjs out.svg sweep.json [more.json …]');
  process.exit(2);
}
const rows = inputs.flatMap((f) => JSON.parse(readFileSync(f, 'utf8')).rows).filter((r) => !String(r.run).includes(':'));
const arches = [...new Set(rows.map((r) => r.arch))];
const colours = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e'];
const byL0 = (r) => String(r.run).includes('@');
/** Where a row sorts and what it asked for: its target L0, or for a λ run the L0 it reached and its λ. */
const target = (r) => (byL0(r) ? String(r.value) : `λ ${r.value}`);
const order = (r) => (byL0(r) ? r.value : r.l0);

const W = 360;
const H = 260;
const pad = { l: 56, r: 12, t: 28, b: 40 };
function panel(x0, metric, title) {
  const pts = rows.filter((r) => Number.isFinite(r[metric]) && r.l0 > 0);
  const lx = pts.map((r) => Math.log2(r.l0));
  const ys = pts.map((r) => Math.log10(r[metric]));
  const [xMin, xMax] = [Math.min(...lx) - 0.2, Math.max(...lx) + 0.2];
  const [yMin, yMax] = [Math.min(...ys) - 0.05, Math.max(...ys) + 0.05];
  const X = (v) => x0 + pad.l + ((Math.log2(v) - xMin) / (xMax - xMin)) * (W - pad.l - pad.r);
  const Y = (v) => pad.t + (1 - (Math.log10(v) - yMin) / (yMax - yMin)) * (H - pad.t - pad.b);
  const out = [`<text x="${x0 + W / 2}" y="16" text-anchor="middle" font-size="13">${title}</text>`];
  out.push(`<rect x="${x0 + pad.l}" y="${pad.t}" width="${W - pad.l - pad.r}" height="${H - pad.t - pad.b}" fill="none" stroke="#999"/>`);
  // Tick at the asked-for L0s (arch@L0 runs); λ runs (arch~λ, e.g. Gated) sit at the L0 they reached.
  for (const l0 of [...new Set(pts.filter(byL0).map((r) => r.value))].sort((a, b) => a - b)) {
    out.push(`<text x="${X(l0)}" y="${H - pad.b + 14}" text-anchor="middle" font-size="10">${l0}</text>`);
  }
  out.push(`<text x="${x0 + W / 2}" y="${H - 6}" text-anchor="middle" font-size="11">L0 (log scale)</text>`);
  for (let e = Math.ceil(yMin * 4) / 4; e <= yMax; e += 0.25) {
    out.push(`<text x="${x0 + pad.l - 4}" y="${Y(10 ** e) + 3}" text-anchor="end" font-size="10">${(10 ** e).toPrecision(2)}</text>`);
  }
  arches.forEach((a, i) => {
    const line = pts.filter((r) => r.arch === a).sort((p, q) => p.l0 - q.l0);
    const c = colours[i % colours.length];
    out.push(`<polyline fill="none" stroke="${c}" stroke-width="2" points="${line.map((r) => `${X(r.l0).toFixed(1)},${Y(r[metric]).toFixed(1)}`).join(' ')}"/>`);
    for (const r of line) out.push(`<circle cx="${X(r.l0).toFixed(1)}" cy="${Y(r[metric]).toFixed(1)}" r="3" fill="${c}"/>`);
    out.push(`<text x="${x0 + W - pad.r - 4}" y="${pad.t + 14 + 13 * i}" text-anchor="end" font-size="11" fill="${c}">${a}</text>`);
  });
  return out.join('\n');
}
const svg = [
  `<svg xmlns="http://www.w3.org/2000/svg" width="${2 * W}" height="${H}" font-family="sans-serif">`,
  '<rect width="100%" height="100%" fill="white"/>',
  panel(0, 'fvu', 'FVU vs L0 (log scale)'),
  panel(W, 'deltaLoss', 'ΔLM loss (nats) vs L0 (log scale)'),
  '</svg>',
].join('\n');
writeFileSync(outSvg, svg + '\n');

const f = (v, d) => (Number.isFinite(v) ? v.toFixed(d) : 'n/a');
console.log('| architecture | target L0 (or λ) | L0 | FVU | ΔLM loss | KL | dead | dense |');
console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
for (const r of [...rows].sort((p, q) => order(p) - order(q) || String(p.arch).localeCompare(String(q.arch)))) {
  console.log(`| ${r.arch} | ${target(r)} | ${f(r.l0, 1)} | ${f(r.fvu, 4)} | ${f(r.deltaLoss, 4)} | ${f(r.kl, 4)} | ${r.dead} | ${r.dense} |`);
}
