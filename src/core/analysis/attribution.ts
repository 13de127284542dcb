// Exact attribution of one next-token prediction to SAE features: for the prediction made at a position,
// how much the target token's logit and log-probability drop when each active feature is ablated (at that
// position, and at every position up to it), and when the SAE's reconstruction error is removed instead.
// Nothing is linearised: the model after the site is re-run once per ablation, all ablations as one batch
// on a graph cut at the site (the part before the site runs once). Effects are clean − ablated, so a
// positive value means the feature pushed the target up. Single-feature effects need not add up to the
// effect of ablating them all together; both are reported.
import type { AttributionResult, AttributionRow, AttributionTarget, Effect, JointEffect } from '../../protocol/steering';
import type { Matrix } from '../tensor';
import { throwIfAborted } from '../util/abort';
import { cutForInterventions, intervene, type Intervention } from './interventions';
import { softmax, topIndices } from './nextToken';
import { AnalysisError, resolveSite, type AnalysisModel, type AnalysisSae } from './ports';

export type { AttributionRow, AttributionTarget, Effect, JointEffect };
export type Attribution = AttributionResult;

export interface AttributionOptions {
  readonly position: number;
  /** Default: the model's top prediction at the position. */
  readonly target?: AttributionTarget;
  /** Also ablate each feature at every position up to the position (default true; doubles the batch). */
  readonly upTo?: boolean;
  /** Also list features that fire before the position but not at it (their "up to" effect; needs upTo). */
  readonly includeEarlier?: boolean;
  readonly topK?: number;
  readonly signal?: AbortSignal;
}

export async function attribute(model: AnalysisModel, sae: AnalysisSae, site: string, text: string, options: AttributionOptions): Promise<Attribution> {
  const started = performance.now();
  resolveSite(model, sae, site);
  const all = model.tokenize(text).ids;
  const p = options.position;
  if (all.length === 0) throw new AnalysisError('attribution needs at least one token', 'badPosition');
  if (!Number.isInteger(p) || p < 0 || p >= all.length) {
    throw new AnalysisError(`position ${p} is beyond the text: it has ${all.length} tokens (positions 0..${all.length - 1})`, 'badPosition');
  }
  // Later tokens cannot change the prediction at p (the model is causal); earlier ones beyond the context are cut.
  const start = Math.max(0, p + 1 - model.contextLength);
  const ids = all.subarray(start, p + 1);
  const last = ids.length - 1;
  // For a transcoder: features of its input site, edits and the error at its output site.
  const { cut, input, encoded } = await cutForInterventions(model, sae, site, ids, options.signal);
  throwIfAborted(options.signal);
  const x = cut.acts;
  const f = encoded.features;

  const hereFeatures = new Map<number, number>();
  for (let e = f.rowPtr[last]; e < f.rowPtr[last + 1]; e++) if (f.values[e] !== 0) hereFeatures.set(f.colIdx[e], f.values[e]);
  const withUpTo = options.upTo ?? true;
  const features = new Set(hereFeatures.keys());
  if (withUpTo && options.includeEarlier) for (let e = f.rowPtr[0]; e < f.rowPtr[last]; e++) if (f.values[e] !== 0) features.add(f.colIdx[e]);
  const ordered = [...features].sort((a, b) => a - b);

  // The batch: clean, each feature here, each feature up to p, error here / up to p, all features here / up to p.
  const ablate = (list: readonly number[], positions: Intervention['positions']): Matrix =>
    intervene(x, encoded, sae.inference, list.map((feature) => ({ feature, op: { kind: 'zero' }, positions })));
  const hereScope = { kind: 'range', start: last, end: last + 1 } as const;
  const upToScope = { kind: 'all' } as const;
  const reconstruction = sae.inference.decode(encoded, input);
  const variants: Matrix[] = [x];
  const hereIndex = new Map<number, number>();
  for (const j of ordered) {
    if (hereFeatures.has(j)) {
      hereIndex.set(j, variants.length);
      variants.push(ablate([j], hereScope));
    }
  }
  const upToIndex = new Map<number, number>();
  if (withUpTo) {
    for (const j of ordered) {
      upToIndex.set(j, variants.length);
      variants.push(ablate([j], upToScope));
    }
  }
  const errorHere = variants.push(withoutError(x, reconstruction, last, last + 1)) - 1;
  const errorUpTo = withUpTo ? variants.push(withoutError(x, reconstruction, 0, last + 1)) - 1 : -1;
  const jointHere = variants.push(ablate([...hereFeatures.keys()], hereScope)) - 1;
  // The same features as the rows, so the joint effect and the sum of single effects compare like with like.
  const jointUpTo = withUpTo ? variants.push(ablate(ordered, upToScope)) - 1 : -1;

  const logits = await cut.lastLogits(variants, options.signal);
  const clean = logits[0];
  const cleanP = softmax(clean);
  const targetId = resolveTarget(model, options.target, cleanP);
  if (targetId >= clean.length) throw new AnalysisError(`token id ${targetId} is outside the vocabulary (0..${clean.length - 1})`, 'badTarget');
  const cleanLogProb = logSoftmaxAt(clean, targetId);
  const effect = (i: number): Effect => ({ logit: clean[targetId] - logits[i][targetId], logProb: cleanLogProb - logSoftmaxAt(logits[i], targetId) });

  const rows: AttributionRow[] = ordered.map((j) => {
    const label = sae.labels.get(j);
    const h = hereIndex.get(j);
    const u = upToIndex.get(j);
    return {
      kind: 'feature',
      feature: j,
      ...(label ? { label } : {}),
      activation: hereFeatures.get(j) ?? 0,
      ...(h !== undefined ? { here: effect(h) } : {}),
      ...(u !== undefined ? { upTo: effect(u) } : {}),
    };
  });
  rows.push({ kind: 'error', activation: errorNorm(x, reconstruction, last), here: effect(errorHere), ...(withUpTo ? { upTo: effect(errorUpTo) } : {}) });
  const key = (r: AttributionRow) => Math.abs((r.here ?? r.upTo)?.logit ?? 0);
  rows.sort((a, b) => key(b) - key(a));

  const sum = (pick: (r: AttributionRow) => Effect | undefined): Effect => {
    let logit = 0;
    let logProb = 0;
    for (const r of rows) {
      const e = r.kind === 'feature' ? pick(r) : undefined;
      if (e) {
        logit += e.logit;
        logProb += e.logProb;
      }
    }
    return { logit, logProb };
  };
  const k = options.topK ?? 10;
  return {
    model: model.name,
    site,
    sae: sae.name,
    position: p,
    token: model.tokenText(all[p]),
    target: { id: targetId, token: model.tokenText(targetId), logit: clean[targetId], logProb: cleanLogProb, probability: cleanP[targetId] },
    top: topIndices(cleanP, k).map((id) => ({ id, token: model.tokenText(id), probability: cleanP[id] })),
    rows,
    here: { joint: effect(jointHere), sumOfSingles: sum((r) => r.here) },
    ...(withUpTo ? { upTo: { joint: effect(jointUpTo), sumOfSingles: sum((r) => r.upTo) } } : {}),
    ...(start > 0 ? { windowStart: start } : {}),
    variants: variants.length,
    elapsedMs: performance.now() - started,
  };
}

function resolveTarget(model: AnalysisModel, target: AttributionTarget | undefined, p: Float64Array): number {
  if (!target) return topIndices(p, 1)[0];
  if ('id' in target) {
    if (!Number.isInteger(target.id) || target.id < 0 || target.id >= p.length) {
      throw new AnalysisError(`token id ${target.id} is outside the vocabulary (0..${p.length - 1})`, 'badTarget');
    }
    return target.id;
  }
  const ids = model.tokenize(target.text).ids;
  if (ids.length !== 1) {
    const parts = Array.from(ids, (id) => JSON.stringify(model.tokenText(id))).join(' + ');
    throw new AnalysisError(
      ids.length === 0 ? 'the target token is empty' : `${JSON.stringify(target.text)} is ${ids.length} tokens (${parts}): type a single token`,
      'badTarget',
    );
  }
  return ids[0];
}

/** log softmax(logits)[i], in float64. */
export function logSoftmaxAt(logits: Float32Array, i: number): number {
  let max = -Infinity;
  for (const v of logits) if (v > max) max = v;
  let s = 0;
  for (const v of logits) s += Math.exp(v - max);
  return logits[i] - max - Math.log(s);
}

/** x with rows [from, to) replaced by the SAE's reconstruction. */
function withoutError(x: Matrix, reconstruction: Matrix, from: number, to: number): Matrix {
  const out = Float32Array.from(x.data);
  out.set(reconstruction.data.subarray(from * x.cols, to * x.cols), from * x.cols);
  return { data: out, rows: x.rows, cols: x.cols };
}

function errorNorm(x: Matrix, reconstruction: Matrix, row: number): number {
  let s = 0;
  for (let d = 0; d < x.cols; d++) s += (x.data[row * x.cols + d] - reconstruction.data[row * x.cols + d]) ** 2;
  return Math.sqrt(s);
}
