// The hypothesis workbench's question and answer as they cross the host → worker → webview boundaries.
import { isRecord, refuse, type Parsed } from './validate';

/**
 * A rule over tokens: a regular expression over each token's text, a list of words (case and surrounding
 * spaces ignored), or labelled examples: a text with the character ranges [start, end) where the rule holds
 * (e.g. the editor's selections), every other token of the text being a negative example.
 */
export type Hypothesis =
  | { readonly kind: 'regex'; readonly pattern: string }
  | { readonly kind: 'tokens'; readonly tokens: readonly string[] }
  | { readonly kind: 'examples'; readonly text: string; readonly ranges: readonly (readonly [number, number])[] };

export interface Detector {
  readonly feature: number;
  /** AUROC of the feature's activation as a score for the hypothesis, on the fitting split. */
  readonly auroc: number;
  /** The same on the held-out split. */
  readonly heldoutAuroc?: number;
  /** Of the positions where it fires, the fraction the hypothesis marks. */
  readonly precision: number;
  /** Of the marked positions, the fraction where it fires. */
  readonly recall: number;
  readonly label?: string;
}

export interface Probe {
  readonly features: readonly { readonly feature: number; readonly weight: number; readonly label?: string }[];
  readonly bias: number;
  readonly auroc: number;
  readonly heldoutAuroc?: number;
}

export interface HypothesisResult {
  /** What was tested, in words. */
  readonly description: string;
  /** Where the tokens came from: the indexed corpus, or the examples' text. */
  readonly source: string;
  readonly positives: number;
  readonly tokens: number;
  readonly heldoutPositives: number;
  readonly heldoutTokens: number;
  readonly detectors: readonly Detector[];
  readonly probe?: Probe;
}

/** Checks a hypothesis received from another process or the webview. */
export function parseHypothesis(value: unknown): Parsed<Hypothesis> {
  if (!isRecord(value)) return refuse('a hypothesis must be an object');
  switch (value.kind) {
    case 'regex':
      return typeof value.pattern === 'string' && value.pattern.length > 0 ? { ok: true, value: { kind: 'regex', pattern: value.pattern } } : refuse('regex hypothesis without a pattern');
    case 'tokens':
      return Array.isArray(value.tokens) && value.tokens.every((t) => typeof t === 'string') ? { ok: true, value: { kind: 'tokens', tokens: value.tokens as string[] } } : refuse('tokens hypothesis needs a list of strings');
    case 'examples': {
      const ranges = value.ranges;
      const ok =
        typeof value.text === 'string' &&
        Array.isArray(ranges) &&
        ranges.every((r) => Array.isArray(r) && r.length === 2 && Number.isInteger(r[0]) && Number.isInteger(r[1]) && r[0] >= 0 && r[1] >= r[0]);
      return ok ? { ok: true, value: { kind: 'examples', text: value.text as string, ranges: (ranges as [number, number][]).map((r) => [r[0], r[1]] as const) } } : refuse('examples hypothesis needs text and ranges [start, end]');
    }
    default:
      return refuse('a hypothesis kind is regex, tokens or examples');
  }
}

export function describeHypothesis(h: Hypothesis): string {
  if (h.kind === 'regex') return `tokens matching /${h.pattern}/`;
  if (h.kind === 'tokens') return `the words ${h.tokens.map((t) => JSON.stringify(t.trim())).join(', ')}`;
  const chars = h.ranges.reduce((s, r) => s + r[1] - r[0], 0);
  return `${h.ranges.length} selected example${h.ranges.length === 1 ? '' : 's'} (${chars} characters) in a ${h.text.length}-character text`;
}
