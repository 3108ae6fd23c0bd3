"""Summarises a training log (checkpoint/train_log.csv) in bins of steps.

The `kind=train` rows are running averages over 50 steps each, with the
quality drawn per sample, so a single row is noisy; averaged over a few
thousand steps they show whether the loss still descends at a given learning
rate. Each output line is one bin: its first step, the number of rows, the
mean loss, bpp and PSNR of those rows, and the learning rate of its last row.

    /usr/bin/python3 -m fxic.logstats --bin 2000 --from 40000
"""
from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

from .train import COMMITTED

DEFAULT_LOG = COMMITTED.parent / "train_log.csv"


def bins(rows, width: int, start: int = 0, kind: str = "train") -> list[dict]:
    """Means of loss, bpp, psnr per `width`-step bin of the `kind` rows at or
    after `start`, in step order; rows whose fields are empty are skipped."""
    if width <= 0:
        raise ValueError("bin width must be positive")
    out: dict[int, dict] = {}
    for r in rows:
        if r["kind"] != kind or not r["loss"]:
            continue
        step = int(r["step"])
        if step < start:
            continue
        b = out.setdefault(step // width * width,
                           {"n": 0, "loss": 0.0, "bpp": 0.0, "psnr": 0.0, "lr": 0.0})
        b["n"] += 1
        for k in ("loss", "bpp", "psnr"):
            b[k] += float(r[k])
        b["lr"] = float(r["lr"])
    result = []
    for first in sorted(out):
        b = out[first]
        result.append({"step": first, "n": b["n"], "lr": b["lr"],
                       **{k: b[k] / b["n"] for k in ("loss", "bpp", "psnr")}})
    return result


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--log", type=Path, default=DEFAULT_LOG, help="training log CSV")
    ap.add_argument("--bin", type=int, default=2000, help="steps per bin")
    ap.add_argument("--from", dest="start", type=int, default=0, help="first step")
    args = ap.parse_args(argv)
    if args.bin <= 0:
        ap.error("--bin must be positive")
    try:
        with open(args.log, newline="") as f:
            rows = list(csv.DictReader(f))
    except OSError as e:
        print(f"logstats: cannot read {args.log}: {e.strerror}", file=sys.stderr)
        return 1
    print(f"{'step':>7} {'rows':>4} {'loss':>7} {'bpp':>7} {'psnr':>7} {'lr (last)':>9}")
    for b in bins(rows, args.bin, args.start):
        print(f"{b['step']:7d} {b['n']:4d} {b['loss']:7.4f} {b['bpp']:7.4f} "
              f"{b['psnr']:7.3f} {b['lr']:9.2e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
