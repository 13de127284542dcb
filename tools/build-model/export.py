"""Export a tiny-lm checkpoint to ONNX (Optimum-style interface) + tokenizer + config.

    /usr/bin/python3 tools/build-model/export.py                       # out/ckpt/latest.pt -> models/tiny-lm/
    /usr/bin/python3 tools/build-model/export.py --ckpt out/ckpt/first.pt
    /usr/bin/python3 tools/build-model/export.py --dump-weights        # also out/export/weights.npz

ONNX interface (opset 17, no past_key_values):
    inputs : input_ids [batch, sequence] int64
             attention_mask [batch, sequence] int64 (1 = token, 0 = padding)
             position_ids [batch, sequence] int64
    output : logits [batch, sequence, 4096] float32

Also writes out/export/reference.json (inputs + PyTorch logits) that
verify-onnx.mjs compares against onnxruntime-node, and out/export/samples.json
with greedy continuations for the model card.
"""
import argparse
import json
import os
import shutil
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bpe import EOT, EOT_ID, ByteLevelBPE  # noqa: E402
from model import Config, TinyGPT  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
OUT = os.path.join(HERE, "out")

PROMPTS = [
    "The history of the city",
    "She opened the door and",
    "export function parse(text: string): ",
    "interface Options {\n  ",
]


class OnnxWrapper(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, input_ids, attention_mask, position_ids):
        return self.model(input_ids, attention_mask, position_ids)


@torch.no_grad()
def greedy(model, tok, prompt, n_new=40):
    ids = tok.encode(prompt)
    for _ in range(n_new):
        ctx = ids[-model.cfg.n_positions :]
        logits = model(torch.tensor([ctx]))
        nxt = int(logits[0, -1].argmax())
        if nxt == EOT_ID:
            break
        ids.append(nxt)
    return tok.decode(ids)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", default=os.path.join(OUT, "ckpt", "latest.pt"))
    ap.add_argument("--random-init", action="store_true", help="export an untrained model")
    ap.add_argument("--tokenizer", default=os.path.join(OUT, "tokenizer", "tokenizer.json"))
    ap.add_argument("--out-dir", default=os.path.join(ROOT, "models", "tiny-lm"))
    ap.add_argument("--dump-weights", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(2)

    meta = {}
    if args.random_init:
        torch.manual_seed(0)
        cfg = Config()
        model = TinyGPT(cfg)
        meta = {"step": 0, "tokens_seen": 0, "heldout_loss": None, "elapsed": 0}
    else:
        ck = torch.load(args.ckpt, map_location="cpu")
        cfg = Config(**ck["config"])
        model = TinyGPT(cfg)
        model.load_state_dict(ck["model"])
        meta = {k: ck.get(k) for k in ("step", "tokens_seen", "heldout_loss", "elapsed")}
        meta["max_steps"] = ck["args"]["max_steps"]
        meta["time_budget"] = ck["args"].get("time_budget") or None
        meta["finished"] = bool(ck.get("finished")) or ck["step"] == ck["args"]["max_steps"]
    model.eval()
    tok = ByteLevelBPE.load(args.tokenizer)
    os.makedirs(args.out_dir, exist_ok=True)
    exp_dir = os.path.join(OUT, "export")
    os.makedirs(exp_dir, exist_ok=True)

    # ---- ONNX
    onnx_path = os.path.join(args.out_dir, "model.onnx")
    d1, d2 = tok.encode("Hello world, this is a test"), tok.encode("const x = 1;\nlet y = x + 2;")
    n = min(len(d1), len(d2))
    dummy_ids = torch.tensor([d1[:n], d2[:n]], dtype=torch.int64)
    dummy_mask = torch.ones_like(dummy_ids)
    dummy_pos = torch.arange(dummy_ids.shape[1]).unsqueeze(0).repeat(dummy_ids.shape[0], 1)
    dyn = {"input_ids": {0: "batch_size", 1: "sequence_length"},
           "attention_mask": {0: "batch_size", 1: "sequence_length"},
           "position_ids": {0: "batch_size", 1: "sequence_length"},
           "logits": {0: "batch_size", 1: "sequence_length"}}
    torch.onnx.export(
        OnnxWrapper(model), (dummy_ids, dummy_mask, dummy_pos), onnx_path,
        input_names=["input_ids", "attention_mask", "position_ids"], output_names=["logits"],
        dynamic_axes=dyn, opset_version=17, do_constant_folding=True,
    )
    import onnx
    m = onnx.load(onnx_path)
    onnx.checker.check_model(m)
    ops = sorted({n.op_type for n in m.graph.node})
    print(f"wrote {onnx_path}: {os.path.getsize(onnx_path) / 1e6:.2f} MB, {len(m.graph.node)} nodes, ops={ops}")

    # ---- tokenizer + config
    shutil.copyfile(args.tokenizer, os.path.join(args.out_dir, "tokenizer.json"))
    with open(os.path.join(args.out_dir, "tokenizer_config.json"), "w") as f:
        json.dump({
            "tokenizer_class": "GPT2Tokenizer",
            "bos_token": EOT, "eos_token": EOT, "unk_token": EOT, "pad_token": EOT,
            "add_prefix_space": False, "add_bos_token": False,
            "clean_up_tokenization_spaces": False,
            "model_max_length": cfg.n_positions,
        }, f, indent=2)
    config = {
        "model_type": "gpt2",
        "architectures": ["GPT2LMHeadModel"],
        "vocab_size": cfg.vocab_size,
        "n_positions": cfg.n_positions,
        "n_ctx": cfg.n_positions,
        "n_embd": cfg.n_embd,
        "n_layer": cfg.n_layer,
        "n_head": cfg.n_head,
        "n_inner": cfg.n_inner,
        "activation_function": "gelu_new",
        "layer_norm_epsilon": cfg.layer_norm_epsilon,
        "tie_word_embeddings": cfg.tie_word_embeddings,
        "bos_token_id": EOT_ID,
        "eos_token_id": EOT_ID,
        "pad_token_id": EOT_ID,
        "torch_dtype": "float32",
        "num_parameters": model.num_params(),
        "onnx": {
            "file": "model.onnx",
            "opset": 17,
            "inputs": ["input_ids", "attention_mask", "position_ids"],
            "outputs": ["logits"],
            "use_cache": False,
            "attention_mask": "causal AND key padding (0 = padding key, masked)",
        },
        "training": {
            "steps": meta.get("step"),
            "max_steps": meta.get("max_steps"),
            "time_budget_seconds": meta.get("time_budget"),
            "batch": "16 x 256 tokens",
            "heldout_tokens": 128924,
            "tokens_seen": meta.get("tokens_seen"),
            "train_seconds": round(meta.get("elapsed") or 0),
            "heldout_loss_nats_per_token": meta.get("heldout_loss"),
            "final": bool(meta.get("finished")),
        },
    }
    with open(os.path.join(args.out_dir, "config.json"), "w") as f:
        json.dump(config, f, indent=2)

    # ---- reference outputs for verify-onnx.mjs
    a = tok.encode("The jury said that the election was")
    b = tok.encode("function f(x) {\n\treturn x * 2; // 😀\r\n}")
    T = max(len(a), len(b))
    ids = np.full((2, T), EOT_ID, dtype=np.int64)
    mask = np.zeros((2, T), dtype=np.int64)
    ids[0, : len(a)] = a
    mask[0, : len(a)] = 1
    ids[1, : len(b)] = b
    mask[1, : len(b)] = 1
    pos = np.tile(np.arange(T), (2, 1))
    with torch.no_grad():
        padded = model(torch.from_numpy(ids), torch.from_numpy(mask), torch.from_numpy(pos)).numpy()
        single = [model(torch.tensor([s])).numpy()[0] for s in (a, b)]
    pad_consistency = max(float(np.abs(padded[i, : len(s)] - single[i]).max()) for i, s in enumerate((a, b)))
    print(f"padding check (PyTorch, padded batch vs unpadded): max abs diff {pad_consistency:.2e}")
    with open(os.path.join(exp_dir, "reference.json"), "w") as f:
        json.dump({
            "input_ids": ids.tolist(), "attention_mask": mask.tolist(), "position_ids": pos.tolist(),
            "lengths": [len(a), len(b)],
            "logits": np.round(padded.astype(np.float64), 7).tolist(),
            "single_logits": [np.round(s.astype(np.float64), 7).tolist() for s in single],
        }, f)

    # ---- greedy samples
    t0 = time.time()
    samples = [{"prompt": p, "completion": greedy(model, tok, p)} for p in PROMPTS]
    for s in samples:
        print("---", repr(s["completion"]))
    with open(os.path.join(exp_dir, "samples.json"), "w") as f:
        json.dump(samples, f, indent=1, ensure_ascii=False)
    print(f"samples in {time.time() - t0:.1f}s")

    if args.dump_weights:
        np.savez_compressed(os.path.join(exp_dir, "weights.npz"),
                            **{k: v.numpy() for k, v in model.state_dict().items()})
        print("wrote", os.path.join(exp_dir, "weights.npz"))


if __name__ == "__main__":
    main()
