// Tokenizer round trips and character offsets on awkward text, with the bundled byte-level BPE tokenizer and
// a small SentencePiece-style (Metaspace + byte fallback) tokenizer written here.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { alignOffsets, byteToUtf16, loadTokenizer, tokenizerFromJson, TokenizerFileError } from '../../../../src/core/tokenizer';
import { BUNDLED_MODEL } from '../../../fixtures/tempModel';
import { familyTokenizerJson, type TokenizerFamily } from '../../../fixtures/tokenizers';

const AWKWARD = [
  'plain ascii words',
  'naïve café — “quotes” … ß Ω 中文字符 日本語',
  'emoji 😀👍🏽 family 👨‍👩‍👧 flags 🇫🇷 end',
  'windows\r\nline\r\nendings\r\n\r\n',
  '\tindented\twith\ttabs\n\t\tdeeper',
  'const f = (x: number): string => `${x}`; // 💡 comment\nif (a && b || !c) { return [1, 2, 3]; }',
  '   leading and trailing spaces   ',
  'lone surrogate \uD83D in text',
  '<|endoftext|> inside text <|endoftext|>',
  '',
];

/**
 * Offsets must tile the text: non-empty, in order, no gaps, covering [0, length). Tokens may overlap only by
 * one character (at most 2 UTF-16 units): the character whose UTF-8 bytes BPE split between them.
 */
function assertTiles(text: string, offsets: Int32Array): void {
  let covered = 0;
  for (let i = 0; i < offsets.length / 2; i++) {
    const [s, e] = [offsets[2 * i], offsets[2 * i + 1]];
    assert.ok(e > s, `token ${i} has an empty range [${s}, ${e}) in ${JSON.stringify(text)}`);
    assert.ok(s <= covered, `gap before token ${i}: starts at ${s}, text covered up to ${covered}`);
    assert.ok(covered - s <= 2, `token ${i} overlaps the previous tokens by ${covered - s} units`);
    if (i > 0) assert.ok(s >= offsets[2 * i - 2], `token ${i} starts before token ${i - 1}`);
    covered = Math.max(covered, e);
  }
  assert.equal(covered, text.length, `offsets cover ${covered} of ${text.length} characters`);
}

describe('bundled byte-level BPE tokenizer', () => {
  const tok = loadTokenizer(join(BUNDLED_MODEL, 'tokenizer.json'));

  test('decode(encode(text)) is the text, for awkward text', () => {
    for (const text of AWKWARD) {
      if (text.includes('\uD83D')) continue; // a lone surrogate cannot survive UTF-8 (becomes U+FFFD)
      assert.equal(tok.decode(tok.encode(text).ids), text);
    }
  });

  test('offsets tile the text, and each whole-character token maps to exactly its text', () => {
    for (const text of AWKWARD) {
      const { ids, offsets } = tok.encode(text);
      assert.equal(offsets.length, 2 * ids.length);
      assertTiles(text, offsets);
      for (let i = 0; i < ids.length; i++) {
        const piece = tok.tokenText(ids[i]);
        if (!piece.includes('\uFFFD')) assert.equal(text.slice(offsets[2 * i], offsets[2 * i + 1]), piece, `token ${i} of ${JSON.stringify(text)}`);
      }
    }
  });

  test('a token that splits an emoji maps to the whole emoji', () => {
    const text = 'x😀y';
    const { ids, offsets } = tok.encode(text);
    const partial = Array.from(ids.keys()).filter((i) => tok.tokenText(ids[i]).includes('\uFFFD'));
    assert.ok(partial.length > 0, 'the emoji was not split (choose another character)');
    for (const i of partial) {
      const piece = text.slice(offsets[2 * i], offsets[2 * i + 1]);
      assert.ok(piece.includes('😀'), `token ${i} → ${JSON.stringify(piece)}`);
    }
  });

  test('CRLF and tabs are their own characters in the offsets', () => {
    const text = 'a\r\n\tb';
    const { ids, offsets } = tok.encode(text);
    const pieces = Array.from(ids, (_, i) => text.slice(offsets[2 * i], offsets[2 * i + 1]));
    assert.equal(pieces.join(''), text);
  });

  test('100k characters tokenize with offsets without trouble', () => {
    const unit = 'function f(x) { return x * 2; } // héllo 😀\r\n';
    const text = unit.repeat(Math.ceil(100_000 / unit.length)).slice(0, 100_000);
    const { ids, offsets } = tok.encode(text);
    assert.ok(ids.length > 10_000);
    assert.equal(offsets[offsets.length - 1], text.length);
  });

  test('tokenText refuses ids outside the vocabulary', () => {
    assert.throws(() => tok.tokenText(tok.vocabSize), RangeError);
    assert.equal(typeof tok.eosId, 'number');
  });
});

describe('SentencePiece-style tokenizer (Metaspace, byte fallback)', () => {
  // A Llama-2-like BPE: Metaspace pre-tokenizer, byte fallback for characters outside the vocabulary.
  const pieces = ['<unk>', '<s>', '▁', 'h', 'e', 'l', 'o', 'w', 'r', 'd', '▁h', '▁he', '▁hel', '▁hell', '▁hello', '▁w', '▁wo', '▁wor', 'ld'];
  for (let b = 0; b < 256; b++) pieces.push(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);
  const json = {
    version: '1.0',
    added_tokens: [
      { id: 0, content: '<unk>', special: true, single_word: false, lstrip: false, rstrip: false, normalized: false },
      { id: 1, content: '<s>', special: true, single_word: false, lstrip: false, rstrip: false, normalized: false },
    ],
    normalizer: null,
    pre_tokenizer: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'first', split: false },
    post_processor: null,
    decoder: {
      type: 'Sequence',
      decoders: [
        { type: 'Replace', pattern: { String: '▁' }, content: ' ' },
        { type: 'ByteFallback' },
        { type: 'Fuse' },
        { type: 'Strip', content: ' ', start: 1, stop: 0 },
      ],
    },
    model: {
      type: 'BPE',
      unk_token: '<unk>',
      byte_fallback: true,
      fuse_unk: true,
      vocab: Object.fromEntries(pieces.map((p, i) => [p, i])),
      merges: ['▁ h', '▁h e', '▁he l', '▁hel l', '▁hell o', '▁ w', '▁w o', '▁wo r', 'l d'],
    },
  };

  test('offsets skip the prepended ▁ and map byte pieces to their character', () => {
    const tok = tokenizerFromJson(json, 'sp-tokenizer.json');
    const text = 'hello world é';
    const { ids, offsets } = tok.encode(text);
    assert.equal(tok.decode(ids), text);
    assertTiles(text, offsets);
    const pieces = Array.from(ids, (_, i) => text.slice(offsets[2 * i], offsets[2 * i + 1]));
    assert.equal(pieces[0], 'hello');
    assert.ok(pieces.includes('é'), pieces.join('|'));
  });
});

describe('tokenizers of the Llama 3, Qwen2, Gemma and Llama 2 families', () => {
  const FAMILIES: TokenizerFamily[] = ['llama3', 'qwen2', 'gemma', 'llama2'];
  const texts = AWKWARD.filter((t) => !t.includes('\uD83D') && !t.includes('<|endoftext|>')).concat(["It's 2026: we'll see 1234567 tokens"]);

  for (const family of FAMILIES) {
    const tok = tokenizerFromJson(familyTokenizerJson(family), `${family}/tokenizer.json`);

    test(`${family}: decode(encode(text)) is the text`, () => {
      for (const text of texts) assert.equal(tok.decode(tok.encode(text).ids), text);
    });

    test(`${family}: offsets tile the text, and the text up to each token's end is the decode of the tokens so far`, () => {
      for (const text of texts) {
        const { ids, offsets } = tok.encode(text);
        // Llama 2 prepends ▁: a first token that is only that ▁ stands for no text (empty range at 0).
        const skip = offsets[0] === 0 && offsets[1] === 0 && ids.length > 1 ? 1 : 0;
        if (skip) assert.equal(family, 'llama2', `${family}: empty first token`);
        assertTiles(text, offsets.subarray(2 * skip));
        for (let i = 0; i < ids.length; i++) {
          const decoded = tok.decode(ids.subarray(0, i + 1));
          if (decoded.includes('\uFFFD')) continue; // ends inside a character split between tokens
          assert.equal(decoded, text.slice(0, offsets[2 * i + 1]), `${family} token ${i} of ${JSON.stringify(text)}`);
        }
      }
    });
  }

  test('each family pre-tokenizes digits its own way (Llama 3: up to 3 together, Qwen2: one at a time)', () => {
    const text = 'year 1234567';
    const digitRuns = (family: TokenizerFamily) => {
      const tok = tokenizerFromJson(familyTokenizerJson(family));
      const { offsets } = tok.encode(text);
      return Array.from({ length: offsets.length / 2 }, (_, i) => text.slice(offsets[2 * i], offsets[2 * i + 1])).filter((p) => /^\d+$/.test(p));
    };
    assert.ok(digitRuns('llama3').every((p) => p.length <= 3) && digitRuns('llama3').some((p) => p.length > 1), digitRuns('llama3').join('|'));
    assert.ok(digitRuns('qwen2').every((p) => p.length === 1), digitRuns('qwen2').join('|'));
  });
});

describe('tokenizer errors', () => {
  test('unsupported model type and non-tokenizer JSON name the file', () => {
    assert.throws(() => tokenizerFromJson({ model: { type: 'CharLevel' } }, 'x/tokenizer.json'), (e: Error) => e instanceof TokenizerFileError && /x\/tokenizer\.json: unsupported tokenizer model type "CharLevel"/.test(e.message));
    assert.throws(() => tokenizerFromJson({ vocab_size: 3 }, 'y/tokenizer.json'), /y\/tokenizer\.json: no "model" section/);
    assert.throws(() => loadTokenizer('/nonexistent/tokenizer.json'), /\/nonexistent\/tokenizer\.json: cannot read/);
  });
});

describe('offset alignment primitives', () => {
  test('byte → UTF-16 mapping for 1-, 2-, 3- and 4-byte characters', () => {
    const { charStart, charEnd, bytes } = byteToUtf16('aé中😀');
    assert.equal(bytes, 1 + 2 + 3 + 4);
    assert.deepEqual(Array.from(charStart), [0, 1, 1, 2, 2, 2, 3, 3, 3, 3, 5]);
    assert.deepEqual(Array.from(charEnd), [1, 2, 2, 3, 3, 3, 5, 5, 5, 5, 5]);
  });

  test('a token absent from the text gets an empty range at the current position', () => {
    const enc = new TextEncoder();
    const offsets = alignOffsets('ab', [enc.encode('<s>'), enc.encode('a'), enc.encode('b')]);
    assert.deepEqual(Array.from(offsets), [0, 0, 0, 1, 1, 2]);
  });
});
