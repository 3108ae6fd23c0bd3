"""Stage-1 training: float mean-scale hyperprior with fixed activation ranges.

Runs under a wall-clock budget and checkpoints every few minutes. It resumes
from the local full state (weights, their moving average, Adam) exactly, or
from the committed checkpoint (the moving average in half precision) with the
same step, learning-rate schedule and data and noise RNG states; there Adam's
moments restart with a short warm-up.

    /usr/bin/python3 -m fxic.train --minutes 120 --threads 2     (from models/)
"""
from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch

from .data import CropCache
from .heap import keep_heap
from .loop import Meter, RunLog, StopFlag, apply_sets, learning_rate, pick_resume
from .net import Config, HyperpriorModel, rate_bits
from . import revive

MODELS_DIR = Path(__file__).resolve().parents[1]
COMMITTED = MODELS_DIR / "checkpoint" / "hyperprior.pt"
LOG = MODELS_DIR / "checkpoint" / "train_log.csv"
RUN_DIR = MODELS_DIR / "runs"
FULL_STATE = RUN_DIR / "full_state.pt"

DEFAULT_SCHEDULE = {
    "lr": 2e-4,            # Adam learning rate after warm-up
    "warmup": 300,         # linear warm-up steps (also after an optimizer restart)
    "decay_start": 10**9,  # step at which the final decay begins
    "decay_steps": 20000,  # cosine decay length down to lr_final
    "lr_final": 1e-5,
    "batch": 8,
    "crop": 128,
    "grad_clip": 1.0,
    "ema": 0.999,          # decay of the exponential moving average of the weights
    "pixel_weighted": 0,   # 1: draw images in proportion to their pixels (data.py)
    "min_scale": 1.0,      # < 1: random antialiased downscale of crops (data.py)
}


def ema_update(ema: dict, model: torch.nn.Module, decay: float) -> None:
    """ema ← decay·ema + (1 − decay)·weights (floating-point entries)."""
    with torch.no_grad():
        for k, v in model.state_dict().items():
            if v.is_floating_point():
                ema[k].mul_(decay).add_(v, alpha=1.0 - decay)
            else:
                ema[k].copy_(v)


def export_weights(ck: dict) -> dict:
    """The weights a stage-1 checkpoint is exported and evaluated with: the
    moving average when the checkpoint has one (it smooths the step-to-step
    noise of a constant learning rate), else the training weights."""
    for key in ("ema_fp16", "ema", "weights_fp16", "model"):
        if ck.get(key) is not None:
            return {k: v.float() if v.is_floating_point() else v for k, v in ck[key].items()}
    raise ValueError("checkpoint has no weights")


def rng_state(np_rng: np.random.Generator) -> dict:
    return {"numpy": np_rng.bit_generator.state, "torch": torch.get_rng_state()}


def _half(state: dict) -> dict:
    return {k: v.detach().half() if v.is_floating_point() else v for k, v in state.items()}


def save_committed(path: Path, ema, step, sched, rngs, cfg):
    """The committed, resumable minimum: the moving average of the weights in
    half precision, step, schedule and RNG states. The average is what gets
    exported, and a resumed run continues from it (Adam's moments restart)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    torch.save({"format": "fxic-train-checkpoint-1", "step": step,
                "config": cfg.to_dict(), "schedule": sched, "rng": rngs,
                "ema_fp16": _half(ema)}, tmp)
    os.replace(tmp, path)


def save_full(path: Path, model, ema, opt, step, sched, rngs, cfg, restart_step):
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    torch.save({"step": step, "config": cfg.to_dict(), "schedule": sched,
                "rng": rngs, "model": model.state_dict(), "ema": ema,
                "optimizer": opt.state_dict(), "restart_step": restart_step}, tmp)
    os.replace(tmp, path)


def evaluate_val(model, val: torch.Tensor, levels: list[int]) -> list[tuple]:
    """(q, bpp, psnr) on fixed held-out crops with real rounding."""
    model.eval()
    out = []
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        for q in levels:
            qs = torch.full((val.shape[0],), float(q))
            x_hat, p_y, p_z = model(val, qs)
            bits = (rate_bits(p_y) + rate_bits(p_z)).sum().item()
            bpp = bits / (val.shape[0] * val.shape[2] * val.shape[3])
            mse = ((x_hat.clamp(0, 1) * 255).round() / 255 - val).pow(2).mean().item()
            out.append((q, bpp, 10 * math.log10(1 / max(mse, 1e-12))))
    model.train()
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, required=True, help="wall-clock budget")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--ckpt-minutes", type=float, default=5.0)
    ap.add_argument("--log-every", type=int, default=50)
    ap.add_argument("--max-steps", type=int, default=0,
                    help="stop after this many steps of this run (0: no limit)")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="change a schedule entry (saved), e.g. --set crop=256")
    ap.add_argument("--config", action="append", default=[], metavar="KEY=VALUE",
                    help="network setting of a new run, e.g. --config N=192 (a resumed "
                         "run keeps its own)")
    ap.add_argument("--checkpoint", type=Path, default=COMMITTED,
                    help="committed checkpoint (moving average, fp16)")
    ap.add_argument("--log", type=Path, default=LOG)
    ap.add_argument("--run-dir", type=Path, default=RUN_DIR,
                    help="where the full state (weights, average, Adam) goes")
    ap.add_argument("--fresh", action="store_true",
                    help="start from scratch even if a checkpoint exists")
    ap.add_argument("--revive", action="store_true",
                    help="before training, give dead ReLU channels of h_a/h_s a live "
                         "channel's incoming weights (fxic/revive.py)")
    ap.add_argument("--rewarm", action="store_true",
                    help="restart the linear warm-up at the resumed step, for a warm "
                         "restart to a higher --set lr from the full state (the "
                         "committed checkpoint always warms up)")
    args = ap.parse_args(argv)
    keep_heap()
    torch.set_num_threads(args.threads)
    t_start = time.time()
    deadline = t_start + args.minutes * 60
    full_path = args.run_dir / FULL_STATE.name

    cfg = Config()
    sched = dict(DEFAULT_SCHEDULE)
    step, restart_step = 0, 0
    np_rng = np.random.Generator(np.random.PCG64(20261122))
    torch.manual_seed(20261122)
    model_state, opt_state, ema_state = None, None, None
    src, ck = (None, None) if args.fresh else pick_resume(full_path, args.checkpoint)
    if src == "full":
        model_state, opt_state = ck["model"], ck["optimizer"]
        ema_state = ck.get("ema")
        restart_step = ck.get("restart_step", 0)
    elif src == "committed":
        # Continue from the moving average; Adam restarts with a warm-up.
        model_state = export_weights(ck)
    if src:
        step = ck["step"]
        cfg = Config.from_dict(ck["config"])
        sched.update(ck["schedule"])
        np_rng.bit_generator.state = ck["rng"]["numpy"]
        if src == "committed" or args.rewarm:
            restart_step = step
        if args.config:
            ap.error("--config applies to a new run; this one resumes "
                     f"from {src} state at step {step} (add --fresh to start anew)")
    else:
        known = Config().to_dict()
        for kv in args.config:
            k, sep, v = kv.partition("=")
            if not sep or k not in known or isinstance(known[k], list):
                ap.error(f"--config takes KEY=VALUE with KEY one of "
                         f"{', '.join(k for k in known if not isinstance(known[k], list))}")
            try:
                setattr(cfg, k, type(known[k])(float(v)))
            except ValueError:
                ap.error(f"--config {k}: {v!r} is not a number")
    apply_sets(ap, sched, DEFAULT_SCHEDULE, args.set)

    model = HyperpriorModel(cfg)
    if model_state is not None:
        model.load_state_dict(model_state)
    opt = torch.optim.Adam(model.parameters(), lr=sched["lr"])
    if opt_state is not None:
        opt.load_state_dict(opt_state)
    # The moving average starts from the weights when the state has none.
    ema = {k: v.detach().clone() for k, v in (ema_state or model.state_dict()).items()}
    ema_model = HyperpriorModel(cfg)
    if src:
        # Restored after the models are built: their initialisation draws
        # from the same generator.
        torch.set_rng_state(ck["rng"]["torch"])
    print(f"resume: {src or 'fresh'} at step {step}; schedule {sched}", flush=True)

    data = CropCache()
    # Fixed validation crops drawn from a separate RNG (also training images:
    # this curve tracks progress, the Kodak evaluation is the real measure).
    val = torch.from_numpy(data.validation()).float() / 255
    lambdas = torch.tensor(cfg.lambdas)
    L = len(cfg.lambdas)
    if args.revive:
        ema_model.load_state_dict(ema)
        dead = revive.dead_channels(model, ema_model, val, list(range(L)))
        n = revive.revive(model, dead, ema, opt, seed=step)
        print(f"revived {n} dead ReLU channels at step {step}: "
              + ", ".join(f"{k} {len(v)}" for k, v in dead.items()), flush=True)

    stop = StopFlag()
    log = RunLog(args.log, t_start)
    meter = Meter(log, args.log_every)

    def save() -> None:
        rngs = rng_state(np_rng)
        save_full(full_path, model, ema, opt, step, sched, rngs, cfg, restart_step)
        save_committed(args.checkpoint, ema, step, sched, rngs, cfg)

    last_ckpt = time.time()
    steps_run = 0
    while not stop and time.time() < deadline and (
            not args.max_steps or steps_run < args.max_steps):
        lr = learning_rate(step, sched, restart_step)
        for g in opt.param_groups:
            g["lr"] = lr
        b, crop = int(sched["batch"]), int(sched["crop"])
        x = torch.from_numpy(data.batch(np_rng, b, crop, bool(sched["pixel_weighted"]),
                                        sched["min_scale"])).float() / 255
        q = torch.from_numpy(np_rng.integers(0, L, size=b)).float()
        lam = lambdas[q.long()]
        with torch.autocast("cpu", dtype=torch.bfloat16):
            x_hat, p_y, p_z = model(x, q)
        bpp = (rate_bits(p_y) + rate_bits(p_z)) / (crop * crop)
        mse = (x_hat - x).pow(2).flatten(1).mean(1)
        loss = (bpp + lam * 255 ** 2 * mse).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), sched["grad_clip"])
        opt.step()
        ema_update(ema, model, sched["ema"])
        step += 1
        steps_run += 1
        meter.add(step, loss.item(), bpp.mean().item(), mse.mean().item(), lr, crop, b)
        if time.time() - last_ckpt > args.ckpt_minutes * 60:
            ema_model.load_state_dict(ema)
            for kind, m in (("val", model), ("val-ema", ema_model)):
                log.val(kind, step, evaluate_val(m, val, [0, L // 2, L - 1]), 256, 8)
            save()
            last_ckpt = time.time()
            print(f"checkpoint at step {step}", flush=True)
    save()
    print(f"stopped at step {step} after {(time.time() - t_start) / 60:.1f} min; "
          f"saved {args.checkpoint}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
