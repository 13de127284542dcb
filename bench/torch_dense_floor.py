#!/usr/bin/python3
"""PyTorch side of bench/dense-floor.ts: the five dense products of a ReLU SAE step at initialisation,
each as torch.mm into a preallocated output (the layouts autograd uses: transposes are strided views),
and the reference trainer's whole ReLU and Gated steps (../shared/anchors/torch_sae.py, its own
initialisation: half the latents fire, as in the project's). Prints one JSON line: median milliseconds."""
import argparse
import json
import sys
import time

import torch


def median_ms(fn, reps):
    fn()  # warm-up
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    return times[len(times) // 2]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--anchors", required=True, help="folder of torch_sae.py")
    ap.add_argument("--d-in", type=int, required=True)
    ap.add_argument("--d-sae", type=int, required=True)
    ap.add_argument("--batch", type=int, default=4096)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    sys.path.insert(0, args.anchors)
    import torch_sae as ts  # noqa: E402

    torch.set_num_threads(args.threads)
    B, d, n = args.batch, args.d_in, args.d_sae
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(B, d, generator=gen)
    w_enc = torch.randn(d, n, generator=gen) / d ** 0.5
    w_dec = torch.randn(n, d, generator=gen) / d ** 0.5
    f = torch.relu(torch.randn(B, n, generator=gen))
    dx = torch.randn(B, d, generator=gen)
    out_bn = torch.empty(B, n)
    out_bd = torch.empty(B, d)
    out_nd = torch.empty(n, d)
    out_dn = torch.empty(d, n)
    gemm = {
        "encode": median_ms(lambda: torch.mm(x, w_enc, out=out_bn), args.reps),
        "decode": median_ms(lambda: torch.mm(f, w_dec, out=out_bd), args.reps),
        "dCode": median_ms(lambda: torch.mm(dx, w_dec.t(), out=out_bn), args.reps),
        "gradWDec": median_ms(lambda: torch.mm(f.t(), dx, out=out_nd), args.reps),
        "gradWEnc": median_ms(lambda: torch.mm(x.t(), f, out=out_dn), args.reps),
    }
    del f, out_bn
    steps = {}
    for arch in ("relu", "gated"):
        sae = ts.make_sae(arch, d, n, seed=0)
        opt = torch.optim.Adam(sae.parameters(), lr=7e-5, betas=(0.0, 0.999))

        def step():
            out = sae.losses(x, 1e-3)
            opt.zero_grad(set_to_none=True)
            out["loss"].backward()
            opt.step()
            sae.post_step()

        steps[arch] = median_ms(step, args.reps)
    print(json.dumps({"gemm_ms": gemm, "relu_step_ms": steps["relu"], "gated_step_ms": steps["gated"]}), flush=True)


if __name__ == "__main__":
    main()
