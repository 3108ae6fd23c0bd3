#!/usr/bin/python3
"""Times fxic's network in float PyTorch (models/fxic/net.py), for scripts/bench.sh.

The same architecture and sizes as the integer codec (N = 128, M = 192), with
the weights of models/checkpoint/hyperprior.pt, on one random 768x512 input:

  encode transforms: g_a, gain, h_a, round, h_s   (what fxic's encoder runs)
  decode transforms: h_s, g_s                     (what fxic's decoder runs)

No entropy coding, no image I/O, no model loading: transforms only. The
heap keeps freed buffers as in training (fxic.heap; FXIC_MALLOC=default
turns that off). Each is
run --warmup times, then timed --runs times; the median is printed as JSON on
stdout (one object), progress on stderr.

    /usr/bin/python3 bench/torch_hyperprior.py --threads 2 --runs 10
"""
from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "models"))


def log(msg: str) -> None:
    print(f"torch_hyperprior: {msg}", file=sys.stderr, flush=True)


def load_model(checkpoint: Path, attempts: int = 3):
    """The float model with the checkpoint's weights, or None if unreadable.

    The checkpoint may be rewritten by a training run at any moment: it is
    copied first and the copy is loaded, retried a few times.
    """
    import torch
    from fxic.net import Config, HyperpriorModel
    from fxic.train import export_weights

    last = ""
    for attempt in range(attempts):
        try:
            with tempfile.TemporaryDirectory() as tmp:
                copy = Path(tmp) / "hyperprior.pt"
                shutil.copyfile(checkpoint, copy)
                ck = torch.load(copy, map_location="cpu")
            model = HyperpriorModel(Config.from_dict(ck["config"]))
            model.load_state_dict(export_weights(ck))
            return model, "checkpoint"
        except Exception as e:  # noqa: BLE001 - any failure: retry, then fall back
            last = f"{type(e).__name__}: {e}"
            time.sleep(1.0 + attempt)
    log(f"cannot load {checkpoint} ({last}); timing randomly initialised weights "
        "(same shapes, so the same work)")
    return HyperpriorModel(Config()), "random init (checkpoint unreadable)"


def median_ms(fn, warmup: int, runs: int) -> tuple[float, list[float]]:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times), times


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (default 2)")
    ap.add_argument("--runs", type=int, default=10, help="timed runs per transform (default 10)")
    ap.add_argument("--warmup", type=int, default=2, help="untimed runs first (default 2)")
    ap.add_argument("--width", type=int, default=768)
    ap.add_argument("--height", type=int, default=512)
    ap.add_argument("--quality", type=float, default=3.0,
                    help="quality index for the gains (0-based, default 3 = fxic -q 4)")
    ap.add_argument("--checkpoint", type=Path,
                    default=REPO / "models" / "checkpoint" / "hyperprior.pt")
    args = ap.parse_args()

    import torch
    from fxic.heap import keep_heap

    heap = "kept (fxic.heap)" if keep_heap() else "glibc defaults"
    torch.set_num_threads(args.threads)
    model, weights = load_model(args.checkpoint)
    model.eval()
    gen = torch.Generator().manual_seed(0)
    x = torch.rand(1, 3, args.height, args.width, generator=gen)
    q = torch.tensor([args.quality])
    log(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s), "
        f"{args.width}x{args.height}, weights: {weights}, heap: {heap}")

    with torch.inference_mode():
        gain = model.gains(q)[:, :, None, None]
        M = model.cfg.M

        def encode():
            y = model.g_a(x)
            y_g = y * gain
            z_hat = torch.round(model.h_a(y_g))
            params = model.h_s(z_hat)
            return y_g, z_hat, params

        y_g, z_hat, params = encode()
        y_hat = torch.round(y_g - params[:, :M]) + params[:, :M]

        def decode():
            p = model.h_s(z_hat)
            return model.g_s(y_hat / gain), p

        enc_ms, enc_all = median_ms(encode, args.warmup, args.runs)
        log(f"encode transforms {enc_ms:.1f} ms (median of {args.runs})")
        dec_ms, dec_all = median_ms(decode, args.warmup, args.runs)
        log(f"decode transforms {dec_ms:.1f} ms (median of {args.runs})")

    json.dump({
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "width": args.width,
        "height": args.height,
        "weights": weights,
        "runs": args.runs,
        "heap": heap,
        "encode_ms": enc_ms,
        "decode_ms": dec_ms,
        "encode_all_ms": enc_all,
        "decode_all_ms": dec_all,
    }, sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
