"""Stage-1 training: float mean-scale hyperprior with fixed activation ranges.

Runs under a wall-clock budget, checkpoints every few minutes, and resumes
exactly (step, learning-rate schedule, data and noise RNG) from either the local
full state (weights + Adam) or the committed half-precision checkpoint.

    /usr/bin/python3 -m fxic.train --minutes 120 --threads 2     (from models/)
"""
from __future__ import annotations

import argparse
import csv
import math
import os
import signal
import sys
import time
from pathlib import Path

import numpy as np
import torch

from .data import CropCache
from .net import Config, HyperpriorModel, rate_bits

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


def learning_rate(step: int, sched: dict, restart_step: int) -> float:
    warm = min(1.0, (step - restart_step + 1) / max(1, sched["warmup"]))
    lr = sched["lr"]
    if step >= sched["decay_start"]:
        t = min(1.0, (step - sched["decay_start"]) / sched["decay_steps"])
        lr = sched["lr_final"] + 0.5 * (lr - sched["lr_final"]) * (1 + math.cos(math.pi * t))
    return lr * warm


def rng_state(np_rng: np.random.Generator) -> dict:
    return {"numpy": np_rng.bit_generator.state, "torch": torch.get_rng_state()}


def _half(state: dict) -> dict:
    return {k: v.detach().half() if v.is_floating_point() else v for k, v in state.items()}


def save_committed(model, ema, step, sched, rngs, cfg):
    """Half-precision weights and their moving average + step + schedule +
    RNG: the resumable minimum."""
    COMMITTED.parent.mkdir(parents=True, exist_ok=True)
    tmp = COMMITTED.with_suffix(".tmp")
    torch.save({"format": "fxic-train-checkpoint-1", "step": step,
                "config": cfg.to_dict(), "schedule": sched, "rng": rngs,
                "weights_fp16": _half(model.state_dict()), "ema_fp16": _half(ema)}, tmp)
    os.replace(tmp, COMMITTED)


def save_full(model, ema, opt, step, sched, rngs, cfg, restart_step):
    RUN_DIR.mkdir(parents=True, exist_ok=True)
    tmp = FULL_STATE.with_suffix(".tmp")
    torch.save({"step": step, "config": cfg.to_dict(), "schedule": sched,
                "rng": rngs, "model": model.state_dict(), "ema": ema,
                "optimizer": opt.state_dict(), "restart_step": restart_step}, tmp)
    os.replace(tmp, FULL_STATE)


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
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="change a schedule entry (logged), e.g. --set crop=256")
    ap.add_argument("--fresh", action="store_true",
                    help="start from scratch even if a checkpoint exists")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    t_start = time.time()
    deadline = t_start + args.minutes * 60

    cfg = Config()
    sched = dict(DEFAULT_SCHEDULE)
    step, restart_step = 0, 0
    np_rng = np.random.Generator(np.random.PCG64(20261122))
    torch.manual_seed(20261122)
    model_state, opt_state, ema_state = None, None, None
    src = None
    if not args.fresh:
        full = torch.load(FULL_STATE) if FULL_STATE.exists() else None
        comm = torch.load(COMMITTED) if COMMITTED.exists() else None
        if full is not None and (comm is None or full["step"] >= comm["step"]):
            src, ck = "full", full
            model_state, opt_state = full["model"], full["optimizer"]
            ema_state = full.get("ema")
            restart_step = full.get("restart_step", 0)
        elif comm is not None:
            src, ck = "committed", comm
            model_state = {k: v.float() if v.is_floating_point() else v
                           for k, v in comm["weights_fp16"].items()}
            if comm.get("ema_fp16") is not None:
                ema_state = {k: v.float() if v.is_floating_point() else v
                             for k, v in comm["ema_fp16"].items()}
        if src:
            step = ck["step"]
            cfg = Config.from_dict(ck["config"])
            sched.update(ck["schedule"])
            np_rng.bit_generator.state = ck["rng"]["numpy"]
            torch.set_rng_state(ck["rng"]["torch"])
            if src == "committed":
                restart_step = step  # Adam restarts: warm up again
    for kv in args.set:
        k, v = kv.split("=", 1)
        if k not in sched:
            ap.error(f"unknown schedule key {k!r}; known: {', '.join(sched)}")
        sched[k] = type(DEFAULT_SCHEDULE[k])(float(v)) if not isinstance(
            DEFAULT_SCHEDULE[k], float) else float(v)

    model = HyperpriorModel(cfg)
    if model_state is not None:
        model.load_state_dict(model_state)
    opt = torch.optim.Adam(model.parameters(), lr=sched["lr"])
    if opt_state is not None:
        opt.load_state_dict(opt_state)
    # The moving average starts from the weights when the checkpoint has none.
    ema = {k: v.detach().clone() for k, v in (ema_state or model.state_dict()).items()}
    ema_model = HyperpriorModel(cfg)
    print(f"resume: {src or 'fresh'} at step {step}; schedule {sched}", flush=True)

    data = CropCache()
    # Fixed validation crops drawn from a separate RNG (also training images:
    # this curve tracks progress, the Kodak evaluation is the real measure).
    val = torch.from_numpy(data.batch(np.random.default_rng(7), 8, 256)).float() / 255
    lambdas = torch.tensor(cfg.lambdas)
    L = len(cfg.lambdas)

    stop = {"flag": False}

    def on_signal(signum, frame):
        stop["flag"] = True
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    LOG.parent.mkdir(parents=True, exist_ok=True)
    new_log = not LOG.exists()
    logf = open(LOG, "a", newline="")
    log = csv.writer(logf)
    if new_log:
        log.writerow(["step", "wall_s", "kind", "lr", "loss", "bpp", "psnr",
                      "q", "crop", "batch"])
    acc = {"loss": 0.0, "bpp": 0.0, "mse": 0.0, "n": 0}
    last_ckpt = time.time()
    t_step = time.time()
    while not stop["flag"] and time.time() < deadline:
        lr = learning_rate(step, sched, restart_step)
        for g in opt.param_groups:
            g["lr"] = lr
        b, crop = int(sched["batch"]), int(sched["crop"])
        x = torch.from_numpy(data.batch(np_rng, b, crop)).float() / 255
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
        acc["loss"] += loss.item()
        acc["bpp"] += bpp.mean().item()
        acc["mse"] += mse.mean().item()
        acc["n"] += 1
        if step % args.log_every == 0:
            n = acc["n"]
            psnr = 10 * math.log10(1 / max(acc["mse"] / n, 1e-12))
            dt = (time.time() - t_step) / n
            log.writerow([step, round(time.time() - t_start, 1), "train", f"{lr:.3g}",
                          f"{acc['loss'] / n:.4f}", f"{acc['bpp'] / n:.4f}",
                          f"{psnr:.3f}", "mix", crop, b])
            logf.flush()
            print(f"step {step} lr {lr:.2e} loss {acc['loss'] / n:.4f} "
                  f"bpp {acc['bpp'] / n:.4f} psnr {psnr:.2f} {dt:.2f}s/step", flush=True)
            acc = {"loss": 0.0, "bpp": 0.0, "mse": 0.0, "n": 0}
            t_step = time.time()
        if time.time() - last_ckpt > args.ckpt_minutes * 60:
            ema_model.load_state_dict(ema)
            for kind, m in (("val", model), ("val-ema", ema_model)):
                for qv, vb, vp in evaluate_val(m, val, [0, L // 2, L - 1]):
                    log.writerow([step, round(time.time() - t_start, 1), kind, "", "",
                                  f"{vb:.4f}", f"{vp:.3f}", qv, 256, 8])
            logf.flush()
            rngs = rng_state(np_rng)
            save_full(model, ema, opt, step, sched, rngs, cfg, restart_step)
            save_committed(model, ema, step, sched, rngs, cfg)
            last_ckpt = time.time()
            print(f"checkpoint at step {step}", flush=True)
    rngs = rng_state(np_rng)
    save_full(model, ema, opt, step, sched, rngs, cfg, restart_step)
    save_committed(model, ema, step, sched, rngs, cfg)
    logf.close()
    print(f"stopped at step {step} after {(time.time() - t_start) / 60:.1f} min; "
          f"saved {COMMITTED}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
