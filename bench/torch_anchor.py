#!/usr/bin/python3
"""PyTorch side of bench/train.ts: times the reference trainer's step (../shared/anchors/torch_sae.py)
on the activations bench/train.ts wrote (.npy), so both sides see the same data, batch and threads.
torch_sae.py has no BatchTopK; it is added here as TopK with the batch-wide selection (Bussmann et al.
2024), everything else inherited. With --init, the SAE starts from the project's initial weights (one .npy
per parameter, the project's names; Gated's W_enc is W_gate here) and the inputs are divided by the
project's input scale, so both sides train the same model from the same state. Prints one JSON line per
architecture (step time and the last timed step's L0)."""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--anchors", required=True, help="folder of torch_sae.py")
    ap.add_argument("--acts", required=True)
    ap.add_argument("--d-sae", type=int, required=True)
    ap.add_argument("--batch", type=int, default=4096)
    ap.add_argument("--archs", nargs="+", required=True)
    ap.add_argument("--k", type=int, default=32)
    ap.add_argument("--iters", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--init", help="folder of the project's initial parameters (.npy) and input_scale.json")
    args = ap.parse_args()
    sys.path.insert(0, args.anchors)
    import torch_sae as ts  # noqa: E402

    class BatchTopKSAE(ts.TopKSAE):
        arch = "batchtopk"

        def losses(self, x, lam):
            pre = self.pre_acts(x)
            n = self.k * x.shape[0]
            vals, idx = pre.flatten().topk(n, sorted=False)
            f = torch.zeros_like(pre).flatten().scatter(0, idx, vals).view_as(pre)
            x_hat = self.decode(f)
            mse = (x - x_hat).pow(2).sum(-1).mean()
            return {"loss": mse, "mse": mse, "f": f, "x_hat": x_hat}

    torch.set_num_threads(args.threads)
    X = torch.from_numpy(np.load(args.acts).astype(np.float32))
    d_in = X.shape[1]
    nb = X.shape[0] // args.batch
    if args.init:
        with open(os.path.join(args.init, "input_scale.json")) as f:
            X = X / float(json.load(f))
    for arch in args.archs:
        gen = torch.Generator().manual_seed(0)
        if arch == "batchtopk":
            sae = BatchTopKSAE(d_in, args.d_sae, gen, k=args.k)
        else:
            sae = ts.make_sae(arch, d_in, args.d_sae, seed=0, k=args.k)
        if args.init:
            load_init(sae, args.init)
        opt = torch.optim.Adam(sae.parameters(), lr=7e-5, betas=(0.0, 0.999))
        times = []
        l0 = float("nan")
        for i in range(args.warmup + args.iters):
            x = X[(i % nb) * args.batch:(i % nb + 1) * args.batch]
            t = time.perf_counter()
            out = sae.losses(x, 1e-3)
            opt.zero_grad(set_to_none=True)
            out["loss"].backward()
            opt.step()
            sae.post_step()
            with torch.no_grad():
                l0 = (out["f"] > 0).sum(-1).float().mean().item()
            times.append(time.perf_counter() - t)
        times = sorted(times[args.warmup:])
        med = times[len(times) // 2]
        print(json.dumps({"arch": arch, "step_s": med, "acts_per_s": args.batch / med, "l0": l0}), flush=True)


def load_init(sae, folder):
    """Copies the project's parameters into the anchor's (same layouts; W_gate is the project's W_enc)."""
    with torch.no_grad():
        for name, p in sae.named_parameters():
            src = "W_enc" if name == "W_gate" else name
            w = torch.from_numpy(np.load(os.path.join(folder, src + ".npy")).astype(np.float32))
            if tuple(w.shape) != tuple(p.shape):
                raise ValueError(f"{src}: shape {tuple(w.shape)}, anchor expects {tuple(p.shape)}")
            p.copy_(w)


if __name__ == "__main__":
    main()
