"""What both training stages (fxic.train, fxic.qat) share: the learning-rate
schedule, `--set` overrides, where a run resumes from, the stop signal, and
the CSV log with its running averages."""
from __future__ import annotations

import argparse
import csv
import math
import signal
import time
from pathlib import Path

import torch

LOG_HEADER = ["step", "wall_s", "kind", "lr", "loss", "bpp", "psnr", "q", "crop", "batch"]


def learning_rate(step: int, sched: dict, restart_step: int, base: float | None = None) -> float:
    """Linear warm-up from `restart_step`, then `base` (default sched["lr"]),
    then a cosine decay from `decay_start` over `decay_steps` to lr_final
    (scaled by base / sched["lr"] for a group with its own base rate)."""
    base = sched["lr"] if base is None else base
    warm = min(1.0, (step - restart_step + 1) / max(1, sched["warmup"]))
    lr = base
    if step >= sched["decay_start"]:
        t = min(1.0, (step - sched["decay_start"]) / sched["decay_steps"])
        final = sched["lr_final"] * base / sched["lr"]
        lr = final + 0.5 * (lr - final) * (1 + math.cos(math.pi * t))
    return lr * warm


def apply_sets(ap: argparse.ArgumentParser, sched: dict, defaults: dict,
               sets: list[str]) -> None:
    """Applies `--set key=value` entries; integer entries stay integers."""
    for kv in sets:
        k, sep, v = kv.partition("=")
        if not sep:
            ap.error(f"--set takes KEY=VALUE, not {kv!r}")
        if k not in defaults:
            ap.error(f"unknown schedule key {k!r}; known: {', '.join(defaults)}")
        try:
            sched[k] = float(v) if isinstance(defaults[k], float) else int(float(v))
        except ValueError:
            ap.error(f"--set {k}: {v!r} is not a number")


def pick_resume(full_path: Path, committed_path: Path) -> tuple[str | None, dict | None]:
    """("full" | "committed" | None, checkpoint): the local full state unless the
    committed checkpoint is further along."""
    full = torch.load(full_path) if full_path.exists() else None
    comm = torch.load(committed_path) if committed_path.exists() else None
    if full is not None and (comm is None or full["step"] >= comm["step"]):
        return "full", full
    if comm is not None:
        return "committed", comm
    return None, None


class StopFlag:
    """True once SIGTERM or SIGINT arrived; the loop then saves and returns."""

    def __init__(self):
        self.stopped = False
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._on_signal)

    def _on_signal(self, signum, frame):
        self.stopped = True

    def __bool__(self) -> bool:
        return self.stopped


class RunLog:
    """The training CSV. Every write opens the file to append and closes it,
    so a file replaced under a running job (say by a checkout) gets the next
    rows rather than an unlinked copy."""

    def __init__(self, path: Path, t_start: float):
        self.path = Path(path)
        self.t_start = t_start
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if not self.path.exists() or self.path.stat().st_size == 0:
            self.write_rows([LOG_HEADER])

    def write_rows(self, rows) -> None:
        with open(self.path, "a", newline="") as f:
            csv.writer(f).writerows(rows)

    def wall(self) -> float:
        return round(time.time() - self.t_start, 1)

    def val(self, kind: str, step: int, results, crop: int, count: int) -> None:
        """One row per (q, bpp, psnr) of a validation pass."""
        self.write_rows([[step, self.wall(), kind, "", "", f"{b:.4f}", f"{p:.3f}", q, crop, count]
                     for q, b, p in results])


class Meter:
    """Running means of loss, bpp and MSE between log rows."""

    def __init__(self, log: RunLog, every: int):
        self.log, self.every = log, every
        self._reset()

    def _reset(self) -> None:
        self.loss = self.bpp = self.mse = 0.0
        self.n = 0
        self.t0 = time.time()

    def add(self, step: int, loss: float, bpp: float, mse: float, lr: float,
            crop: int, batch: int) -> None:
        """Adds one step; every `every` steps writes the means and prints them."""
        self.loss += loss
        self.bpp += bpp
        self.mse += mse
        self.n += 1
        if step % self.every:
            return
        n = self.n
        psnr = 10 * math.log10(1 / max(self.mse / n, 1e-12))
        dt = (time.time() - self.t0) / n
        self.log.write_rows([[step, self.log.wall(), "train", f"{lr:.3g}", f"{self.loss / n:.4f}",
                          f"{self.bpp / n:.4f}", f"{psnr:.3f}", "mix", crop, batch]])
        print(f"step {step} lr {lr:.2e} loss {self.loss / n:.4f} bpp {self.bpp / n:.4f} "
              f"psnr {psnr:.2f} {dt:.2f}s/step", flush=True)
        self._reset()
