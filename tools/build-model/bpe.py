"""Minimal GPT-2-style byte-level BPE (encode/decode + tokenizer.json I/O).

Shared by train_tokenizer.py, train.py and export.py. Behaviour matches the
Hugging Face `tokenizers` BPE model with a ByteLevel pre-tokenizer
(add_prefix_space=false, use_regex=true) and one special added token.
"""
import json

import regex

EOT = "<|endoftext|>"
EOT_ID = 0

# JavaScript's `\s` (what tokenizers.js uses in its ByteLevel regex), spelled out
# so that Python's `regex` module splits exactly like Node does.
_WS = "\\t\\n\\x0b\\x0c\\r \\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff"
PAT = regex.compile(
    r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^" + _WS + r"\p{L}\p{N}]+"
    r"|[" + _WS + r"]+(?![^" + _WS + r"])|[" + _WS + r"]+"
)
_SPECIAL_SPLIT = regex.compile("(" + regex.escape(EOT) + ")")


def bytes_to_unicode():
    """GPT-2's reversible byte -> printable unicode character table."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


BYTE_ENC = bytes_to_unicode()
BYTE_DEC = {c: b for b, c in BYTE_ENC.items()}


def pretokenize(text):
    """Split text (without special tokens) into byte-level-mapped pre-tokens."""
    return ["".join(BYTE_ENC[b] for b in piece.encode("utf-8")) for piece in PAT.findall(text)]


class ByteLevelBPE:
    def __init__(self, vocab, merges):
        self.vocab = vocab  # token string -> id
        self.inv = {i: t for t, i in vocab.items()}
        self.merges = [tuple(m) for m in merges]
        self.ranks = {m: i for i, m in enumerate(self.merges)}
        self.cache = {}

    @classmethod
    def load(cls, path):
        with open(path, encoding="utf-8") as f:
            tj = json.load(f)
        m = tj["model"]
        merges = [tuple(x) if isinstance(x, list) else tuple(x.split(" ", 1)) for x in m["merges"]]
        return cls(m["vocab"], merges)

    def bpe(self, token):
        hit = self.cache.get(token)
        if hit is not None:
            return hit
        word = list(token)
        while len(word) > 1:
            best = None
            best_rank = None
            for i in range(len(word) - 1):
                r = self.ranks.get((word[i], word[i + 1]))
                if r is not None and (best_rank is None or r < best_rank):
                    best_rank, best = r, (word[i], word[i + 1])
            if best is None:
                break
            a, b = best
            out = []
            i = 0
            while i < len(word):
                if i < len(word) - 1 and word[i] == a and word[i + 1] == b:
                    out.append(a + b)
                    i += 2
                else:
                    out.append(word[i])
                    i += 1
            word = out
        ids = [self.vocab[t] for t in word]
        if len(self.cache) < 500_000:
            self.cache[token] = ids
        return ids

    def encode(self, text):
        ids = []
        for part in _SPECIAL_SPLIT.split(text):
            if part == EOT:
                ids.append(EOT_ID)
            elif part:
                for tok in pretokenize(part):
                    ids.extend(self.bpe(tok))
        return ids

    def decode(self, ids):
        out = []
        buf = bytearray()
        for i in ids:
            t = self.inv[int(i)]
            if t == EOT:
                out.append(buf.decode("utf-8", errors="replace"))
                buf = bytearray()
                out.append(EOT)
            else:
                buf.extend(BYTE_DEC[c] for c in t)
        out.append(buf.decode("utf-8", errors="replace"))
        return "".join(out)


def tokenizer_json(vocab, merges):
    """Hugging Face tokenizers `tokenizer.json` for a byte-level BPE."""
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [
            {
                "id": EOT_ID,
                "content": EOT,
                "single_word": False,
                "lstrip": False,
                "rstrip": False,
                "normalized": False,
                "special": True,
            }
        ],
        "normalizer": None,
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
        "post_processor": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": True},
        "decoder": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
        "model": {
            "type": "BPE",
            "dropout": None,
            "unk_token": None,
            "continuing_subword_prefix": None,
            "end_of_word_suffix": None,
            "fuse_unk": False,
            "byte_fallback": False,
            "ignore_merges": False,
            "vocab": vocab,
            "merges": [[a, b] for a, b in merges],
        },
    }
