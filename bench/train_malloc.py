#!/usr/bin/python3
"""Times a stage-1 training step with glibc's default heap settings and with
fxic.heap's (no mmapped chunks, no trimming), as a ratio within one run.

Heap settings hold for a whole process, so each measurement is a child
process running bench/train_step.py (variant "default"); the two settings
alternate round by round, so drifts in machine load fall on both alike. The
median over rounds of each setting's per-round median and their ratio are
printed, and the children's peak resident memory.

    /usr/bin/python3 bench/train_malloc.py --threads 2 --rounds 3 --steps 6
"""
from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SETTINGS = (("glibc", "default"), ("kept", ""))


def run_once(fxic_malloc: str, args) -> tuple[float, int]:
    env = dict(os.environ)
    if fxic_malloc:
        env["FXIC_MALLOC"] = fxic_malloc
    else:
        env.pop("FXIC_MALLOC", None)
    out = subprocess.run(
        [sys.executable, str(HERE / "train_step.py"), "--variants", "default",
         "--threads", str(args.threads), "--steps", str(args.steps),
         "--warmup", str(args.warmup), "--batch", str(args.batch), "--crop", str(args.crop)],
        env=env, check=True, capture_output=True, text=True).stdout
    m = re.search(r"^default\s+([0-9.]+) s/step", out, re.M)
    rss = re.search(r"peak RSS ([0-9]+) MiB", out)
    if not m or not rss:
        raise SystemExit(f"unexpected train_step.py output:\n{out}")
    return float(m.group(1)), int(rss.group(1))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--steps", type=int, default=6, help="timed steps per child")
    ap.add_argument("--warmup", type=int, default=2, help="untimed steps per child")
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--crop", type=int, default=256)
    args = ap.parse_args(argv)
    times = {name: [] for name, _ in SETTINGS}
    peak = {name: 0 for name, _ in SETTINGS}
    for r in range(args.rounds):
        for name, value in SETTINGS:
            t, rss = run_once(value, args)
            times[name].append(t)
            peak[name] = max(peak[name], rss)
            print(f"train_malloc: round {r + 1}/{args.rounds} {name}: {t:.3f} s/step",
                  file=sys.stderr, flush=True)
    base = statistics.median(times[SETTINGS[0][0]])
    print(f"{args.batch}x{args.crop}^2 crops, {args.threads} thread(s), "
          f"{args.rounds} rounds of {args.steps} steps")
    for name, _ in SETTINGS:
        med = statistics.median(times[name])
        print(f"{name:6s} {med:7.3f} s/step  ratio {med / base:.3f}  peak RSS {peak[name]} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
