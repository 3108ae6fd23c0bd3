#!/usr/bin/python3
"""Times the two heavy steps of the export's error-compensated rounding
(models/fxic/calibrate.py) for one of the widest layers, against the plain
PyTorch calls they replace, as ratios within one run.

  moments   Σ x̃x̃ᵀ of one calibration crop: `a @ a.T` (Debian's PyTorch:
            reference BLAS) against calibrate.gram (a 1×1 convolution: oneDNN)
  factor    the upper factor of H⁻¹: cholesky(inv(H)) against
            calibrate.inverse_cholesky_upper (one Cholesky of the reversed H
            and a triangular solve)

Sizes default to the calibration's: d = 3201 (128 channels × 5×5 + bias),
1024 positions per crop. Rounds alternate baseline and replacement; the
median of each and their ratio are printed, with the largest difference
between the two results. One thread, as the export runs.

    /usr/bin/python3 bench/calibrate_speed.py --rounds 3
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "models"))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--dim", type=int, default=3201, help="moment matrix size d")
    ap.add_argument("--positions", type=int, default=1024)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args(argv)

    import numpy as np
    import torch
    from fxic import calibrate

    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(1)
    a = torch.from_numpy(rng.normal(size=(args.dim, args.positions))).float()
    x = rng.normal(size=(args.dim, 2 * args.dim))
    h = x @ x.T / x.shape[1] + 0.01 * np.eye(args.dim)

    def old_factor():
        return torch.linalg.cholesky(torch.linalg.inv(torch.from_numpy(h))).T.numpy()

    cases = {
        "moments": (lambda: (a @ a.T).double().numpy(),
                    lambda: calibrate.gram(a).double().numpy()),
        "factor": (old_factor, lambda: calibrate.inverse_cholesky_upper(h)),
    }
    print(f"d = {args.dim}, {args.positions} positions, {args.threads} thread(s), "
          f"median of {args.rounds} rounds")
    for name, (base, new) in cases.items():
        times = {"baseline": [], "new": []}
        diff = 0.0
        for i in range(args.rounds):
            t0 = time.perf_counter()
            rb = base()
            t1 = time.perf_counter()
            rn = new()
            t2 = time.perf_counter()
            times["baseline"].append(t1 - t0)
            times["new"].append(t2 - t1)
            diff = max(diff, float(np.abs(rb - rn).max() / np.abs(rb).max()))
            print(f"calibrate_speed: {name} round {i + 1}/{args.rounds}",
                  file=sys.stderr, flush=True)
        tb, tn = statistics.median(times["baseline"]), statistics.median(times["new"])
        print(f"{name:8s} baseline {tb:8.3f} s  new {tn:8.3f} s  ratio {tn / tb:.3f}  "
              f"max relative difference {diff:.1e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
