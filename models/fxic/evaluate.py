"""Kodak rate–distortion of the float model (PyTorch) and of an exported
integer model (run by the `fxic` binary: real bitstreams, every byte counted).

    cd models && /usr/bin/python3 -m fxic.evaluate float              # → results/kodak-float.json
    cd models && /usr/bin/python3 -m fxic.evaluate int default.fxm    # → results/kodak-int.json (runs `fxic eval`)

Writes CompressAI's results schema (averages over the images) plus a
per-image CSV beside it.
"""
from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from .data import DATA_ROOT, load_rgb
from .metrics import ms_ssim, psnr

MODELS_DIR = Path(__file__).resolve().parents[1]
REPO = MODELS_DIR.parent
KODAK = DATA_ROOT / "kodak"


def kodak_files(limit: int | None) -> list[Path]:
    files = sorted(KODAK.glob("kodim*.png"))
    return files[:limit] if limit else files


def evaluate_float(ckpt: Path, files: list[Path], threads: int) -> list[dict]:
    import torch
    import torch.nn.functional as F
    from .export import load_float_model
    from .heap import keep_heap
    from .net import rate_bits
    keep_heap()
    torch.set_num_threads(threads)
    model, ck = load_float_model(ckpt)
    rows = []
    L = len(model.cfg.lambdas)
    for f in files:
        rgb = load_rgb(f)
        h, w = rgb.shape[:2]
        x = torch.from_numpy(rgb).permute(2, 0, 1)[None].float() / 255
        ph, pw = (-h) % 64, (-w) % 64
        xp = F.pad(x, (0, pw, 0, ph), mode="replicate")
        for q in range(L):
            t0 = time.time()
            with torch.no_grad():
                x_hat, p_y, p_z = model(xp, torch.tensor([float(q)]))
            bits = (rate_bits(p_y) + rate_bits(p_z)).item()
            out = (x_hat[0, :, :h, :w].clamp(0, 1) * 255).round().byte().permute(1, 2, 0).numpy()
            rows.append({"image": f.name, "quality": q + 1, "bpp": bits / (h * w),
                         "psnr": psnr(rgb, out), "ms_ssim": ms_ssim(rgb, out),
                         "enc_s": time.time() - t0, "dec_s": 0.0})
        print(f"{f.name} done", file=sys.stderr, flush=True)
    return rows


def summarize(rows: list[dict], name: str, description: str) -> dict:
    qs = sorted({r["quality"] for r in rows})
    res = {"bpp": [], "psnr-rgb": [], "ms-ssim-rgb": [], "encoding_time": [], "decoding_time": []}
    for q in qs:
        sel = [r for r in rows if r["quality"] == q]
        res["bpp"].append(float(np.mean([r["bpp"] for r in sel])))
        res["psnr-rgb"].append(float(np.mean([r["psnr"] for r in sel])))
        res["ms-ssim-rgb"].append(float(np.mean([r["ms_ssim"] for r in sel])))
        res["encoding_time"].append(float(np.mean([r["enc_s"] for r in sel])))
        res["decoding_time"].append(float(np.mean([r["dec_s"] for r in sel])))
    return {"name": name, "description": description, "results": res}


def write(rows: list[dict], summary: dict, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out.with_suffix(".csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0].keys()))
        w.writeheader()
        w.writerows(rows)
    out.write_text(json.dumps(summary, indent=2) + "\n")
    for q, b, p, m in zip(range(1, 99), summary["results"]["bpp"], summary["results"]["psnr-rgb"],
                          summary["results"]["ms-ssim-rgb"]):
        print(f"q{q}: {b:.4f} bpp  {p:.3f} dB  MS-SSIM {m:.5f}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("kind", choices=["float", "int"])
    ap.add_argument("model", nargs="?", type=Path, help="integer model file (int)")
    ap.add_argument("--checkpoint", type=Path, default=MODELS_DIR / "checkpoint" / "hyperprior.pt")
    ap.add_argument("--fxic", type=Path, default=REPO / "build" / "apps" / "fxic")
    ap.add_argument("--limit", type=int, help="first N Kodak images only")
    ap.add_argument("--qualities", default="", help="comma list (int); default all")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("-o", "--output", type=Path)
    args = ap.parse_args(argv)
    files = kodak_files(args.limit)
    if args.kind == "float":
        import torch
        ck = torch.load(args.checkpoint, map_location="cpu")
        rows = evaluate_float(args.checkpoint, files, args.threads)
        summary = summarize(rows, "fxic-float", f"fxic float model (PyTorch), step {ck['step']}, "
                            f"estimated rate from the likelihoods, Kodak {len(files)} images")
        out = args.output or MODELS_DIR / "results" / "kodak-float.json"
    else:
        if args.model is None:
            ap.error("int needs a model file")
        # The integer model is measured by the C++ tool itself (real files).
        out = args.output or MODELS_DIR / "results" / "kodak-int.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        cmd = [str(args.fxic), "eval", *map(str, files), "-m", str(args.model),
               "--csv", str(out.with_suffix(".csv")), "--json", str(out), "-f",
               "--name", "fxic-int", "-j", str(args.jobs), "--description",
               f"fxic integer codec (C++), real bitstreams, Kodak {len(files)} images"]
        if args.qualities:
            cmd += ["-q", args.qualities]
        subprocess.run(cmd, check=True)
        print(out.read_text())
        return 0
    write(rows, summary, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
