"""Train a GPT-2-style byte-level BPE tokenizer and encode the corpus.

Vocabulary (4096 ids):
    0            <|endoftext|>  (special; document separator, BOS and EOS)
    1 .. 256     the 256 byte symbols, in byte order
    257 .. 4095  3839 learned merges, in merge order

Inputs : out/corpus/train.txt, out/corpus/heldout.txt   (from corpus.mjs)
Outputs: out/tokenizer/tokenizer.json, out/data/{train,heldout}.u16 (uint16 ids)

Usage: /usr/bin/python3 tools/build-model/train_tokenizer.py [--vocab 4096]
"""
import argparse
import collections
import heapq
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bpe import BYTE_ENC, EOT, EOT_ID, ByteLevelBPE, pretokenize, tokenizer_json  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "out")


def count_words(path):
    counts = collections.Counter()
    with open(path, encoding="utf-8") as f:
        text = f.read()
    for doc in text.split("\n" + EOT + "\n"):
        counts.update(pretokenize(doc))
    return counts


def train_bpe(counts, n_merges, log_every=500):
    """Classic BPE training with incremental pair statistics and a lazy max-heap."""
    words = [list(w) for w in counts]
    freqs = [counts[w] for w in counts]
    pair_count = collections.Counter()
    where = collections.defaultdict(set)
    for wi, (w, f) in enumerate(zip(words, freqs)):
        for a, b in zip(w, w[1:]):
            pair_count[(a, b)] += f
            where[(a, b)].add(wi)
    heap = [(-c, p) for p, c in pair_count.items()]
    heapq.heapify(heap)
    merges = []
    t0 = time.time()
    while len(merges) < n_merges and heap:
        negc, pair = heapq.heappop(heap)
        if pair_count.get(pair, 0) != -negc or negc == 0:
            continue  # stale entry
        merges.append(pair)
        a, b = pair
        ab = a + b
        changed = collections.Counter()
        for wi in list(where[pair]):
            w = words[wi]
            f = freqs[wi]
            i = 0
            new = []
            while i < len(w):
                if i < len(w) - 1 and w[i] == a and w[i + 1] == b:
                    new.append(ab)
                    i += 2
                else:
                    new.append(w[i])
                    i += 1
            if len(new) == len(w):
                continue
            for p in zip(w, w[1:]):
                changed[p] -= f
            for p in zip(new, new[1:]):
                changed[p] += f
                where[p].add(wi)
            words[wi] = new
        del where[pair]
        for p, d in changed.items():
            if d == 0:
                continue
            c = pair_count[p] + d
            if c <= 0:
                pair_count.pop(p, None)
            else:
                pair_count[p] = c
                heapq.heappush(heap, (-c, p))
        pair_count.pop(pair, None)
        if log_every and len(merges) % log_every == 0:
            print(f"  merge {len(merges)}/{n_merges}  {ab!r}  ({time.time() - t0:.0f}s)", flush=True)
    return merges


def encode_file(tok, src, dst):
    with open(src, encoding="utf-8") as f:
        text = f.read()
    ids = tok.encode(text.replace("\n" + EOT + "\n", EOT))
    arr = np.asarray(ids, dtype=np.uint16)
    arr.tofile(dst)
    return len(text), len(arr)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vocab", type=int, default=4096)
    args = ap.parse_args()
    os.makedirs(os.path.join(OUT, "tokenizer"), exist_ok=True)
    os.makedirs(os.path.join(OUT, "data"), exist_ok=True)

    t0 = time.time()
    counts = count_words(os.path.join(OUT, "corpus", "train.txt"))
    print(f"pre-tokens: {sum(counts.values())} total, {len(counts)} unique ({time.time() - t0:.0f}s)", flush=True)

    n_merges = args.vocab - 1 - 256
    merges = train_bpe(counts, n_merges)
    vocab = {EOT: EOT_ID}
    for b in range(256):
        vocab[BYTE_ENC[b]] = 1 + b
    for a, b in merges:
        vocab[a + b] = len(vocab)
    assert len(vocab) == args.vocab, len(vocab)

    tj = tokenizer_json(vocab, merges)
    path = os.path.join(OUT, "tokenizer", "tokenizer.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(tj, f, ensure_ascii=False)
    print(f"wrote {path} ({time.time() - t0:.0f}s)", flush=True)

    tok = ByteLevelBPE.load(path)
    stats = {}
    for split in ("train", "heldout"):
        chars, ntok = encode_file(tok, os.path.join(OUT, "corpus", f"{split}.txt"), os.path.join(OUT, "data", f"{split}.u16"))
        stats[split] = {"chars": chars, "tokens": ntok, "chars_per_token": round(chars / ntok, 3)}
        print(f"{split}: {chars} chars -> {ntok} tokens ({chars / ntok:.2f} chars/token)", flush=True)
    with open(os.path.join(OUT, "data", "stats.json"), "w") as f:
        json.dump(stats, f, indent=1)
    print(f"done in {time.time() - t0:.0f}s")


if __name__ == "__main__":
    main()
