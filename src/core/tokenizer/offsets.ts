// Character offsets for tokens. Tokenizers report tokens as strings in their own alphabet (GPT-2's
// byte-level alphabet, SentencePiece's ▁ and <0xNN> byte pieces); we map each token back to the UTF-8 bytes
// it stands for, align those bytes with the UTF-8 encoding of the source text, and convert byte positions to
// UTF-16 indices (JS string positions). A token that covers only part of a multi-byte character (BPE can
// split an emoji across tokens) is given the whole character, so every token maps to a non-empty range of
// the source unless it was not in the text at all (a special token added by the tokenizer: empty range).

/** GPT-2's bytes_to_unicode: byte value → printable character, and back. */
export function byteLevelAlphabet(): { byteToChar: string[]; charToByte: Map<string, number> } {
  const bs: number[] = [];
  for (let b = 33; b <= 126; b++) bs.push(b);
  for (let b = 161; b <= 172; b++) bs.push(b);
  for (let b = 174; b <= 255; b++) bs.push(b);
  const cs = [...bs];
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n);
      n++;
    }
  }
  const byteToChar: string[] = new Array(256);
  const charToByte = new Map<string, number>();
  bs.forEach((b, i) => {
    const c = String.fromCharCode(cs[i]);
    byteToChar[b] = c;
    charToByte.set(c, b);
  });
  return { byteToChar, charToByte };
}

const encoder = new TextEncoder();

export function utf8(s: string): Uint8Array {
  return encoder.encode(s);
}

/**
 * For the UTF-8 encoding of `text`: `charStart[b]` is the UTF-16 index of the character containing byte b,
 * `charEnd[b]` the UTF-16 index just after it. Both have length bytes+1 (the end sentinel maps to text.length).
 */
export function byteToUtf16(text: string): { charStart: Int32Array; charEnd: Int32Array; bytes: number } {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.codePointAt(i) as number;
    bytes += c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
    if (c >= 0x10000) i++;
  }
  const charStart = new Int32Array(bytes + 1);
  const charEnd = new Int32Array(bytes + 1);
  let b = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.codePointAt(i) as number;
    // Lone surrogates encode as U+FFFD (3 bytes), like TextEncoder does.
    const len = c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
    const units = c >= 0x10000 ? 2 : 1;
    for (let k = 0; k < len; k++) {
      charStart[b + k] = i;
      charEnd[b + k] = i + units;
    }
    b += len;
    if (units === 2) i++;
  }
  charStart[bytes] = text.length;
  charEnd[bytes] = text.length;
  return { charStart, charEnd, bytes };
}

function startsWithAt(hay: Uint8Array, needle: Uint8Array, at: number): boolean {
  if (at + needle.length > hay.length) return false;
  for (let k = 0; k < needle.length; k++) if (hay[at + k] !== needle[k]) return false;
  return true;
}

function indexOfBytes(hay: Uint8Array, needle: Uint8Array, from: number, limit: number): number {
  const last = Math.min(hay.length - needle.length, from + limit);
  for (let at = from; at <= last; at++) if (startsWithAt(hay, needle, at)) return at;
  return -1;
}

/**
 * Offsets [start, end) in UTF-16 units for tokens whose byte content is `tokenBytes`, in order, against `text`.
 * Exact when the tokens' bytes concatenate to the text (byte-level BPE without normalisation). Otherwise each
 * token is searched for from the end of the previous one (tolerating normalisers that drop characters or add
 * a prefix space); a token not found in the text gets an empty range at the current position.
 */
export function alignOffsets(text: string, tokenBytes: readonly Uint8Array[]): Int32Array {
  const textBytes = utf8(text);
  const { charStart, charEnd, bytes } = byteToUtf16(text);
  const offsets = new Int32Array(2 * tokenBytes.length);
  const SEARCH_LIMIT = 64;
  // SentencePiece tokenizers (Llama 2's Prepend normalizer, Metaspace) put a ▁ before the text: when the
  // tokens spell exactly " " + text, the first token's leading space stands for no character.
  const synthetic = spellsWithPrefixSpace(tokenBytes, textBytes);
  let pos = 0;
  for (let t = 0; t < tokenBytes.length; t++) {
    let tb = synthetic && t === firstNonEmpty(tokenBytes) ? tokenBytes[t].subarray(1) : tokenBytes[t];
    if (synthetic && tb.length === 0) {
      // The prefix ▁ alone: an empty range where the text starts.
      offsets[2 * t] = 0;
      offsets[2 * t + 1] = 0;
      continue;
    }
    let at = -1;
    if (tb.length > 0) {
      if (startsWithAt(textBytes, tb, pos)) at = pos;
      else {
        at = indexOfBytes(textBytes, tb, pos, SEARCH_LIMIT);
        if (at < 0 && tb[0] === 0x20 && tb.length > 1) {
          // A prefix space the normaliser or pre-tokeniser added (▁Hello / ĠHello at the start of the text).
          const rest = tb.subarray(1);
          at = startsWithAt(textBytes, rest, pos) ? pos : indexOfBytes(textBytes, rest, pos, SEARCH_LIMIT);
          if (at >= 0) tb = rest;
        }
      }
    }
    if (at < 0) {
      const c = pos >= bytes ? text.length : charStart[pos];
      offsets[2 * t] = c;
      offsets[2 * t + 1] = c;
      continue;
    }
    const endByte = at + tb.length;
    offsets[2 * t] = charStart[at];
    offsets[2 * t + 1] = endByte >= bytes ? text.length : charEnd[endByte - 1];
    pos = endByte;
  }
  return offsets;
}

function firstNonEmpty(tokenBytes: readonly Uint8Array[]): number {
  return tokenBytes.findIndex((b) => b.length > 0);
}

/** Do the tokens' bytes concatenate to a space followed by exactly the text? */
function spellsWithPrefixSpace(tokenBytes: readonly Uint8Array[], textBytes: Uint8Array): boolean {
  let total = 0;
  for (const b of tokenBytes) total += b.length;
  if (total !== textBytes.length + 1) return false;
  let k = -1; // position in textBytes; -1 is the prefix space
  for (const b of tokenBytes) {
    for (let i = 0; i < b.length; i++, k++) {
      if (k < 0 ? b[i] !== 0x20 : b[i] !== textBytes[k]) return false;
    }
  }
  return true;
}
