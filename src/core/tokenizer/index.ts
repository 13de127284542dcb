export { loadTokenizer, tokenizerFromJson, HfTokenizer, TokenizerFileError } from './tokenizer';
export { alignOffsets, byteLevelAlphabet, byteToUtf16 } from './offsets';
