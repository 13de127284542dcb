// Tokenizer from a Hugging Face tokenizer.json, on @huggingface/tokenizers (pure JS, offline). That library
// returns ids and token strings but no offsets; offsets.ts recovers exact character offsets from the token
// strings (byte-level alphabet, SentencePiece ▁ / <0xNN> pieces).
import { readFileSync } from 'node:fs';
import { Tokenizer } from '@huggingface/tokenizers';
import type { TextTokenizer, TokenizedText } from '../runtime/types';
import { alignOffsets, byteLevelAlphabet, utf8 } from './offsets';

const SUPPORTED_MODELS = ['BPE', 'WordPiece', 'Unigram'];

export class TokenizerFileError extends Error {
  constructor(
    readonly file: string,
    problem: string,
  ) {
    super(`${file}: ${problem}`);
    this.name = 'TokenizerFileError';
  }
}

interface TokenizerJson {
  model?: { type?: string; vocab?: unknown; unk_token?: string | null; continuing_subword_prefix?: string | null };
  added_tokens?: { id: number; content: string; special?: boolean }[];
  decoder?: { type?: string; decoders?: { type?: string }[] } | null;
  pre_tokenizer?: { type?: string; pretokenizers?: { type?: string }[] } | null;
}

function hasType(component: { type?: string; decoders?: { type?: string }[]; pretokenizers?: { type?: string }[] } | null | undefined, type: string): boolean {
  if (!component) return false;
  if (component.type === type) return true;
  return [...(component.decoders ?? []), ...(component.pretokenizers ?? [])].some((c) => c.type === type);
}

/** Load tokenizer.json. Unsupported or malformed files give a TokenizerFileError naming the file. */
export function loadTokenizer(file: string): HfTokenizer {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new TokenizerFileError(file, `cannot read the tokenizer (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  let json: TokenizerJson;
  try {
    json = JSON.parse(text) as TokenizerJson;
  } catch (err) {
    throw new TokenizerFileError(file, `not valid JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  return tokenizerFromJson(json, file);
}

export function tokenizerFromJson(json: unknown, file = 'tokenizer.json'): HfTokenizer {
  if (!json || typeof json !== 'object' || Array.isArray(json)) throw new TokenizerFileError(file, 'not a tokenizer.json object');
  const j = json as TokenizerJson;
  if (!j.model || typeof j.model !== 'object') {
    throw new TokenizerFileError(file, 'no "model" section: not a Hugging Face tokenizer.json (a tokenizer_config.json or vocab file?)');
  }
  const type = j.model.type ?? (j.model.vocab && Array.isArray(j.model.vocab) ? 'Unigram' : undefined);
  if (!type || !SUPPORTED_MODELS.includes(type)) {
    throw new TokenizerFileError(file, `unsupported tokenizer model type "${type ?? 'none'}" (supported: ${SUPPORTED_MODELS.join(', ')})`);
  }
  let tok: Tokenizer;
  try {
    tok = new Tokenizer(j, {});
  } catch (err) {
    throw new TokenizerFileError(file, `unsupported or malformed tokenizer: ${err instanceof Error ? err.message : String(err)}`);
  }
  return new HfTokenizer(tok, j, file);
}

export class HfTokenizer implements TextTokenizer {
  readonly vocabSize: number;
  readonly eosId?: number;
  private readonly byteLevel: boolean;
  private readonly charToByte: Map<string, number>;
  private readonly added = new Map<number, string>();
  private readonly subwordPrefix: string | undefined;
  private readonly tokenBytesCache = new Map<number, Uint8Array>();

  constructor(
    private readonly tok: Tokenizer,
    json: TokenizerJson,
    readonly file: string,
  ) {
    const vocab = tok.get_vocab(true);
    let max = -1;
    for (const id of vocab.values()) if (id > max) max = id;
    this.vocabSize = max + 1;
    for (const a of json.added_tokens ?? []) this.added.set(a.id, a.content);
    this.byteLevel = hasType(json.decoder, 'ByteLevel') || hasType(json.pre_tokenizer, 'ByteLevel');
    this.charToByte = byteLevelAlphabet().charToByte;
    this.subwordPrefix = json.model?.type === 'WordPiece' ? (json.model.continuing_subword_prefix ?? '##') : undefined;
    for (const name of ['<|endoftext|>', '</s>', '<|end_of_text|>', '<eos>', '<|eot_id|>']) {
      const id = tok.token_to_id(name);
      if (id !== undefined) {
        this.eosId = id;
        break;
      }
    }
  }

  encode(text: string): TokenizedText {
    if (text.length === 0) return { ids: new Int32Array(0), offsets: new Int32Array(0) };
    const enc = this.tok.encode(text, { add_special_tokens: false });
    const ids = Int32Array.from(enc.ids);
    const bytes = enc.ids.map((id, i) => this.bytesOf(id, enc.tokens[i]));
    return { ids, offsets: alignOffsets(text, bytes) };
  }

  decode(ids: ArrayLike<number>): string {
    if (ids.length === 0) return '';
    for (let i = 0; i < ids.length; i++) {
      if (!Number.isInteger(ids[i]) || ids[i] < 0 || ids[i] >= this.vocabSize) {
        throw new RangeError(`${this.file}: token id ${ids[i]} at position ${i} is outside the vocabulary (0..${this.vocabSize - 1})`);
      }
    }
    return this.tok.decode(Array.from(ids), { skip_special_tokens: false, clean_up_tokenization_spaces: false });
  }

  tokenText(id: number): string {
    return this.decode([id]);
  }

  /** The UTF-8 bytes a token stands for in the (normalised) text. */
  private bytesOf(id: number, token: string): Uint8Array {
    const cached = this.tokenBytesCache.get(id);
    if (cached) return cached;
    let out: Uint8Array;
    const added = this.added.get(id);
    if (added !== undefined) out = utf8(added);
    else if (this.byteLevel) {
      const bytes: number[] = [];
      for (const ch of token) {
        const b = this.charToByte.get(ch);
        if (b !== undefined) bytes.push(b);
        else bytes.push(...utf8(ch));
      }
      out = Uint8Array.from(bytes);
    } else {
      const m = /^<0x([0-9A-Fa-f]{2})>$/.exec(token);
      if (m) out = Uint8Array.of(parseInt(m[1], 16));
      else {
        let s = token.replace(/\u2581/g, ' ');
        if (this.subwordPrefix && s.startsWith(this.subwordPrefix)) s = s.slice(this.subwordPrefix.length);
        out = utf8(s);
      }
    }
    this.tokenBytesCache.set(id, out);
    return out;
  }
}
