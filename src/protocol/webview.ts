// Messages between the extension host and the webview. Both sides import this file.
import type { AnalysisResult, FeatureDashboard, SteeringResult } from './analysis';
import type { CheckpointComparison, FeatureTimeline, SideBySide } from './compare';
import { parseHypothesis, type Hypothesis, type HypothesisResult } from './hypothesis';
import { WEBVIEW_RUNNABLE_COMMANDS, type CommandId } from './commands';
import type { ModelInfo, SaeInfo } from './session';
import { TRAINING_ACTIONS, type TrainingAction, type TrainingPoint, type TrainingRunInfo } from './trainingView';
import { parseInterventions, parseSampling, type AttributionResult, type GenerationResult, type GenerationStep, type Intervention, type SamplingOptions } from './steering';
import { describeUnknown, hasFiniteNumber, hasString, isRecord, refuse, type Parsed } from './validate';

export const PROTOCOL_VERSION = 1;

export type WebviewKind = 'welcome' | 'tokens' | 'feature' | 'compare' | 'training' | 'hypothesis';

export type HostToWebview =
  | { type: 'init'; protocol: number; view: WebviewKind; model?: ModelInfo; sae?: SaeInfo; version: string }
  | { type: 'error'; message: string }
  | { type: 'status'; model?: ModelInfo; sae?: SaeInfo; site?: string }
  | { type: 'analyzing'; text: string }
  | { type: 'analysis'; result: AnalysisResult }
  | { type: 'featureSelected'; feature: number | null }
  | { type: 'dashboard'; dashboard: FeatureDashboard }
  | { type: 'steering'; result: SteeringResult }
  | { type: 'labelSaved'; feature: number; label: string }
  | { type: 'comparing'; message: string }
  | { type: 'comparison'; comparison: CheckpointComparison }
  /** The same text decomposed by the first two compared SAEs (or `decomposing` while it runs). */
  | { type: 'decomposing'; text: string }
  | { type: 'sideBySide'; result: SideBySide }
  /** A dashboard's feature through its run's checkpoints (feature genealogy). */
  | { type: 'timeline'; timeline: FeatureTimeline & { readonly feature: number; readonly at: number } }
  /** "Why this prediction?": the attribution of the prediction at a token (or `attributing` while it runs). */
  | { type: 'attributing'; position: number }
  | { type: 'attribution'; result: AttributionResult }
  /** Open the steering form at a token, optionally with a feature filled in. */
  | { type: 'steerFrom'; position: number; feature?: number }
  | { type: 'generationStep'; step: GenerationStep }
  /** The generation ended: its result, or null when it was cancelled or failed (the streamed steps stay). */
  | { type: 'generationDone'; result: GenerationResult | null }
  /** Training view: the run and its whole history (on load, and when the history was thinned). */
  | { type: 'trainingRun'; run: TrainingRunInfo; history: TrainingPoint[] }
  /** Training view: the run's status and the points appended from index `start`. */
  | { type: 'trainingUpdate'; run: TrainingRunInfo; start: number; points: TrainingPoint[] }
  // Hypothesis workbench.
  | { type: 'hypothesisRunning'; description: string }
  | { type: 'hypothesisResult'; result: HypothesisResult };

export type WebviewToHost =
  | { type: 'ready' }
  | { type: 'runCommand'; command: CommandId }
  | { type: 'log'; level: 'info' | 'error'; message: string }
  /** Highlight the token's source range in the editor. */
  | { type: 'focusToken'; index: number }
  /** Highlight every token where the feature fires (null clears). */
  | { type: 'selectFeature'; feature: number | null }
  | { type: 'openFeature'; feature: number }
  | { type: 'steer'; feature: number; value: number }
  | { type: 'setLabel'; feature: number; label: string }
  /** Attribute the prediction at token `index` of the analysed text; `target`: one token typed by the user. */
  | { type: 'attribute'; index: number; target?: string }
  | { type: 'generate'; interventions: Intervention[]; sampling: SamplingOptions; maxNewTokens: number }
  | { type: 'cancelGeneration' }
  /** From the dashboard: open the steering form in the token view with this feature. */
  | { type: 'steerWithFeature'; feature: number }
  /** From the Training view: a button on its run. */
  | { type: 'trainingAction'; action: TrainingAction }

  /** From Compare: open the dashboards of feature `a` of the first SAE and `b` of the second, side by side. */
  | { type: 'openPair'; a: number; b: number }
  /** From Compare: decompose this text by both SAEs, side by side. */
  | { type: 'decompose'; text: string }
  // Hypothesis workbench: test a rule typed in the view.
  | { type: 'runHypothesis'; hypothesis: Hypothesis };

const MAX_LABEL_LENGTH = 200;
const MAX_DECOMPOSE_TEXT = 20_000;

function isIndex(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0;
}

/** Validates a message from the webview: it is untrusted input. */
export function parseWebviewMessage(value: unknown): Parsed<WebviewToHost> {
  if (!isRecord(value)) return refuse(describeUnknown(value));
  switch (value.type) {
    case 'ready':
      return { ok: true, value: { type: 'ready' } };
    case 'runCommand':
      if (hasString(value, 'command') && WEBVIEW_RUNNABLE_COMMANDS.includes(value.command as CommandId)) {
        return { ok: true, value: { type: 'runCommand', command: value.command as CommandId } };
      }
      return refuse(`runCommand with a command the webview may not run: ${String(value.command)}`);
    case 'log':
      if (hasString(value, 'message') && (value.level === 'info' || value.level === 'error')) {
        return { ok: true, value: { type: 'log', level: value.level, message: value.message as string } };
      }
      return refuse('log message without level or text');
    case 'focusToken':
      return isIndex(value.index)
        ? { ok: true, value: { type: 'focusToken', index: value.index } }
        : refuse('focusToken without a token index');
    case 'selectFeature':
      return value.feature === null || isIndex(value.feature)
        ? { ok: true, value: { type: 'selectFeature', feature: value.feature } }
        : refuse('selectFeature without a feature id');
    case 'openFeature':
      return isIndex(value.feature)
        ? { ok: true, value: { type: 'openFeature', feature: value.feature } }
        : refuse('openFeature without a feature id');
    case 'steer':
      return isIndex(value.feature) && hasFiniteNumber(value, 'value')
        ? { ok: true, value: { type: 'steer', feature: value.feature, value: value.value as number } }
        : refuse('steer needs a feature id and a finite value');
    case 'attribute':
      return isIndex(value.index) && (value.target === undefined || (hasString(value, 'target') && (value.target as string).length <= MAX_LABEL_LENGTH))
        ? { ok: true, value: { type: 'attribute', index: value.index, ...(value.target !== undefined ? { target: value.target as string } : {}) } }
        : refuse('attribute needs a token index (and a short target token, if any)');
    case 'generate': {
      const interventions = parseInterventions(value.interventions);
      const sampling = parseSampling(value.sampling);
      if (!interventions.ok) return refuse(`generate: ${interventions.reason}`);
      if (!sampling.ok) return refuse(`generate: ${sampling.reason}`);
      if (!isIndex(value.maxNewTokens) || value.maxNewTokens === 0) return refuse('generate needs a positive number of new tokens');
      return { ok: true, value: { type: 'generate', interventions: interventions.value, sampling: sampling.value, maxNewTokens: value.maxNewTokens } };
    }
    case 'cancelGeneration':
      return { ok: true, value: { type: 'cancelGeneration' } };
    case 'steerWithFeature':
      return isIndex(value.feature) ? { ok: true, value: { type: 'steerWithFeature', feature: value.feature } } : refuse('steerWithFeature without a feature id');
    case 'trainingAction':
      return TRAINING_ACTIONS.includes(value.action as TrainingAction)
        ? { ok: true, value: { type: 'trainingAction', action: value.action as TrainingAction } }
        : refuse(`trainingAction must be one of ${TRAINING_ACTIONS.join(', ')}`);
    case 'openPair':
      return isIndex(value.a) && isIndex(value.b) ? { ok: true, value: { type: 'openPair', a: value.a, b: value.b } } : refuse('openPair needs two feature ids');
    case 'decompose':
      return hasString(value, 'text') && (value.text as string).length <= MAX_DECOMPOSE_TEXT
        ? { ok: true, value: { type: 'decompose', text: value.text as string } }
        : refuse(`decompose needs a text of at most ${MAX_DECOMPOSE_TEXT} characters`);
    case 'runHypothesis': {
      const h = parseHypothesis(value.hypothesis);
      return h.ok ? { ok: true, value: { type: 'runHypothesis', hypothesis: h.value } } : refuse(`runHypothesis: ${h.reason}`);
    }
    case 'setLabel':
      return isIndex(value.feature) && hasString(value, 'label') && (value.label as string).length <= MAX_LABEL_LENGTH
        ? { ok: true, value: { type: 'setLabel', feature: value.feature, label: (value.label as string).trim() } }
        : refuse(`setLabel needs a feature id and a label of at most ${MAX_LABEL_LENGTH} characters`);
    default:
      return refuse(describeUnknown(value));
  }
}

/** Validates a message from the host (the webview trusts the host, but a version skew shows here). */
export function parseHostMessage(value: unknown): Parsed<HostToWebview> {
  if (!isRecord(value)) return refuse(describeUnknown(value));
  switch (value.type) {
    case 'init':
      if (hasFiniteNumber(value, 'protocol') && value.protocol === PROTOCOL_VERSION && hasString(value, 'view')) {
        return { ok: true, value: value as unknown as HostToWebview };
      }
      return refuse(`init with protocol ${String(value.protocol)}, expected ${PROTOCOL_VERSION}`);
    case 'error':
      return hasString(value, 'message')
        ? { ok: true, value: { type: 'error', message: value.message as string } }
        : refuse('error message without text');
    case 'status':
      return { ok: true, value: value as unknown as HostToWebview };
    case 'analyzing':
      return hasString(value, 'text') ? { ok: true, value: { type: 'analyzing', text: value.text as string } } : refuse('analyzing without text');
    case 'analysis':
      return isRecord(value.result) && Array.isArray(value.result.tokens)
        ? { ok: true, value: value as unknown as HostToWebview }
        : refuse('analysis without tokens');
    case 'featureSelected':
      return value.feature === null || isIndex(value.feature)
        ? { ok: true, value: { type: 'featureSelected', feature: value.feature } }
        : refuse('featureSelected without a feature');
    case 'dashboard':
      return isRecord(value.dashboard) && isIndex(value.dashboard.feature)
        ? { ok: true, value: value as unknown as HostToWebview }
        : refuse('dashboard without a feature');
    case 'steering':
      return isRecord(value.result) && Array.isArray(value.result.before)
        ? { ok: true, value: value as unknown as HostToWebview }
        : refuse('steering without a result');
    case 'labelSaved':
      return isIndex(value.feature) && hasString(value, 'label')
        ? { ok: true, value: { type: 'labelSaved', feature: value.feature, label: value.label as string } }
        : refuse('labelSaved without feature and label');
    case 'comparing':
      return hasString(value, 'message') ? { ok: true, value: { type: 'comparing', message: value.message as string } } : refuse('comparing without a message');
    case 'comparison':
      return isRecord(value.comparison) && Array.isArray(value.comparison.checkpoints)
        ? { ok: true, value: value as unknown as HostToWebview }
        : refuse('comparison without checkpoints');
    case 'decomposing':
      return hasString(value, 'text') ? { ok: true, value: { type: 'decomposing', text: value.text as string } } : refuse('decomposing without text');
    case 'sideBySide':
      return isRecord(value.result) && Array.isArray(value.result.tokens) ? { ok: true, value: value as unknown as HostToWebview } : refuse('sideBySide without tokens');
    case 'timeline':
      return isRecord(value.timeline) && Array.isArray(value.timeline.ids) ? { ok: true, value: value as unknown as HostToWebview } : refuse('timeline without ids');
    case 'attributing':
      return isIndex(value.position) ? { ok: true, value: { type: 'attributing', position: value.position } } : refuse('attributing without a position');
    case 'attribution':
      return isRecord(value.result) && Array.isArray(value.result.rows) ? { ok: true, value: value as unknown as HostToWebview } : refuse('attribution without rows');
    case 'steerFrom':
      return isIndex(value.position) && (value.feature === undefined || isIndex(value.feature))
        ? { ok: true, value: { type: 'steerFrom', position: value.position, ...(value.feature !== undefined ? { feature: value.feature as number } : {}) } }
        : refuse('steerFrom without a position');
    case 'generationStep':
      return isRecord(value.step) && isIndex(value.step.index) ? { ok: true, value: value as unknown as HostToWebview } : refuse('generationStep without a step');
    case 'trainingRun':
      return isRecord(value.run) && hasString(value.run, 'id') && Array.isArray(value.history)
        ? { ok: true, value: value as unknown as HostToWebview }
        : refuse('trainingRun without a run and its history');
    case 'trainingUpdate':
      return isRecord(value.run) && hasString(value.run, 'id') && isIndex(value.start) && Array.isArray(value.points)
        ? { ok: true, value: value as unknown as HostToWebview }
        : refuse('trainingUpdate without a run, a start index and points');
    case 'generationDone':
      return value.result === null || (isRecord(value.result) && isRecord(value.result.steered))
        ? { ok: true, value: value as unknown as HostToWebview }
        : refuse('generationDone without a result');
    case 'hypothesisRunning':
      return hasString(value, 'description') ? { ok: true, value: { type: 'hypothesisRunning', description: value.description as string } } : refuse('hypothesisRunning without a description');
    case 'hypothesisResult':
      return isRecord(value.result) && Array.isArray(value.result.detectors) ? { ok: true, value: value as unknown as HostToWebview } : refuse('hypothesisResult without detectors');
    default:
      return refuse(describeUnknown(value));
  }
}
