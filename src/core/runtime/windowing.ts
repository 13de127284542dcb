// Windowing policy for texts longer than the model's context.
//
// Windows of `window` tokens start every `stride` tokens (0, stride, 2·stride, …; the last window is moved
// back so it ends at the last token). Each token's activation is taken from the window in which it has the
// most left context, i.e. the earliest window that contains it. So the first window contributes all its
// tokens and every later window contributes only the tokens after the previous window's end: every token
// beyond the first window sees at least `window − stride` tokens of left context. Cost: about window/stride
// times the tokens of one pass (2× with the default stride of half a window).
// Inputs longer than `maxTokens` are truncated to their first `maxTokens` tokens, and the caller gets a
// message saying so: a 100k-character selection is processed, never silently, and never all at once.

export interface Window {
  /** First token of the window. */
  readonly start: number;
  /** One past the last token of the window. */
  readonly end: number;
  /** Tokens [takeFrom, end) of the input are taken from this window. */
  readonly takeFrom: number;
}

export const DEFAULT_MAX_TOKENS = 8192;

export function planWindows(n: number, window: number, stride: number): Window[] {
  if (!Number.isInteger(window) || window < 1) throw new RangeError(`window must be a positive integer, got ${window}`);
  if (!Number.isInteger(stride) || stride < 1 || stride > window) throw new RangeError(`stride must be an integer in 1..${window}, got ${stride}`);
  if (n <= 0) return [];
  if (n <= window) return [{ start: 0, end: n, takeFrom: 0 }];
  const out: Window[] = [{ start: 0, end: window, takeFrom: 0 }];
  let covered = window;
  for (let start = stride; covered < n; start += stride) {
    const s = Math.min(start, n - window);
    const end = s + window;
    if (end <= covered) continue;
    out.push({ start: s, end, takeFrom: covered });
    covered = end;
  }
  return out;
}

/** The message shown when an input is truncated to `maxTokens`. */
export function truncationMessage(total: number, used: number): string {
  return `The input has ${total} tokens; only the first ${used} were processed (the limit for one request). Select less text to see the rest.`;
}
