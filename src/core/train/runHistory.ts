// A run folder's curves as they are on disk: the metrics.json records the trainer logs every few steps,
// plus what a view needs beside them (the L0 target, the budget, finished or not). Used when a run is
// shown that this process did not watch (after a window reload, or a run the CLI trained). Small JSON
// reads only; anything unreadable gives an empty history rather than an error.
import { join } from 'node:path';
import type { TrainingPoint } from '../../protocol/trainingView';
import { asObject, readSmallJsonObject } from '../util/smallJson';

/** A curve point as metrics.json records it: no dense fraction or speed there. */
export type RunHistoryPoint = Omit<TrainingPoint, 'denseFraction' | 'tokensPerSecond'>;

export interface RunHistory {
  readonly points: RunHistoryPoint[];
  /** metrics.json holds the end-of-run summary. */
  readonly finished: boolean;
  readonly totalTokens?: number;
  /** The L0 the run steers to: the target-L0 recipe's target, or TopK's k. */
  readonly targetL0?: number;
  /** The step of the training state in the folder. */
  readonly step?: number;
}

const MAX_BYTES = 64 * 2 ** 20;

const readJson = (path: string) => readSmallJsonObject(path, MAX_BYTES);

const num = (v: unknown): number => (typeof v === 'number' ? v : Number.NaN);
const obj = asObject;

export function readRunHistory(dir: string): RunHistory {
  const metrics = readJson(join(dir, 'metrics.json'));
  const records = Array.isArray(metrics?.records) ? (metrics.records as unknown[]) : [];
  const points: RunHistoryPoint[] = [];
  for (const raw of records) {
    const r = obj(raw);
    if (!r || typeof r.step !== 'number') continue;
    points.push({ step: r.step, tokens: num(r.tokens), loss: num(r.loss), mse: num(r.mse), fvu: num(r.fvu), l0: num(r.l0), deadFraction: num(r.deadFraction) });
  }
  const state = readJson(join(dir, 'trainer_state.json'));
  const config = obj(state?.config);
  const jump = obj(config?.jumpRelu);
  const target = jump?.sparsity === 'targetL0' ? jump.targetL0 : config?.k;
  return {
    points,
    finished: metrics?.summary !== undefined,
    ...(typeof config?.totalTokens === 'number' ? { totalTokens: config.totalTokens } : {}),
    ...(typeof target === 'number' ? { targetL0: target } : {}),
    ...(typeof state?.step === 'number' ? { step: state.step } : {}),
  };
}
