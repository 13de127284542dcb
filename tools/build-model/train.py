"""Train tiny-lm on out/data/train.u16 with periodic checkpoints, a log and resume.

    /usr/bin/python3 tools/build-model/train.py --max-steps 3600        # (re)starts or resumes
    /usr/bin/python3 tools/build-model/train.py --bench 20              # measure tokens/s only

Checkpoints: out/ckpt/latest.pt (every --ckpt-every steps and at the end),
             out/ckpt/step-<n>.pt for the first checkpoint (the early export).
Log:         out/train.log (appended; one line per --log-every steps + evals)
Batches are a pure function of (seed, step), so a resumed run sees exactly the
same data as an uninterrupted one.
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import Config, TinyGPT  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "out")


def load_tokens(name):
    return np.fromfile(os.path.join(OUT, "data", f"{name}.u16"), dtype=np.uint16)


def get_batch(data, step, batch, ctx, seed):
    rng = np.random.default_rng([seed, step])
    starts = rng.integers(0, len(data) - ctx - 1, size=batch)
    x = np.stack([data[s : s + ctx] for s in starts]).astype(np.int64)
    y = np.stack([data[s + 1 : s + ctx + 1] for s in starts]).astype(np.int64)
    return torch.from_numpy(x), torch.from_numpy(y)


@torch.no_grad()
def evaluate(model, data, ctx, max_windows=None, batch=32):
    """Mean next-token cross-entropy (nats/token) over non-overlapping windows."""
    model.eval()
    n = (len(data) - 1) // ctx
    if max_windows:
        n = min(n, max_windows)
    tot, cnt = 0.0, 0
    for i in range(0, n, batch):
        idx = range(i, min(n, i + batch))
        x = torch.from_numpy(np.stack([data[j * ctx : j * ctx + ctx] for j in idx]).astype(np.int64))
        y = torch.from_numpy(np.stack([data[j * ctx + 1 : j * ctx + ctx + 1] for j in idx]).astype(np.int64))
        logits = model(x)
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.size(-1)), y.reshape(-1), reduction="sum")
        tot += loss.item()
        cnt += y.numel()
    model.train()
    return tot / cnt


def progress(step, elapsed, args):
    """Fraction of the run done: by steps, or by training time if --time-budget is set
    (whichever is further along). The time budget makes the run finish on time on a
    shared, busy machine; the cosine schedule then follows wall-clock progress."""
    p = step / args.max_steps
    if args.time_budget:
        p = max(p, elapsed / args.time_budget)
    return min(1.0, p)


def lr_at(step, prog, lr, warmup, warmup_prog, min_ratio=0.1):
    if step < warmup:
        return lr * (step + 1) / warmup
    p = min(1.0, max(0.0, (prog - warmup_prog) / max(1e-9, 1.0 - warmup_prog)))
    return lr * (min_ratio + (1 - min_ratio) * 0.5 * (1 + math.cos(math.pi * p)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--max-steps", type=int, default=3600)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--ctx", type=int, default=256)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--warmup", type=int, default=200)
    ap.add_argument("--weight-decay", type=float, default=0.1)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--ckpt-every", type=int, default=200)
    ap.add_argument("--eval-every", type=int, default=400)
    ap.add_argument("--log-every", type=int, default=20)
    ap.add_argument("--bench", type=int, default=0, help="run N steps, print tokens/s, save nothing")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--time-budget", type=float, default=0, help="seconds of training time; 0 = steps only")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    cfg = Config(n_positions=args.ctx)
    model = TinyGPT(cfg)
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": args.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
        lr=args.lr,
        betas=(0.9, 0.95),
    )
    train = load_tokens("train")
    heldout = load_tokens("heldout")

    if args.bench:
        t0 = time.time()
        for step in range(args.bench):
            x, y = get_batch(train, step, args.batch, args.ctx, args.seed)
            loss = torch.nn.functional.cross_entropy(model(x).reshape(-1, cfg.vocab_size), y.reshape(-1))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if step == 1:
                t1 = time.time()
        dt = time.time() - t1
        tps = (args.bench - 2) * args.batch * args.ctx / dt
        print(f"params={model.num_params()} loss={loss.item():.3f} {tps:.0f} tokens/s ({dt / (args.bench - 2):.3f} s/step)")
        return

    ckdir = os.path.join(OUT, "ckpt")
    os.makedirs(ckdir, exist_ok=True)
    latest = os.path.join(ckdir, "latest.pt")
    logf = open(os.path.join(OUT, "train.log"), "a")

    def log(msg):
        line = f"{time.strftime('%H:%M:%S')} {msg}"
        print(line, flush=True)
        logf.write(line + "\n")
        logf.flush()

    step, elapsed = 0, 0.0
    ck = {}
    warmup_prog = 0.0
    done = False
    if os.path.exists(latest):
        ck = torch.load(latest)
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["opt"])
        step, elapsed = ck["step"], ck["elapsed"]
        log(f"resumed from step {step} ({elapsed:.0f}s trained so far)")
    else:
        log(f"start: params={model.num_params()} cfg={json.dumps(cfg.to_dict())} args={json.dumps(vars(args))}")
        log(f"train tokens={len(train)} heldout tokens={len(heldout)}")

    def save(path, heldout_loss=None):
        torch.save(
            {
                "model": model.state_dict(),
                "opt": opt.state_dict(),
                "step": step,
                "elapsed": elapsed,
                "config": cfg.to_dict(),
                "args": vars(args),
                "tokens_seen": step * args.batch * args.ctx,
                "heldout_loss": heldout_loss,
                "warmup_prog": warmup_prog,
                "finished": done,
            },
            path + ".tmp",
        )
        os.replace(path + ".tmp", path)

    model.train()
    t_last = time.time()
    loss_acc, n_acc = 0.0, 0
    first_ckpt_done = os.path.exists(os.path.join(ckdir, "first.pt"))
    warmup_prog = ck.get("warmup_prog") or args.warmup / args.max_steps
    if ck.get("finished"):
        log("checkpoint is already finished; nothing to do")
        return
    while not done:
        prog = progress(step, elapsed, args)
        if step == args.warmup:
            warmup_prog = prog  # progress at which cosine decay starts
        lr = lr_at(step, prog, args.lr, args.warmup, warmup_prog)
        for g in opt.param_groups:
            g["lr"] = lr
        x, y = get_batch(train, step, args.batch, args.ctx, args.seed)
        loss = torch.nn.functional.cross_entropy(model(x).reshape(-1, cfg.vocab_size), y.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        now = time.time()
        elapsed += now - t_last
        t_last = now
        loss_acc += loss.item()
        n_acc += 1
        done = step >= args.max_steps or progress(step, elapsed, args) >= 1.0
        if step % args.log_every == 0:
            tok = step * args.batch * args.ctx
            log(f"step {step}/{args.max_steps} progress {progress(step, elapsed, args):.3f} loss {loss_acc / n_acc:.4f} lr {lr:.2e} tokens {tok} elapsed {elapsed:.0f}s {tok / max(elapsed, 1e-9):.0f} tok/s")
            loss_acc, n_acc = 0.0, 0
        hl = None
        if step % args.eval_every == 0 or done:
            full = done
            hl = evaluate(model, heldout, args.ctx, None if full else 128)
            log(f"eval step {step} heldout_loss {hl:.4f} nats/token ({'full' if full else '128 windows'})")
            t_last = time.time()  # don't count eval time as training time
        if step % args.ckpt_every == 0 or done:
            save(latest, hl)
            if not first_ckpt_done:
                save(os.path.join(ckdir, "first.pt"), hl)
                first_ckpt_done = True
                log(f"first checkpoint written at step {step}")
            t_last = time.time()
    log(f"done: {step} steps, {step * args.batch * args.ctx} tokens, {elapsed:.0f}s training time")


if __name__ == "__main__":
    main()
