// The SAE trainer: a step-by-step state machine (SaeTrainer) whose whole state is plain data for exact
// resume. driver.ts is the one loop that steps it.
import { kthLargest } from '../sae/activations';
import type { AuxKOptions } from '../sae/auxK';
import { createSae, type SaeSpec } from '../sae/create';
import { foldInputScale } from '../sae/fold';
import { JumpReluSae } from '../sae/jumprelu';
import { mustGet, type LossResult, type SaeModel } from '../sae/model';
import type { SaeWeights } from '../sae/weights';
import { FiringTracker } from '../metrics/sparsity';
import { referenceBackend, SwitchableBackend, type Matrix, type NumericBackend } from '../tensor';
import { Rng, type RngState } from '../util/rng';
import { Adam } from './adam';
import { totalSteps, validateTrainConfig, type TrainConfig } from './config';
import type { DataSource } from './dataSource';
import { geometricDecay, linearWarmup, lrFactor } from './schedules';
import { scaledFiniteBatch } from './stepBatch';

export interface StepMetrics {
  readonly step: number;
  readonly tokens: number;
  readonly loss: number;
  readonly mse: number;
  readonly fvu: number;
  readonly l0: number;
  readonly sparsityLoss: number;
  readonly auxLoss: number;
  readonly deadFraction: number;
  readonly lr: number;
  readonly sparsityCoeff: number;
  readonly rowsUsed: number;
  readonly rowsSkipped: number;
}

export type HistoryRecord = Omit<StepMetrics, 'rowsUsed' | 'rowsSkipped'>;

/** Everything needed to continue a run bit-exactly. Float32Arrays are the live tensors' copies. */
export interface TrainerState {
  readonly version: 1;
  readonly config: TrainConfig;
  readonly step: number;
  readonly tokens: number;
  readonly skippedRows: number;
  readonly skippedSteps: number;
  readonly inputScale: number;
  readonly rng: RngState;
  readonly params: Record<string, Float32Array>;
  readonly adamM: Record<string, Float32Array>;
  readonly adamV: Record<string, Float32Array>;
  readonly buffers: Record<string, Float32Array>;
  readonly firing: { readonly tokens: number; readonly fireCount: Float64Array; readonly lastFired: Float64Array };
  readonly history: HistoryRecord[];
  readonly source?: unknown;
}

function specOf(c: TrainConfig, dIn: number): SaeSpec {
  const j = c.jumpRelu;
  const auxKOptions = (o: { kAux?: number; coeff: number; selection?: 'positive' | 'signed' }): AuxKOptions => ({
    kAux: o.kAux ?? Math.max(1, Math.floor(dIn / 2)),
    coeff: o.coeff,
    ...(o.selection ? { selection: o.selection } : {}),
  });
  return {
    architecture: c.architecture,
    dIn,
    dSae: c.dSae,
    applyBDecToInput: c.applyBDecToInput,
    ...(c.k !== undefined ? { k: c.k } : {}),
    ...(j
      ? {
          jumpRelu: {
            thresholdParam: j.thresholdParam,
            sparsity:
              j.sparsity === 'targetL0'
                ? { kind: 'targetL0', targetL0: j.targetL0 ?? 1 }
                : j.sparsity === 'tanh'
                  ? { kind: 'tanh', scale: j.tanhScale ?? 4 }
                  : { kind: 'l0' },
            thresholdInit: j.thresholdInit.kind === 'constant' ? j.thresholdInit.value : 0.001,
            ...(j.steToInput ? { steToInput: true } : {}),
            ...(j.unitNormDecoder === false ? { unitNormDecoder: false } : {}),
            ...(j.decoderInitNorm !== undefined ? { decoderInitNorm: j.decoderInitNorm } : {}),
            ...(j.auxK ? { auxK: auxKOptions(j.auxK) } : {}),
            ...(j.preActCoeff ? { preActCoeff: j.preActCoeff } : {}),
            ...(j.frequencyPenalty ? { frequencyPenalty: j.frequencyPenalty } : {}),
          },
        }
      : {}),
    ...(c.topK ? { topK: c.topK } : {}),
    ...(c.gated?.auxK ? { gated: { auxK: auxKOptions(c.gated.auxK) } } : {}),
  } as SaeSpec;
}

/** A step whose loss or gradients are not finite although its inputs were: the run stops there. */
export class NonFiniteLossError extends Error {
  constructor(readonly step: number) {
    super(
      `training diverged: the loss became non-finite at step ${step + 1}; the step was not applied and the run stopped ` +
        `(the last checkpoint is kept; try a lower learning rate or sparsity coefficient)`,
    );
    this.name = 'NonFiniteLossError';
  }
}

/** Rows whose values are all finite (NaN/Inf rows would poison every weight they touch). */
export function finiteRows(x: Matrix): { rows: Matrix; skipped: number } {
  const d = x.cols;
  let keep = 0;
  const ok = new Uint8Array(x.rows);
  for (let r = 0; r < x.rows; r++) {
    let good = 1;
    for (let j = 0; j < d; j++) {
      if (!Number.isFinite(x.data[r * d + j])) {
        good = 0;
        break;
      }
    }
    ok[r] = good;
    keep += good;
  }
  if (keep === x.rows) return { rows: x, skipped: 0 };
  const out = new Float32Array(keep * d);
  let w = 0;
  for (let r = 0; r < x.rows; r++) if (ok[r]) out.set(x.data.subarray(r * d, (r + 1) * d), d * w++);
  return { rows: { data: out, rows: keep, cols: d }, skipped: x.rows - keep };
}

export class SaeTrainer {
  readonly totalSteps: number;
  private stepCount = 0;
  private tokenCount = 0;
  private skippedRows = 0;
  private skippedSteps = 0;
  readonly history: HistoryRecord[] = [];
  private readonly adam: Adam;
  private readonly tracker: FiringTracker;
  private batchBuffer: Float32Array | undefined;
  /** Receives one-line notices (e.g. the fast backend replaced by the reference backend). */
  onNotice: (message: string) => void = () => undefined;

  private constructor(
    readonly config: TrainConfig,
    readonly model: SaeModel,
    private scale: number,
    private readonly rng: Rng,
    private readonly backend: SwitchableBackend | undefined,
  ) {
    this.totalSteps = totalSteps(config);
    // The WebAssembly update gives the JavaScript one's results bit for bit, on either backend.
    this.adam = new Adam({ beta1: config.beta1, beta2: config.beta2, eps: config.adamEps }, model.params, { wasm: true });
    // The parameters live in the optimiser's WebAssembly memory from here on (the model reads them
    // through its params map, which now holds views of it): no per-step copy in and out of Adam.
    this.adam.adopt(model.params);
    this.tracker = new FiringTracker(config.dSae);
  }

  /** A fresh run: initialises the model and estimates C and data-dependent inits from `initRows` rows. */
  static async create(config: TrainConfig, source: DataSource, backend: NumericBackend = referenceBackend): Promise<SaeTrainer> {
    validateTrainConfig(config);
    const rng = new Rng(config.seed);
    const switchable = backend === referenceBackend ? undefined : new SwitchableBackend(backend);
    const model = createSae(specOf(config, source.dIn), rng, switchable ?? backend);
    const sample = finiteRows(await source.nextBatch(config.initRows)).rows;
    if (sample.rows === 0) throw new Error('no finite rows to initialise from');
    let sq = 0;
    for (let i = 0; i < sample.data.length; i++) sq += sample.data[i] * sample.data[i];
    const target = config.inputNormTarget === 'dIn' ? sample.cols : 1;
    const scale = config.normalizeInput ? Math.sqrt(sq / sample.rows / target) : 1;
    if (!(scale > 0)) throw new Error('activations are all zero: cannot estimate the input scale');
    const x = scaled(sample, 1 / scale);
    if (config.bDecInit === 'mean') {
      const bDec = mustGet(model.params, 'b_dec');
      for (let j = 0; j < x.cols; j++) {
        let s = 0;
        for (let r = 0; r < x.rows; r++) s += x.data[r * x.cols + j];
        bDec[j] = s / x.rows;
      }
    }
    const jr = config.jumpRelu;
    if (jr?.thresholdInit.kind === 'quantile' && model instanceof JumpReluSae) {
      initThresholdFromQuantile(model, x, (jr.targetL0 ?? 1) / config.dSae);
    }
    return new SaeTrainer(config, model, scale, rng, switchable);
  }

  static fromState(state: TrainerState, dIn: number, backend: NumericBackend = referenceBackend): SaeTrainer {
    const switchable = backend === referenceBackend ? undefined : new SwitchableBackend(backend);
    const model = createSae(specOf(state.config, dIn), new Rng(0), switchable ?? backend);
    const t = new SaeTrainer(state.config, model, state.inputScale, new Rng(state.rng), switchable);
    t.setState(state);
    return t;
  }

  /** Overwrites everything that changes during training with `state` (same config and shapes required). */
  setState(state: TrainerState): void {
    if (state.version !== 1) throw new Error(`unknown trainer state version ${String(state.version)}`);
    if (JSON.stringify(state.config) !== JSON.stringify(this.config)) throw new Error('trainer state: saved for another training config');
    copyInto(this.model.params, state.params, 'params');
    copyInto(this.model.buffers, state.buffers, 'buffers');
    copyInto(this.adam.m, state.adamM, 'adamM');
    copyInto(this.adam.v, state.adamV, 'adamV');
    this.scale = state.inputScale;
    this.rng.setState(state.rng);
    this.stepCount = state.step;
    this.tokenCount = state.tokens;
    this.skippedRows = state.skippedRows;
    this.skippedSteps = state.skippedSteps;
    this.tracker.tokens = state.firing.tokens;
    this.tracker.fireCount.set(state.firing.fireCount);
    this.tracker.lastFired.set(state.firing.lastFired);
    this.history.length = 0;
    this.history.push(...state.history.map((h) => ({ ...h })));
  }

  /** The backend steps currently run on (the reference backend after a fallback). */
  get backendName(): string {
    return this.backend?.name ?? referenceBackend.name;
  }

  /** The fixed input scale C (inputs are divided by it). */
  get inputScale(): number {
    return this.scale;
  }

  get step(): number {
    return this.stepCount;
  }

  get tokens(): number {
    return this.tokenCount;
  }

  get skippedRowsTotal(): number {
    return this.skippedRows;
  }

  get done(): boolean {
    return this.stepCount >= this.totalSteps;
  }

  bandwidthAt(step: number): number | undefined {
    const j = this.config.jumpRelu;
    if (!j) return undefined;
    return j.bandwidthStart !== undefined && j.bandwidthDecaySteps
      ? geometricDecay(step, j.bandwidthStart, j.bandwidth, j.bandwidthDecaySteps)
      : j.bandwidth;
  }

  lrAt(step: number): number {
    const c = this.config;
    return (
      c.lr *
      lrFactor(step, {
        warmupSteps: c.lrWarmupSteps,
        warmupShape: c.lrWarmupShape,
        warmupStart: c.lrWarmupStart,
        decayFraction: c.lrDecayFraction,
        totalSteps: this.totalSteps,
      })
    );
  }

  /** One optimiser step on a raw (unnormalised) batch. Undefined if no usable row or a non-finite loss. */
  trainStep(raw: Matrix): StepMetrics | undefined {
    // The batch buffer is reused: nothing keeps x beyond this step.
    const batch = scaledFiniteBatch(raw, 1 / this.scale, this.batchBuffer);
    this.batchBuffer = batch.buffer;
    const { x, skipped } = batch;
    this.skippedRows += skipped;
    if (x.rows === 0) {
      this.skippedSteps++;
      return undefined;
    }
    const c = this.config;
    const t = this.stepCount;
    const sparsityCoeff = c.sparsityCoeff * linearWarmup(t, c.sparsityWarmupSteps);
    const warmupSteps = c.jumpRelu?.topKWarmupSteps ?? 0;
    const inWarmup = t < warmupSteps && this.model instanceof JumpReluSae;
    const warmupK = Math.max(1, Math.round(c.jumpRelu?.targetL0 ?? 1));
    const batchWarmup = c.jumpRelu?.warmupSelection === 'batch';
    if (t === warmupSteps && warmupSteps > 0 && this.model instanceof JumpReluSae) this.model.thresholdFromWarmup(x, warmupK, batchWarmup, c.jumpRelu?.switchThreshold);
    const lossOptions = {
      ...(inWarmup ? { topKWarmup: warmupK, batchWarmup } : {}),
      sparsityCoeff,
      bandwidth: this.bandwidthAt(t),
      dead: this.tracker.deadMask(c.deadWindowTokens),
      training: true,
    };
    // Gradual switch: for blendSteps steps after it, the loss is (1 − α)·TopK's + α·JumpReLU's, α rising
    // linearly to 1, so the encoder learns a code thresholds can select before TopK's competition goes.
    const blendSteps = c.jumpRelu?.switchBlendSteps ?? 0;
    const alpha = warmupSteps > 0 && t >= warmupSteps && t < warmupSteps + blendSteps ? (t - warmupSteps + 1) / (blendSteps + 1) : 1;
    const model = this.model;
    const lossOf = (): LossResult =>
      alpha < 1 && model instanceof JumpReluSae
        ? blendLosses(model.lossAndGrads(x, { ...lossOptions, topKWarmup: warmupK, training: false }), model.lossAndGrads(x, lossOptions), alpha)
        : model.lossAndGrads(x, lossOptions);
    const fast = this.backend?.isFast === true;
    const buffersBefore = fast ? copyOf(this.model.buffers) : undefined;
    let res: LossResult | undefined;
    let failure = 'produced a non-finite value';
    try {
      res = lossOf();
    } catch (err) {
      if (!fast) throw err;
      failure = `failed (${(err instanceof Error ? err.message : String(err)).split('\n')[0]})`;
    }
    let usable = res !== undefined && Number.isFinite(res.loss) && allFinite(res.grads);
    if (fast && buffersBefore && this.backend && !usable) {
      // The same step on the reference backend decides whether the engine or the data is at fault.
      for (const [name, saved] of buffersBefore) this.model.buffers.get(name)?.set(saved);
      this.backend.useReference();
      res = lossOf();
      usable = Number.isFinite(res.loss) && allFinite(res.grads);
      if (usable) {
        this.onNotice(`step ${t + 1}: the ${this.backend.requested.name} backend ${failure}; continuing on the reference backend`);
      } else {
        this.backend.usePreferred(); // the batch is at fault, not the engine: skip the step as usual
      }
    }
    if (!res || !usable) {
      // Finite inputs gave a non-finite loss (an overflow or a diverging run): never apply such a step,
      // and stop rather than skip on, so the last good checkpoint stays the newest.
      throw new NonFiniteLossError(t);
    }
    const { params } = this.model;
    const lr = this.lrAt(t);
    // Each parameter's Adam bias correction counts its own updates: θ gets none during a TopK warm start.
    const thetaFrozenFor = this.model instanceof JumpReluSae ? Math.min(t, warmupSteps) : 0;
    const thetaName = this.model instanceof JumpReluSae ? this.model.thresholdName : '';
    const thetaLr = lr * (c.jumpRelu?.thresholdLrScale ?? 1);
    this.adam.step(
      params,
      res.grads,
      (name) => (name === thetaName ? thetaLr : lr),
      (name) => (name === thetaName ? t + 1 - thetaFrozenFor : t + 1),
      // A unit-norm decoder's gradient loses its parallel component and its rows are renormalised after.
      this.model.unitNormDecoder ? { name: 'W_dec', rows: c.dSae, cols: x.cols } : undefined,
    );
    this.model.project?.();
    this.tracker.add(res.features);
    this.stepCount++;
    this.tokenCount += x.rows;
    const { variance } = batch;
    const metrics: StepMetrics = {
      step: this.stepCount,
      tokens: this.tokenCount,
      loss: res.loss,
      mse: res.mse,
      fvu: variance > 0 ? (res.mse * x.rows) / variance : Number.NaN,
      l0: res.l0,
      sparsityLoss: res.sparsityLoss,
      auxLoss: res.auxLoss,
      deadFraction: this.tracker.deadFraction(c.deadWindowTokens),
      lr,
      sparsityCoeff,
      rowsUsed: x.rows,
      rowsSkipped: skipped,
    };
    if (this.stepCount % c.historyEvery === 0 || this.done) {
      const { rowsUsed: _u, rowsSkipped: _s, ...record } = metrics;
      this.history.push(record);
    }
    return metrics;
  }

  getState(source?: DataSource): TrainerState {
    const copy = (m: ReadonlyMap<string, Float32Array>): Record<string, Float32Array> =>
      Object.fromEntries([...m].map(([k, v]) => [k, v.slice()]));
    const sourceState = source?.getState?.();
    return {
      version: 1,
      config: this.config,
      step: this.stepCount,
      tokens: this.tokenCount,
      skippedRows: this.skippedRows,
      skippedSteps: this.skippedSteps,
      inputScale: this.scale,
      rng: this.rng.getState(),
      params: copy(this.model.params),
      adamM: copy(this.adam.m),
      adamV: copy(this.adam.v),
      buffers: copy(this.model.buffers),
      firing: {
        tokens: this.tracker.tokens,
        fireCount: this.tracker.fireCount.slice(),
        lastFired: this.tracker.lastFired.slice(),
      },
      history: this.history.map((h) => ({ ...h })),
      ...(sourceState !== undefined ? { source: sourceState } : {}),
    };
  }

  /** Firing frequency per latent over all training tokens. */
  firingFrequencies(): Float64Array {
    return this.tracker.frequencies();
  }

  /** Weights for raw activations: C folded in (src/core/sae/fold.ts). */
  exportWeights(): SaeWeights {
    const w = this.model.toWeights();
    const folded = this.scale === 1 ? w : foldInputScale(w, this.scale);
    const recipe = this.config.recipe !== undefined ? { training_recipe: this.config.recipe } : {};
    return { ...folded, config: { ...folded.config, extra: { ...folded.config.extra, training_input_scale: this.scale, ...recipe } } };
  }
}

function copyInto(target: Map<string, Float32Array>, source: Record<string, Float32Array>, what: string): void {
  for (const [name, live] of target) {
    const saved = source[name];
    if (!saved || saved.length !== live.length) throw new Error(`trainer state: ${what}.${name} is missing or has the wrong size`);
    live.set(saved);
  }
}

function copyOf(m: ReadonlyMap<string, Float32Array>): Map<string, Float32Array> {
  return new Map([...m].map(([k, v]) => [k, v.slice()]));
}

function allFinite(grads: ReadonlyMap<string, Float32Array>): boolean {
  for (const g of grads.values()) {
    // NaN·0 = ∞·0 = NaN. Four independent sums: one sum's chain of adds ran at a quarter of the speed.
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    let i = 0;
    for (; i + 3 < g.length; i += 4) {
      s0 += g[i] * 0;
      s1 += g[i + 1] * 0;
      s2 += g[i + 2] * 0;
      s3 += g[i + 3] * 0;
    }
    for (; i < g.length; i++) s0 += g[i] * 0;
    if (s0 + s1 + s2 + s3 !== 0) return false;
  }
  return true;
}

function scaled(x: Matrix, factor: number): Matrix {
  const data = new Float32Array(x.data.length);
  for (let i = 0; i < data.length; i++) data[i] = x.data[i] * factor;
  return { data, rows: x.rows, cols: x.cols };
}

/** θ_j = the (1 − rate) quantile of latent j's pre-activations, so each fires on ≈ rate of tokens at step 0. */
function initThresholdFromQuantile(model: JumpReluSae, x: Matrix, rate: number): void {
  const dSae = model.config.dSae;
  const maxRows = Math.max(64, Math.floor(2 ** 24 / dSae));
  const sample = x.rows > maxRows ? { data: x.data.subarray(0, maxRows * x.cols), rows: maxRows, cols: x.cols } : x;
  const { pre } = model.preActivations(sample);
  const n = sample.rows;
  const col = new Float32Array(n);
  const idx = Math.min(n - 1, Math.max(0, Math.floor((1 - rate) * n)));
  const theta = new Float32Array(dSae);
  for (let j = 0; j < dSae; j++) {
    for (let r = 0; r < n; r++) col[r] = pre.data[r * dSae + j];
    // The value a sort would put at idx, without sorting: the (n − idx)-th largest (a full sort of every
    // column took 2–2.6 s of a 1 M-token default run).
    theta[j] = Math.max(1e-6, kthLargest(col, n - idx));
  }
  const log = model.params.get('log_threshold');
  if (log) log.set(theta.map(Math.log));
  else mustGet(model.params, 'threshold').set(theta);
}

/**
 * (1 − α)·a + α·b for the losses and gradients (a parameter missing from one side counts as a zero
 * gradient there); the firing pattern, L0 and reconstruction are b's: the rule training moves towards.
 */
export function blendLosses(a: LossResult, b: LossResult, alpha: number): LossResult {
  const mix = (u: number, v: number): number => (1 - alpha) * u + alpha * v;
  const grads = new Map<string, Float32Array>();
  for (const name of new Set([...a.grads.keys(), ...b.grads.keys()])) {
    const ga = a.grads.get(name);
    const gb = b.grads.get(name);
    const n = (ga ?? gb)?.length ?? 0;
    const g = new Float32Array(n);
    for (let i = 0; i < n; i++) g[i] = (1 - alpha) * (ga ? ga[i] : 0) + alpha * (gb ? gb[i] : 0);
    grads.set(name, g);
  }
  return {
    loss: mix(a.loss, b.loss),
    mse: mix(a.mse, b.mse),
    sparsityLoss: mix(a.sparsityLoss, b.sparsityLoss),
    auxLoss: mix(a.auxLoss, b.auxLoss),
    l0: b.l0,
    features: b.features,
    reconstruction: b.reconstruction,
    grads,
  };
}
