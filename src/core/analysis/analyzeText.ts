// Text → tokens → site activations → SAE features → per-token decomposition.
import type { AnalysisResult } from '../../protocol/analysis';
import type { EncodedRows } from '../inference/inferenceSae';
import type { Matrix } from '../tensor';
import { throwIfAborted } from '../util/abort';
import { decompose } from './decompose';
import { resolveSite, type AnalysisModel, type AnalysisSae } from './ports';

export interface AnalyzeOptions {
  readonly topK: number;
  /** Longer inputs are cut here (and the result says so). */
  readonly maxTokens: number;
  readonly signal?: AbortSignal;
}

export interface EncodedText {
  readonly ids: Int32Array;
  readonly offsets: Int32Array;
  readonly x: Matrix;
  readonly encoded: EncodedRows;
  /** Transcoders: the activations at the output site, [n, d_out]. */
  readonly target?: Matrix;
  readonly truncatedFrom?: number;
}

/** The shared first half of every analysis: tokens, activations at the SAE's site, features. */
export async function encodeText(model: AnalysisModel, sae: AnalysisSae, site: string, text: string, maxTokens: number, signal?: AbortSignal): Promise<EncodedText> {
  resolveSite(model, sae, site);
  const tokenized = model.tokenize(text);
  const total = tokenized.ids.length;
  const n = Math.min(total, maxTokens);
  const ids = tokenized.ids.subarray(0, n);
  const offsets = tokenized.offsets.subarray(0, 2 * n);
  throwIfAborted(signal);
  const x = n > 0 ? await model.activations(ids, site, signal) : { data: new Float32Array(0), rows: 0, cols: sae.weights.config.dIn };
  throwIfAborted(signal);
  const encoded = await sae.encode(x);
  const target = sae.outputSite && n > 0 ? await model.activations(ids, sae.outputSite, signal) : undefined;
  return { ids, offsets, x, encoded, ...(target ? { target } : {}), ...(total > n ? { truncatedFrom: total } : {}) };
}

export async function analyzeText(model: AnalysisModel, sae: AnalysisSae, site: string, text: string, options: AnalyzeOptions): Promise<AnalysisResult> {
  const started = performance.now();
  const enc = await encodeText(model, sae, site, text, options.maxTokens, options.signal);
  const d = decompose(enc.x, enc.encoded, sae.inference, { topK: options.topK, ...(enc.target ? { target: enc.target } : {}) });
  const tokens = d.tokens.map((t, i) => {
    const start = enc.offsets[2 * i];
    const end = enc.offsets[2 * i + 1];
    return {
      text: text.slice(start, end),
      start,
      end,
      maxActivation: t.maxActivation,
      l0: t.l0,
      reconError: t.reconError,
      features: t.top.map((h) => {
        const label = sae.labels.get(h.id);
        return label ? { ...h, label } : h;
      }),
    };
  });
  const n = Math.max(1, tokens.length);
  return {
    text,
    model: model.name,
    site,
    sae: sae.name,
    dSae: sae.weights.config.dSae,
    tokens,
    active: { rowStart: d.rowStart, featureIds: d.featureIds, values: d.values },
    meanL0: tokens.reduce((s, t) => s + t.l0, 0) / n,
    meanReconError: tokens.reduce((s, t) => s + t.reconError, 0) / n,
    maxActivation: tokens.reduce((m, t) => Math.max(m, t.maxActivation), 0),
    ...(enc.truncatedFrom !== undefined ? { truncatedFrom: enc.truncatedFrom } : {}),
    elapsedMs: performance.now() - started,
  };
}
