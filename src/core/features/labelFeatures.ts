// Automatic labels for every live feature of an index. The rule behind each label is chosen from the index's
// key counts, validated on a sample of the indexed text (chooseRule.ts), and then scored on the held-out
// windows, which neither the index nor the choice ever saw: detection AUROC and balanced accuracy of the
// label's rule, simulation correlation of its predicted activations, and for reference the AUROC of the
// full explanation (every indexed key). Both samples are encoded here with the same model and SAE.
import { throwIfAborted, yieldToEventLoop } from '../util/abort';
import type { IndexEncoder } from './buildIndex';
import { chooseRule } from './chooseRule';
import { describe, simulator, type Vocabulary } from './explain';
import type { FeatureIndexDb } from './indexDb';
import { encodeSample, validationWindows, type PositionSample } from './positionSample';
import { auroc, balancedAccuracy, pearson } from './scores';
import type { AutoLabel, RulePart } from './types';

export interface LabelProgress {
  readonly phase: 'encoding validation text' | 'encoding held-out text' | 'labelling';
  readonly done: number;
  readonly total: number;
}

/** Positions of the indexed split encoded again to choose rules on (kept small: it costs a forward pass). */
const VALIDATION_TOKENS = 12_000;

export function indexVocabulary(db: FeatureIndexDb): Vocabulary {
  const texts = db.tokenTexts();
  const words = db.words();
  return { token: (id) => texts.get(id) ?? `<${id}>`, word: (id) => words[id] ?? `<word ${id}>`, vocabSize: db.meta.vocabSize };
}

/** Held-out positions (position 0 of each window skipped), their keys, and each feature's activations there. */
export function heldoutActivations(db: FeatureIndexDb, encoder: Pick<IndexEncoder, 'encode'>, onProgress?: (p: LabelProgress) => void, signal?: AbortSignal): Promise<PositionSample> {
  return encodeSample(db, encoder, db.windows(1), (done, total) => onProgress?.({ phase: 'encoding held-out text', done, total }), signal);
}

/** The rule's prediction at every held-out position: the largest expected activation among its matching keys. */
export function rulePrediction(parts: readonly RulePart[], sample: PositionSample, out = new Float32Array(sample.tokens)): Float32Array {
  out.fill(0);
  for (const part of parts)
    part.keys.forEach((key, i) => {
      for (const p of sample.positionsOf(part.kind, key)) if (out[p] < part.expected[i]) out[p] = part.expected[i];
    });
  return out;
}

export async function labelFeatures(db: FeatureIndexDb, encoder: Pick<IndexEncoder, 'encode'>, onProgress?: (p: LabelProgress) => void, signal?: AbortSignal): Promise<AutoLabel[]> {
  const validation = await encodeSample(db, encoder, validationWindows(db.windows(0), VALIDATION_TOKENS), (done, total) => onProgress?.({ phase: 'encoding validation text', done, total }), signal);
  const held = await heldoutActivations(db, encoder, onProgress, signal);
  const vocab = indexVocabulary(db);
  const fires = db.fireCounts();
  const labels: AutoLabel[] = [];
  const predicted = new Float32Array(held.tokens);
  const actual = new Float32Array(held.tokens);
  for (let id = 0; id < db.meta.dSae; id++) {
    if (fires[id] === 0) continue;
    const record = db.feature(id);
    const chosen = record ? chooseRule(record, db.meta.explainTokens, validation) : undefined;
    if (!record || !chosen) continue;
    actual.fill(0);
    const on = held.perFeature.get(id);
    if (on) for (let e = 0; e < on.pos.length; e++) actual[on.pos[e]] = on.act[e];
    // The label's rule: detection, yes/no accuracy and simulation.
    rulePrediction(chosen.parts, held, predicted);
    const bal = balancedAccuracy(predicted, actual);
    const ruleAuc = auroc(predicted, actual);
    const corr = pearson(predicted, actual);
    // The full explanation, for reference.
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
    const words = describe(chosen.parts, vocab, db.meta.explainTokens > 0 ? fires[id] / db.meta.explainTokens : 0);
    labels.push({
      feature: id,
      label: words.label,
      rule: words.rule,
      parts: chosen.parts,
      scores: {
        ...(chosen.validationAuroc !== undefined ? { validationAuroc: chosen.validationAuroc } : {}),
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
