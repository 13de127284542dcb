// Automatic labels for every live feature of an index: the explainer's rule from the index alone, then
// scored on the held-out windows (which the index never counted) by detection AUROC, balanced accuracy and
// simulation correlation. The held-out windows are encoded here with the same model and SAE.
import { throwIfAborted, yieldToEventLoop } from '../util/abort';
import type { IndexEncoder } from './buildIndex';
import { describe, rankedRules, simulator, type Vocabulary } from './explain';
import type { FeatureIndexDb } from './indexDb';
import { auroc, balancedAccuracy, pearson } from './scores';
import { KIND_COUNT, TokenFacts, WordTable, windowKeys } from './tokenKeys';
import type { AutoLabel } from './types';

export interface LabelProgress {
  readonly phase: 'encoding held-out text' | 'labelling';
  readonly done: number;
  readonly total: number;
}

export function indexVocabulary(db: FeatureIndexDb): Vocabulary {
  const texts = db.tokenTexts();
  const words = db.words();
  return { token: (id) => texts.get(id) ?? `<${id}>`, word: (id) => words[id] ?? `<word ${id}>`, vocabSize: db.meta.vocabSize };
}

/** Held-out positions (position 0 of each window skipped), their keys, and each feature's activations there. */
export async function heldoutActivations(db: FeatureIndexDb, encoder: Pick<IndexEncoder, 'encode'>, onProgress?: (p: LabelProgress) => void, signal?: AbortSignal) {
  const windows = db.windows(1);
  const texts = db.tokenTexts();
  const facts = new TokenFacts((id) => texts.get(id) ?? '', new WordTable(db.words()));
  const total = windows.reduce((s, w) => s + w.ids.length - 1, 0);
  const keys = Array.from({ length: KIND_COUNT }, () => new Float64Array(total).fill(-1));
  const perFeature = new Map<number, { pos: number[]; act: number[] }>();
  let g = 0;
  for (const w of windows) {
    throwIfAborted(signal);
    const f = await encoder.encode(w.ids, signal);
    const wk = windowKeys(w.ids, facts, db.meta.vocabSize, true);
    for (let t = 1; t < w.ids.length; t++, g++) {
      for (let k = 0; k < KIND_COUNT; k++) keys[k][g] = wk[k][t];
      for (let e = f.rowPtr[t]; e < f.rowPtr[t + 1]; e++) {
        if (!(f.values[e] > 0)) continue;
        let list = perFeature.get(f.colIdx[e]);
        if (!list) perFeature.set(f.colIdx[e], (list = { pos: [], act: [] }));
        list.pos.push(g);
        list.act.push(f.values[e]);
      }
    }
    onProgress?.({ phase: 'encoding held-out text', done: g, total });
    await yieldToEventLoop();
  }
  return { tokens: total, keys, perFeature };
}

export async function labelFeatures(db: FeatureIndexDb, encoder: Pick<IndexEncoder, 'encode'>, onProgress?: (p: LabelProgress) => void, signal?: AbortSignal): Promise<AutoLabel[]> {
  const held = await heldoutActivations(db, encoder, onProgress, signal);
  const vocab = indexVocabulary(db);
  const fires = db.fireCounts();
  const labels: AutoLabel[] = [];
  const predicted = new Float32Array(held.tokens);
  const actual = new Float32Array(held.tokens);
  for (let id = 0; id < db.meta.dSae; id++) {
    if (fires[id] === 0) continue;
    const record = db.feature(id);
    const rules = record ? rankedRules(record) : [];
    const rule = rules[0];
    if (!record || !rule) continue;
    actual.fill(0);
    const on = held.perFeature.get(id);
    if (on) for (let e = 0; e < on.pos.length; e++) actual[on.pos[e]] = on.act[e];
    // The label's rule alone, as a binary detector.
    const chosen = new Map(rule.keys.map((k, i) => [k, rule.expected[i]]));
    const keys = held.keys[rule.kind];
    for (let g = 0; g < held.tokens; g++) predicted[g] = chosen.get(keys[g]) ?? 0;
    const bal = balancedAccuracy(predicted, actual);
    const ruleAuc = auroc(predicted, actual);
    // The full explanation as a simulator.
    const sim = simulator(record);
    predicted.fill(0);
    sim.forEach((map, kind) => {
      if (map.size === 0) return;
      const k = held.keys[kind];
      for (let g = 0; g < held.tokens; g++) {
        const v = map.get(k[g]);
        if (v !== undefined && v > predicted[g]) predicted[g] = v;
      }
    });
    const auc = auroc(predicted, actual);
    const corr = pearson(predicted, actual);
    const words = describe(rules, vocab, db.meta.explainTokens > 0 ? fires[id] / db.meta.explainTokens : 0);
    labels.push({
      feature: id,
      label: words.label,
      rule: words.rule,
      kind: rule.kind,
      keys: rule.keys,
      expected: rule.expected,
      scores: {
        explainF1: rule.f1,
        ...(auc !== undefined ? { auroc: auc } : {}),
        ...(bal !== undefined ? { balancedAccuracy: bal } : {}),
        ...(ruleAuc !== undefined ? { ruleAuroc: ruleAuc } : {}),
        ...(corr !== undefined ? { correlation: corr } : {}),
        heldoutFires: on?.pos.length ?? 0,
        heldoutTokens: held.tokens,
      },
    });
    if (id % 64 === 0) {
      onProgress?.({ phase: 'labelling', done: id, total: db.meta.dSae });
      throwIfAborted(signal);
      await yieldToEventLoop();
    }
  }
  db.setAutoLabels(labels);
  return labels;
}
