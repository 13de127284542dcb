// Continuations of a text with and without interventions, in step: at each step the clean run and the
// steered run each choose their next token (greedy, or sampled from generators with the same seed), and
// the steered run's KL(clean ‖ steered) is measured on its own context: the model's clean next-token
// distribution against the intervened one, both computed on the same tokens (one cut, two variants).
// Texts longer than the context slide a window over the last contextLength tokens; positions stay
// absolute, so an intervention "from position p on" keeps applying to every new token. The clean run goes
// through the model's KV cache when it has one; the steered run edits every position's activations, so it
// reruns its context each step.
import type { Continuation, GenerationResult, GenerationStep } from '../../protocol/steering';
import { throwIfAborted } from '../util/abort';
import { Rng } from '../util/rng';
import { cutForInterventions, intervene, valueLimit, validateInterventions, type Intervention } from './interventions';
import { klDivergence, softmax } from './nextToken';
import { AnalysisError, resolveSite, type AnalysisModel, type AnalysisSae } from './ports';
import { chooseToken, validateSampling, type SamplingOptions } from './sampling';

export const MAX_NEW_TOKENS = 512;

export type { Continuation, GenerationResult, GenerationStep };

export interface GenerationOptions {
  readonly maxNewTokens: number;
  readonly interventions: readonly Intervention[];
  readonly sampling: SamplingOptions;
  readonly signal?: AbortSignal;
  /** Run the clean continuation too (default true); false measures the steered run alone. */
  readonly withClean?: boolean;
  /** Called after each step, for streaming. */
  readonly onStep?: (step: GenerationStep) => void;
}

export async function generateSideBySide(model: AnalysisModel, sae: AnalysisSae, site: string, prompt: string, options: GenerationOptions): Promise<GenerationResult> {
  const started = performance.now();
  resolveSite(model, sae, site);
  validateSampling(options.sampling);
  const n = options.maxNewTokens;
  if (!Number.isInteger(n) || n < 1 || n > MAX_NEW_TOKENS) throw new AnalysisError(`new tokens must be an integer in 1..${MAX_NEW_TOKENS}, got ${n}`, 'badLength');
  const promptIds = Array.from(model.tokenize(prompt).ids);
  if (promptIds.length === 0) throw new AnalysisError('generation needs a prompt of at least one token', 'badPosition');
  const ctx = model.contextLength;
  const firstWindow = promptIds.slice(-ctx);
  const firstActs = (await model.cutAtSite(Int32Array.from(firstWindow), site, options.signal)).acts;
  validateInterventions(options.interventions, sae.weights.config.dSae, promptIds.length, valueLimit(firstActs));

  const cleanIds = [...promptIds];
  const steeredIds = [...promptIds];
  const kls: number[] = [];
  const cleanRng = new Rng(options.sampling.seed);
  const steeredRng = new Rng(options.sampling.seed);
  let cancelled = false;
  const withClean = options.withClean ?? true;
  // The clean run reads the model's KV cache when it has one (one token per step instead of the context).
  const cleanStream = withClean ? await model.nextTokenStream?.(Int32Array.from(promptIds), options.signal) : undefined;
  for (let k = 0; k < n; k++) {
    if (options.signal?.aborted) {
      cancelled = true;
      break;
    }
    try {
      let cleanLogits: Float32Array | undefined;
      if (cleanStream) {
        cleanLogits = k === 0 ? cleanStream.logits : await cleanStream.append(cleanIds[cleanIds.length - 1]);
      } else if (withClean) {
        const cleanCut = await model.cutAtSite(Int32Array.from(cleanIds.slice(-ctx)), site, options.signal);
        [cleanLogits] = await cleanCut.lastLogits([cleanCut.acts], options.signal);
      }

      const from = Math.max(0, steeredIds.length - ctx);
      const { cut, encoded } = await cutForInterventions(model, sae, site, Int32Array.from(steeredIds.slice(from)), options.signal);
      throwIfAborted(options.signal);
      const edited = intervene(cut.acts, encoded, sae.inference, options.interventions, from);
      const [sameContext, steeredLogits] = await cut.lastLogits([cut.acts, edited], options.signal);

      const cleanId = cleanLogits ? chooseToken(cleanLogits, options.sampling, cleanRng) : -1;
      const steeredId = chooseToken(steeredLogits, options.sampling, steeredRng);
      const kl = klDivergence(softmax(sameContext), softmax(steeredLogits));
      if (withClean) cleanIds.push(cleanId);
      steeredIds.push(steeredId);
      kls.push(kl);
      options.onStep?.({
        index: k,
        ...(withClean ? { clean: { id: cleanId, token: model.tokenText(cleanId) } } : {}),
        steered: { id: steeredId, token: model.tokenText(steeredId), kl },
      });
    } catch (err) {
      if (!options.signal?.aborted) throw err;
      cancelled = true;
      break;
    }
  }
  const continuation = (ids: number[]): Continuation => {
    const fresh = ids.slice(promptIds.length);
    return { ids: fresh, text: model.decode(fresh), tokens: fresh.map((id) => model.tokenText(id)) };
  };
  const total = Math.max(cleanIds.length, steeredIds.length);
  const windowNote =
    promptIds.length > ctx
      ? `The prompt has ${promptIds.length} tokens; the model sees the last ${ctx} of them (its context), and the window slides with every new token.`
      : total > ctx
        ? `The context (${ctx} tokens) filled up after ${ctx - promptIds.length} new tokens; from then on each token sees the last ${ctx} tokens.`
        : undefined;
  return {
    prompt,
    promptTokens: promptIds.length,
    clean: continuation(cleanIds),
    steered: { ...continuation(steeredIds), kl: kls },
    interventions: options.interventions,
    sampling: options.sampling,
    ...(windowNote ? { windowNote } : {}),
    cancelled,
    elapsedMs: performance.now() - started,
  };
}
