#!/usr/bin/python3
"""Times one stage-1 training step (models/fxic/train.py's loss, backward and
Adam update) of fxic's network, as a ratio of variants within one run.

Variants:
  default   models/fxic/net.py as it is
  clamp     every Clip a plain clamp (what Clip did before it passed tensors
            already inside its range unchanged)
  fp32      the forward pass in float32, without train.py's bfloat16 autocast
            (which of the two is faster depends on the CPU's bf16 support)
  nhwc      weights and batches in channels-last memory format

The variants alternate step by step on the same batches, so drifts in machine
load fall on both alike; the median time per step of each and the ratio to
the first variant are printed. Weights come from models/checkpoint/hyperprior.pt
(the moving average) when it is readable, since how often a clip binds depends
on the weights; else from a random initialisation. Training data must be
present (see models/fxic/data.py). A training run on the same cores skews the
absolute times; the ratio holds up better, but measure on an idle machine.
The heap settings of fxic.heap apply as in training (FXIC_MALLOC=default
turns them off; bench/train_malloc.py compares the two).

    /usr/bin/python3 bench/train_step.py --threads 2 --steps 10
"""
from __future__ import annotations

import argparse
import contextlib
import resource
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "models"))

VARIANTS = ("default", "clamp", "fp32", "nhwc")


@contextlib.contextmanager
def variant(name: str):
    from fxic import net
    saved = net.Clip.forward
    if name == "clamp":
        net.Clip.forward = lambda self, x: x.clamp(self.lo, self.hi)
    try:
        yield
    finally:
        net.Clip.forward = saved


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=10, help="timed steps per variant")
    ap.add_argument("--warmup", type=int, default=2, help="untimed steps per variant")
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--crop", type=int, default=256)
    ap.add_argument("--variants", default=",".join(VARIANTS),
                    help=f"comma-separated, the first is the baseline ({', '.join(VARIANTS)})")
    args = ap.parse_args(argv)
    names = args.variants.split(",")
    for n in names:
        if n not in VARIANTS:
            ap.error(f"unknown variant {n!r}; known: {', '.join(VARIANTS)}")

    import numpy as np
    import torch
    from fxic.data import CropCache
    from fxic.net import Config, HyperpriorModel, rate_bits
    from fxic.heap import keep_heap
    from fxic.train import COMMITTED, export_weights

    heap = "kept (fxic.heap)" if keep_heap() else "glibc defaults"
    torch.set_num_threads(args.threads)
    try:
        ck = torch.load(COMMITTED, map_location="cpu")
        cfg, weights, source = Config.from_dict(ck["config"]), export_weights(ck), \
            f"checkpoint step {ck['step']}"
    except Exception as e:  # noqa: BLE001 - unreadable or absent: random weights
        cfg, weights, source = Config(), None, f"random init ({type(e).__name__})"
    data = CropCache()
    lambdas = torch.tensor(cfg.lambdas)
    models = {}
    for n in names:
        m = HyperpriorModel(cfg)
        if weights is not None:
            m.load_state_dict(weights)
        m.train()
        if n == "nhwc":
            m.to(memory_format=torch.channels_last)
        models[n] = (m, torch.optim.Adam(m.parameters(), lr=1e-6))

    def step(name: str, seed: int) -> float:
        m, opt = models[name]
        rng = np.random.default_rng(seed)
        x = torch.from_numpy(data.batch(rng, args.batch, args.crop)).float() / 255
        if name == "nhwc":
            x = x.contiguous(memory_format=torch.channels_last)
        q = torch.from_numpy(rng.integers(0, len(cfg.lambdas), size=args.batch)).float()
        t0 = time.perf_counter()
        with variant(name):
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=name != "fp32"):
                x_hat, p_y, p_z = m(x, q)
            bpp = (rate_bits(p_y) + rate_bits(p_z)) / (args.crop * args.crop)
            mse = (x_hat - x).pow(2).flatten(1).mean(1)
            loss = (bpp + lambdas[q.long()] * 255 ** 2 * mse).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(m.parameters(), 1.0)
            opt.step()
        return time.perf_counter() - t0

    times = {n: [] for n in names}
    for i in range(args.warmup + args.steps):
        for n in names:
            t = step(n, i)
            if i >= args.warmup:
                times[n].append(t)
        print(f"train_step: step {i + 1}/{args.warmup + args.steps}", file=sys.stderr, flush=True)
    base = statistics.median(times[names[0]])
    print(f"weights: {source}; {args.batch}x{args.crop}^2 crops, {args.threads} thread(s), "
          f"median of {args.steps} steps; heap: {heap}; "
          f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    for n in names:
        med = statistics.median(times[n])
        print(f"{n:8s} {med:7.3f} s/step  ratio {med / base:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
