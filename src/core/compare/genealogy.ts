// Feature genealogy across a run's checkpoints: decoder directions matched from each checkpoint to the next
// say which features stayed themselves, which were born or died, which split into several and which merged
// into one. Between consecutive checkpoints A (earlier) and B (later):
//   - continued: a mutual best match with cosine ≥ sameAbove;
//   - split: an A feature without a continuation whose direction is rebuilt (cosine ≥ sameAbove) from two
//     or more B features that are each related to it (cosine ≥ relatedAbove) and have it as best A match;
//   - merge: the mirror image, several A features rebuilt into one B feature;
//   - death / birth: any A / B feature left over.
// Cosines are computed a block of rows at a time, so memory stays BLOCK_ROWS × dSae.
import type { FeatureTimeline, Genealogy, GenealogyCheckpoint, GenealogyEvent, GenealogyTransition } from '../../protocol/compare';
import { matmulTransposed } from '../tensor';
import { type DecoderDirections, unitRows } from './matchFeatures';

export interface GenealogyOptions {
  readonly sameAbove?: number;
  readonly relatedAbove?: number;
}

export const DEFAULT_SAME_ABOVE = 0.8;
export const DEFAULT_RELATED_ABOVE = 0.5;
const BLOCK_ROWS = 256;
/** Related features kept per feature: splits and merges into more parts than this are not told apart. */
const MAX_RELATED = 16;

/** Cosine between unit vector `target` and its projection on the span of `parts` (rows of `u`, d wide). */
function spanFit(target: Float32Array, u: Float32Array, parts: readonly number[], d: number): number {
  const basis: Float64Array[] = [];
  for (const p of parts) {
    const v = Float64Array.from(u.subarray(p * d, (p + 1) * d));
    for (const b of basis) {
      let dot = 0;
      for (let j = 0; j < d; j++) dot += v[j] * b[j];
      for (let j = 0; j < d; j++) v[j] -= dot * b[j];
    }
    let n = 0;
    for (let j = 0; j < d; j++) n += v[j] * v[j];
    if (n < 1e-12) continue;
    const inv = 1 / Math.sqrt(n);
    for (let j = 0; j < d; j++) v[j] *= inv;
    basis.push(v);
  }
  let sq = 0;
  for (const b of basis) {
    let dot = 0;
    for (let j = 0; j < d; j++) dot += target[j] * b[j];
    sq += dot * dot;
  }
  return Math.min(1, Math.sqrt(sq));
}

interface Best {
  readonly id: Int32Array;
  readonly cos: Float32Array;
  readonly related: { id: number; cos: number }[][];
}

function emptyBest(n: number): Best {
  return { id: new Int32Array(n).fill(-1), cos: new Float32Array(n).fill(-Infinity), related: Array.from({ length: n }, () => []) };
}

function keepRelated(list: { id: number; cos: number }[], id: number, cos: number): void {
  if (list.length < MAX_RELATED) {
    list.push({ id, cos });
    return;
  }
  let worst = 0;
  for (let i = 1; i < list.length; i++) if (list[i].cos < list[worst].cos) worst = i;
  if (cos > list[worst].cos) list[worst] = { id, cos };
}

/** What happened between two consecutive checkpoints. */
export function featureTransition(a: DecoderDirections, b: DecoderDirections, from: number, options: GenealogyOptions = {}): GenealogyTransition {
  if (a.d !== b.d) throw new Error(`checkpoints ${from} and ${from + 1} have different widths (${a.d} and ${b.d})`);
  const same = options.sameAbove ?? DEFAULT_SAME_ABOVE;
  const related = options.relatedAbove ?? DEFAULT_RELATED_ABOVE;
  const d = a.d;
  const ua = unitRows(a);
  const ub = unitRows(b);
  const ofA = emptyBest(a.dSae);
  const ofB = emptyBest(b.dSae);
  for (let start = 0; start < a.dSae; start += BLOCK_ROWS) {
    const rows = Math.min(BLOCK_ROWS, a.dSae - start);
    const cos = matmulTransposed({ data: ua.subarray(start * d, (start + rows) * d), rows, cols: d }, ub, b.dSae).data;
    for (let r = 0; r < rows; r++) {
      const i = start + r;
      for (let j = 0; j < b.dSae; j++) {
        const c = cos[r * b.dSae + j];
        if (c > ofA.cos[i]) {
          ofA.cos[i] = c;
          ofA.id[i] = j;
        }
        if (c > ofB.cos[j]) {
          ofB.cos[j] = c;
          ofB.id[j] = i;
        }
        if (c >= related) {
          keepRelated(ofA.related[i], j, c);
          keepRelated(ofB.related[j], i, c);
        }
      }
    }
  }

  const continued: [number, number, number][] = [];
  const doneA = new Uint8Array(a.dSae);
  const doneB = new Uint8Array(b.dSae);
  for (let i = 0; i < a.dSae; i++) {
    const j = ofA.id[i];
    if (j >= 0 && ofB.id[j] === i && ofA.cos[i] >= same) {
      continued.push([i, j, ofA.cos[i]]);
      doneA[i] = 1;
      doneB[j] = 1;
    }
  }

  const events: GenealogyEvent[] = [];
  const byCos = (x: { cos: number }, y: { cos: number }) => y.cos - x.cos;
  for (let i = 0; i < a.dSae; i++) {
    if (doneA[i]) continue;
    const children = ofA.related[i].filter((c) => !doneB[c.id] && ofB.id[c.id] === i).sort(byCos);
    if (children.length < 2) continue;
    const fit = spanFit(ua.subarray(i * d, (i + 1) * d), ub, children.map((c) => c.id), d);
    if (fit < same) continue;
    events.push({ kind: 'split', parent: i, children: children.map((c) => c.id), cos: children.map((c) => c.cos), fit });
    doneA[i] = 1;
    for (const c of children) doneB[c.id] = 1;
  }
  for (let j = 0; j < b.dSae; j++) {
    if (doneB[j]) continue;
    const parents = ofB.related[j].filter((p) => !doneA[p.id] && ofA.id[p.id] === j).sort(byCos);
    if (parents.length < 2) continue;
    const fit = spanFit(ub.subarray(j * d, (j + 1) * d), ua, parents.map((p) => p.id), d);
    if (fit < same) continue;
    events.push({ kind: 'merge', parents: parents.map((p) => p.id), child: j, cos: parents.map((p) => p.cos), fit });
    doneB[j] = 1;
    for (const p of parents) doneA[p.id] = 1;
  }
  const nearest = (best: Best, k: number) => (best.id[k] >= 0 ? { nearest: { feature: best.id[k], cos: best.cos[k] } } : {});
  for (let i = 0; i < a.dSae; i++) if (!doneA[i]) events.push({ kind: 'death', feature: i, ...nearest(ofA, i) });
  for (let j = 0; j < b.dSae; j++) if (!doneB[j]) events.push({ kind: 'birth', feature: j, ...nearest(ofB, j) });
  return { from, continued, events };
}

/** The genealogy of `decoders` (checkpoints in training order). */
export function featureGenealogy(
  checkpoints: readonly GenealogyCheckpoint[],
  decoders: readonly DecoderDirections[],
  options: GenealogyOptions & { onProgress?: (done: number, of: number) => void } = {},
): Genealogy {
  if (checkpoints.length !== decoders.length) throw new Error('one decoder per checkpoint');
  if (checkpoints.length < 2) throw new Error('a genealogy needs two or more checkpoints');
  const transitions: GenealogyTransition[] = [];
  for (let t = 0; t + 1 < decoders.length; t++) {
    transitions.push(featureTransition(decoders[t], decoders[t + 1], t, options));
    options.onProgress?.(t + 1, decoders.length - 1);
  }
  return { checkpoints, sameAbove: options.sameAbove ?? DEFAULT_SAME_ABOVE, relatedAbove: options.relatedAbove ?? DEFAULT_RELATED_ABOVE, transitions };
}

/** How many events of each kind happened in each transition. */
export function eventCounts(t: GenealogyTransition): { continued: number; birth: number; death: number; split: number; merge: number } {
  const n = { continued: t.continued.length, birth: 0, death: 0, split: 0, merge: 0 };
  for (const e of t.events) n[e.kind]++;
  return n;
}

const ids = (xs: readonly number[]) => xs.map((x) => `#${x}`).join(', ');

/**
 * One feature's line through the checkpoints, from feature `feature` of checkpoint `at`: followed back
 * (through continuations, to a split's parent or a merge's strongest parent) and forward (to a split's
 * strongest child or a merge's child), with what happened at each step.
 */
export function featureTimeline(g: Genealogy, at: number, feature: number): FeatureTimeline {
  const n = g.checkpoints.length;
  if (!(at >= 0 && at < n)) throw new Error(`no checkpoint ${at} (the genealogy has ${n})`);
  if (!(Number.isInteger(feature) && feature >= 0 && feature < g.checkpoints[at].dSae)) throw new Error(`no feature #${feature} in ${g.checkpoints[at].label}`);
  const line: (number | null)[] = new Array<number | null>(n).fill(null);
  const marks: { at: number; text: string }[] = [];
  line[at] = feature;
  // Backwards: transition t - 1 → t explains where the feature at t came from.
  for (let t = at; t > 0; t--) {
    const cur = line[t] as number;
    const tr = g.transitions[t - 1];
    const cont = tr.continued.find((c) => c[1] === cur);
    if (cont) {
      line[t - 1] = cont[0];
      continue;
    }
    const split = tr.events.find((e) => e.kind === 'split' && e.children.includes(cur));
    if (split && split.kind === 'split') {
      marks.push({ at: t, text: `split from #${split.parent} (with ${ids(split.children.filter((c) => c !== cur))})` });
      line[t - 1] = split.parent;
      continue;
    }
    const merge = tr.events.find((e) => e.kind === 'merge' && e.child === cur);
    if (merge && merge.kind === 'merge') {
      marks.push({ at: t, text: `merged from ${ids(merge.parents)}` });
      line[t - 1] = merge.parents[0];
      continue;
    }
    marks.push({ at: t, text: 'born' });
    break;
  }
  // Forwards: transition t → t + 1 says what became of it.
  for (let t = at; t + 1 < n; t++) {
    const cur = line[t] as number;
    const tr = g.transitions[t];
    const cont = tr.continued.find((c) => c[0] === cur);
    if (cont) {
      line[t + 1] = cont[1];
      continue;
    }
    const split = tr.events.find((e) => e.kind === 'split' && e.parent === cur);
    if (split && split.kind === 'split') {
      marks.push({ at: t + 1, text: `split into ${ids(split.children)}` });
      line[t + 1] = split.children[0];
      continue;
    }
    const merge = tr.events.find((e) => e.kind === 'merge' && e.parents.includes(cur));
    if (merge && merge.kind === 'merge') {
      marks.push({ at: t + 1, text: `merged with ${ids(merge.parents.filter((p) => p !== cur))} into #${merge.child}` });
      line[t + 1] = merge.child;
      continue;
    }
    marks.push({ at: t + 1, text: 'died' });
    break;
  }
  marks.sort((x, y) => x.at - y.at);
  return { checkpoints: g.checkpoints, ids: line, marks };
}
