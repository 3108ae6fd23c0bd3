"""The bit-width study: Kodak RD curves, sizes and multiplication costs of
integer exports under the exporter's configurable bit widths and
quantization choices, a per-layer sensitivity analysis and a search for
per-layer bit widths within a target RD loss (docs/bitwidth.md).

    scripts/rd/bitwidth.sh                          (builds fxic if needed)
    cd models && nice -n 19 /usr/bin/python3 -m fxic.bitwidth --checkpoint CKPT

Every configuration is exported (export.Exporter with quantize.QuantOptions)
to a work directory and run by the real C++ codec (`fxic eval -m MODEL`: real
bitstreams, every byte counted) on Kodak. Per configuration the study writes
the curve (CompressAI schema, docs/bitwidth/curves/), BD-rates (`fxic
bdrate`) against the float model (models/results/kodak-float.csv restricted
to the same images and qualities, when it is from the same checkpoint step)
and against the default export (8-bit weights, 16-bit activations), the
model size (weights packed at each layer's bit width, and the file), MACs
per 768×512 image grouped by operand widths, and BOPs (MACs × weight bits ×
activation bits). Plots come from `fxic plot`, the page from this module.

Sensitivity: for each convolution, only its weights are lowered (6, 5, 4, 3
bits), and for each hidden activation only its bits (12, 10, 8; at 10 and 8
also with one more fractional bit, i.e. half the range), and the BD-rate
loss against the default export is measured on a small subset. The search
orders moves greedily (largest cost saving per unit of measured loss, losses
assumed additive), then finds the longest prefix of that order whose real
loss on the subset stays within the target (binary search over prefix
lengths), and verifies the result on the full study set.

Cost of a configuration (what the search lowers): the mean of three ratios
to the default export — BOPs of the convolutions, weight bits, and
activation bits written per image (hidden activations).
"""
from __future__ import annotations

import argparse
import csv
import functools
import hashlib
import json
import math
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np

from . import intref
from .data import DATA_ROOT
from .quantize import QuantOptions

MODELS_DIR = Path(__file__).resolve().parents[1]
REPO = MODELS_DIR.parent
KODAK = DATA_ROOT / "kodak"
WIDTH, HEIGHT = 768, 512
DEFAULT_QUALITIES = "1,3,5,7"
SENS_IMAGES = "kodim04,kodim08,kodim14,kodim23"
SENS_QUALITIES = "1,4,7"
SENS_WEIGHT_BITS = (6, 5, 4, 3)
SENS_ACT = ((12, 0), (10, 0), (8, 0), (10, 1), (8, 1))    # (bits, range shift)
EPS_LOSS = 0.01           # BD-rate resolution of `fxic bdrate` (percentage points)
ENV1 = dict(os.environ, OMP_NUM_THREADS="1")


# --------------------------------------------------------------------------
# Model statistics: size, MACs by operand width, BOPs
# --------------------------------------------------------------------------

def act_width(lo: int, hi: int) -> tuple[int, bool]:
    """Bits of an integer range: unsigned width of a non-negative range,
    two's-complement width otherwise. Returns (bits, unsigned)."""
    if lo >= 0:
        return max(1, int(hi).bit_length()), True
    return max(abs(int(lo)), abs(int(hi))).bit_length() + 1, False


def width_label(wb: int, lo: int, hi: int) -> str:
    b, u = act_width(lo, hi)
    return f"{wb}×{'u' if u else ''}{b}"


def layer_geometry(model: intref.IntModel, width: int = WIDTH, height: int = HEIGHT) -> dict:
    """Input (h, w) of every layer `<net>.<i>` and the output size of every
    hidden activation, for an image of width × height."""
    g = intref.geometry(model, width, height)
    starts = {"g_a": (g["padded_height"], g["padded_width"]),
              "h_a": (g["y_height"], g["y_width"]),
              "h_s": (g["z_height"], g["z_width"]),
              "g_s": (g["y_height"], g["y_width"])}
    out = {}
    for net, (h, w) in starts.items():
        for l in model.nets[net].layers:
            out[l.name] = {"in": (h, w)}
            if l.op == "conv":
                p = l.kernel // 2
                h = (h + 2 * p - l.kernel) // l.stride + 1
                w = (w + 2 * p - l.kernel) // l.stride + 1
            elif l.op == "d2s":
                h, w = 2 * h, 2 * w
            out[l.name]["out"] = (h, w)
    return out


def model_stats(meta: dict, tensors: dict, opts: QuantOptions, file_bytes: int,
                records: Optional[dict] = None) -> dict:
    """Size and multiplication cost of an exported model (meta, tensors) for
    one 768×512 image. Weights are checked against their layer's bit width.

    records: Exporter.layers, for the hidden activations' formats."""
    m = intref.check_model(meta, tensors)
    geo = layer_geometry(m)
    layers, macs, norm_macs = [], {}, 0
    n_weights = packed_bits = bops = 0
    for net in intref.NETS:
        for l in m.nets[net].layers:
            if l.op == "d2s":
                continue
            h, w = geo[l.name]["in"]
            if l.op == "conv":
                ho, wo = geo[l.name]["out"]
                wb = opts.wbits(l.name)
                wmax = int(np.abs(l.weight).max())
                if wmax > (1 << (wb - 1)) - 1:
                    raise ValueError(f"{l.name}: weight {wmax} exceeds {wb} bits")
                n = l.weight.size
                mac = ho * wo * l.cout * l.kernel * l.kernel * l.cin
                ab, _ = act_width(l.in_lo, l.in_hi)
                label = width_label(wb, l.in_lo, l.in_hi)
                macs[label] = macs.get(label, 0) + mac
                bops += mac * wb * ab
                n_weights += n
                packed_bits += n * wb
                layers.append({"name": l.name, "op": "conv", "weight_bits": wb,
                               "max_abs_weight": wmax, "weights": n, "macs": mac,
                               "in_range": [int(l.in_lo), int(l.in_hi)], "width": label,
                               "out_range": [int(l.out_lo), int(l.out_hi)],
                               "mult_pow2": bool(np.all((l.mult & (l.mult - 1)) == 0))})
            else:
                c = l.channels
                norm_macs += h * w * c * c
                layers.append({"name": l.name, "op": l.op, "macs": h * w * c * c,
                               "in_range": [int(l.in_lo), int(l.in_hi)],
                               "out_range": [int(l.out_lo), int(l.out_hi)],
                               "sq_shift": l.sq_shift,
                               "mult_pow2": bool(np.all((l.mult & (l.mult - 1)) == 0))})
    # Hidden activations: elements and bits written per image.
    act_bits_total = 0
    acts = []
    if records is not None:
        for net, recs in records.items():
            for r in recs:
                if not r.get("hidden") or r["name"] not in geo:
                    continue
                # A sub-pixel conv's output is counted after its depth-to-space.
                name = r["name"]
                oh, ow = geo[name]["out"]
                c = tensors[f"{name}.mult"].shape[0]
                if r.get("d2s"):
                    oh, ow, c = 2 * oh, 2 * ow, c // 4
                b, u = act_width(r["lo"], r["hi"])
                act_bits_total += oh * ow * c * b
                s = float(r["s_out"])
                acts.append({"name": name, "range": [int(r["lo"]), int(r["hi"])],
                             "bits": b, "unsigned": u, "scale": s,
                             "frac_bits": -math.log2(s), "elements": oh * ow * c})
    weight_bytes_packed = sum(-(-(x["weights"] * x["weight_bits"]) // 8)
                              for x in layers if x["op"] == "conv")
    return {"file_bytes": int(file_bytes), "weights": int(n_weights),
            "weight_bytes_packed": int(weight_bytes_packed),
            "packed_bytes": int(file_bytes - n_weights + weight_bytes_packed),
            "weight_bits_total": int(packed_bits),
            "macs": dict(sorted(macs.items(), key=lambda kv: -kv[1])),
            "conv_macs": int(sum(macs.values())), "norm_macs": int(norm_macs),
            "bops": int(bops), "act_bits": int(act_bits_total),
            "layers": layers, "activations": acts,
            "all_mult_pow2": all(x["mult_pow2"] for x in layers)}


# --------------------------------------------------------------------------
# Running fxic
# --------------------------------------------------------------------------

def kodak_images(spec: str) -> list[Path]:
    files = sorted(KODAK.glob("kodim*.png"))
    if spec in ("", "all"):
        return files
    want = [s.strip().removesuffix(".png") for s in spec.split(",") if s.strip()]
    by = {f.stem: f for f in files}
    missing = [w for w in want if w not in by]
    if missing:
        raise SystemExit(f"bitwidth: no such Kodak image {', '.join(missing)} in {KODAK}")
    return [by[w] for w in want]


class Runner:
    """Exports, `fxic eval` and `fxic bdrate`, with optional reuse of curves
    whose model id, images and qualities match."""

    def __init__(self, fxic: Path, work: Path, reuse: bool):
        self.fxic, self.work, self.reuse = fxic, work, reuse
        self.work.mkdir(parents=True, exist_ok=True)

    def eval(self, model: Path, model_id: str, name: str, label: str, images: list[Path],
             qualities: str, json_path: Path, csv_path: Optional[Path] = None) -> dict:
        desc = (f"fxic integer codec (C++), real bitstreams: {label}; model id {model_id}; "
                f"Kodak {len(images)} images ({images[0].stem}..{images[-1].stem}) "
                f"at qualities {qualities}")
        if self.reuse and json_path.exists():
            old = json.loads(json_path.read_text())
            if old.get("description") == desc and old.get("name") == name and (
                    csv_path is None or csv_path.exists()):
                return old
        json_path.parent.mkdir(parents=True, exist_ok=True)
        cmd = [str(self.fxic), "eval", *map(str, images), "-q", qualities, "-m", str(model),
               "-j", "1", "--json", str(json_path), "-f", "--quiet", "--name", name,
               "--description", desc]
        if csv_path is not None:
            cmd += ["--csv", str(csv_path)]
        subprocess.run(cmd, check=True, env=ENV1)
        return json.loads(json_path.read_text())

    def bdrate(self, anchors: list[Path], curves: list[Path]) -> dict:
        """{anchor name: {curve name: (BD-rate PSNR %, BD-rate MS-SSIM %)}}
        (None where the curves do not overlap)."""
        out = subprocess.run([str(self.fxic), "bdrate", "--format", "csv", "--anchor",
                              ",".join(map(str, anchors)), *map(str, curves)],
                             check=True, capture_output=True, text=True, env=ENV1).stdout
        res: dict = {}
        cur = None
        for line in out.splitlines():
            if not line.strip():
                continue
            if line.startswith("anchor: "):
                cur = res.setdefault(line[len("anchor: "):].rsplit(",", 4)[0], {})
                continue
            name, r_psnr, _, r_ms, _ = line.rsplit(",", 4)
            cur[name] = (_pct(r_psnr), _pct(r_ms))
        return res

    def plot(self, curves: list[Path], out: Path, title: str, extra: list[str]) -> None:
        for ext in ("svg", "png"):
            subprocess.run([str(self.fxic), "plot", *map(str, curves), "-o",
                            str(out.with_suffix("." + ext)), "-f", "--title", title, *extra],
                           check=True, env=ENV1)


def _pct(cell: str) -> Optional[float]:
    cell = cell.strip().strip('"')
    if not cell:
        return None
    return float(cell.rstrip("%"))


# --------------------------------------------------------------------------
# Configurations
# --------------------------------------------------------------------------

@dataclass
class Cfg:
    key: str
    label: str                    # legend / table name (no commas)
    opts: QuantOptions
    source: str = "stage1"        # "stage1", or a QAT run: "qat-learned", "qat-frozen"
    learned: bool = False         # QAT: the run's own ranges (what it simulated)


def study_configs(qat_bits: Optional[int]) -> list[Cfg]:
    Q = QuantOptions
    c = [Cfg("w8a16", "w8 a16 (default export)", Q())]
    for b in (7, 6, 5, 4):
        c.append(Cfg(f"w{b}a16", f"w{b} a16", Q(weight_bits=b)))
    for b in (14, 12, 10, 8):
        c.append(Cfg(f"w8a{b}", f"w8 a{b}", Q(act_bits=b)))
    c += [Cfg("w8a16-tensor", "w8 a16 per-tensor", Q(granularity="tensor")),
          Cfg("w4a16-tensor", "w4 a16 per-tensor", Q(weight_bits=4, granularity="tensor"))]
    for k in (2, 3, 4):
        c.append(Cfg(f"w4a16-std{k}", f"w4 a16 std k={k}", Q(weight_bits=4, weight_range="std",
                                                          std_k=float(k))))
    if qat_bits is not None:
        c += [Cfg(f"w{qat_bits}a16-qat-frozen", f"w{qat_bits} a16 QAT peak ranges (frozen)",
                  Q(weight_bits=qat_bits), source="qat-frozen", learned=True),
              Cfg(f"w{qat_bits}a16-qat-learned", f"w{qat_bits} a16 QAT learned ranges",
                  Q(weight_bits=qat_bits), source="qat-learned", learned=True),
              Cfg(f"w{qat_bits}a16-qat-peak", f"w{qat_bits} a16 QAT-learned weights + peak",
                  Q(weight_bits=qat_bits), source="qat-learned")]
        if qat_bits != 4:
            c.append(Cfg(f"w{qat_bits}a16", f"w{qat_bits} a16", Q(weight_bits=qat_bits)))
    c += [Cfg("w8a16-pow2", "w8 a16 shift-only", Q(pow2=True)),
          Cfg("w8a8-pow2", "w8 a8 shift-only", Q(act_bits=8, pow2=True)),
          Cfg("w4a16-pow2", "w4 a16 shift-only", Q(weight_bits=4, pow2=True))]
    return c


def plot_groups(qat_bits: Optional[int]) -> list[tuple[str, str, list[str]]]:
    q = [f"w{qat_bits}a16", f"w{qat_bits}a16-qat-frozen", f"w{qat_bits}a16-qat-learned",
         f"w{qat_bits}a16-qat-peak"] if qat_bits is not None else []
    rng = ["w4a16", "w4a16-std2", "w4a16-std3", "w4a16-std4"]
    if qat_bits == 4:
        rng += q[1:]
    return [
        ("weights", "Weight bit width (16-bit activations)",
         ["w8a16", "w7a16", "w6a16", "w5a16", "w4a16"]),
        ("activations", "Activation bit width (8-bit weights)",
         ["w8a16", "w8a14", "w8a12", "w8a10", "w8a8"]),
        ("granularity", "Per-channel vs per-tensor weight ranges",
         ["w8a16", "w8a16-tensor", "w4a16", "w4a16-tensor"]),
        ("ranges", "Weight ranges: peak vs k*std vs learned (4-bit weights)",
         rng + ([] if qat_bits == 4 else q)),
        ("rescaling", "Rescaling: M0*2^-n vs shift-only",
         ["w8a16", "w8a16-pow2", "w8a8", "w8a8-pow2", "w4a16", "w4a16-pow2"]),
        ("search", "Per-layer bit widths from the search",
         ["w8a16", "searched"]),
    ]


# --------------------------------------------------------------------------
# The study
# --------------------------------------------------------------------------

class Study:
    def __init__(self, args):
        import torch
        from .export import load_float_model, layer_table
        torch.set_num_threads(1)
        self.args = args
        self.out = args.out_dir
        self.ckpt = args.checkpoint
        self.model, ck = load_float_model(self.ckpt)
        self.step = int(ck["step"])
        self.ckpt_sha = hashlib.sha256(self.ckpt.read_bytes()).hexdigest()
        self.table = layer_table(self.model)
        self.images = kodak_images(args.images)
        self.qualities = args.qualities
        self.sens_images = kodak_images(args.sens_images)
        self.sens_qualities = args.sens_qualities
        self.run = Runner(args.fxic, args.work_dir, args.reuse)
        self.models_dir = args.work_dir / "models"
        self.models_dir.mkdir(parents=True, exist_ok=True)
        self.qat: dict = {}            # run → QatModel
        self.qat_info: dict = {}
        self.timing: list[tuple[str, float, float]] = []
        self.results: dict = {}
        self.float_json = self.out / "curves" / "float.json"

    # -- timing -------------------------------------------------------------
    @staticmethod
    def cpu() -> float:
        a = resource.getrusage(resource.RUSAGE_SELF)
        b = resource.getrusage(resource.RUSAGE_CHILDREN)
        return a.ru_utime + a.ru_stime + b.ru_utime + b.ru_stime

    def phase(self, name: str, t0: float, c0: float) -> None:
        self.timing.append((name, time.time() - t0, self.cpu() - c0))
        print(f"bitwidth: {name}: {time.time() - t0:.0f} s wall, {self.cpu() - c0:.0f} s CPU",
              flush=True)

    # -- export -------------------------------------------------------------
    def export(self, key: str, opts: QuantOptions, source: str = "stage1",
               learned: bool = False) -> tuple[Path, str, dict]:
        """Writes the model of a configuration; returns (path, model id, stats)."""
        from .export import Exporter
        from .modelfile import write_model
        if source.startswith("qat"):
            run = source[4:]
            qm = self.qat[run]
            net = qm.net
            ws = qm.weight_scale if learned else None
            how = (f"QAT ({run} ranges) {self.qat_info['runs'][run]['steps']} steps from "
                   f"stage-1 step {self.step}" + ("" if learned else ", exported with peak ranges"))
        else:
            net, ws, how = self.model, None, f"stage-1 step {self.step}, post-training"
        ex = Exporter(net, options=opts, weight_scale=ws)
        desc = f"bit-width study {key}: {how}; {opts.describe() or 'default options'}"
        meta, tensors = ex.build(f"fxic-bw-{key}", desc)
        path = self.models_dir / f"{key}.fxm"
        mid = write_model(path, meta, tensors).hex()
        stats = model_stats(meta, tensors, ex.opts, path.stat().st_size, ex.layers)
        stats["formats"] = {k: (float(v) if isinstance(v, (float, np.floating)) else v)
                            for k, v in ex.formats.items() if k not in ("gain", "inv_gain")}
        return path, mid, stats

    # -- float anchor ---------------------------------------------------------
    def float_anchor(self, images: list[Path], qualities: str, out: Path) -> Path:
        from .evaluate import evaluate_float, summarize
        qs = [int(q) for q in qualities.split(",")]
        names = {f.name for f in images}
        src = MODELS_DIR / "results" / "kodak-float.json"
        rows = None
        if src.exists() and f"step {self.step}," in json.loads(src.read_text())["description"]:
            with open(src.with_suffix(".csv")) as f:
                rows = [{"image": r["image"], "quality": int(r["quality"]),
                         "bpp": float(r["bpp"]), "psnr": float(r["psnr"]),
                         "ms_ssim": float(r["ms_ssim"]), "enc_s": float(r["enc_s"]),
                         "dec_s": float(r["dec_s"])}
                        for r in csv.DictReader(f)]
            rows = [r for r in rows if r["image"] in names and r["quality"] in qs]
            how = "models/results/kodak-float.csv"
            if len(rows) != len(names) * len(qs):
                rows = None
        if rows is None:
            rows = [r for r in evaluate_float(self.ckpt, images, 1) if r["quality"] in qs]
            how = "fxic.evaluate.evaluate_float"
        s = summarize(rows, "float model", f"fxic float model (PyTorch), step {self.step}, "
                      f"estimated rate from the likelihoods ({how}), Kodak {len(images)} "
                      f"images at qualities {qualities}")
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(s, indent=2) + "\n")
        return out

    # -- QAT ----------------------------------------------------------------
    def run_qat(self) -> None:
        """Two short QAT runs from the stage-1 checkpoint, equal but for the
        weight ranges: learned (lr_range = --qat-lr-range) and frozen at the
        initial per-channel peaks (lr_range = 0)."""
        a = self.args
        self.qat_info = {"bits": a.qat_bits, "max_steps": a.qat_steps,
                         "minutes": a.qat_minutes, "set": a.qat_set,
                         "lr_range": a.qat_lr_range, "runs": {}}
        for run, lr_range in (("learned", a.qat_lr_range), ("frozen", 0.0)):
            work = a.work_dir / f"qat-{run}"
            ck = work / f"qat-w{a.qat_bits}.pt"
            sets = list(a.qat_set) + [f"lr_range={lr_range:g}"]
            settings = {"bits": a.qat_bits, "max_steps": a.qat_steps,
                        "minutes": a.qat_minutes, "set": sets, "init_sha256": self.ckpt_sha}
            tag = work / "settings.json"
            if not (a.reuse and ck.exists() and tag.exists()
                    and json.loads(tag.read_text()) == settings):
                shutil.rmtree(work, ignore_errors=True)
                work.mkdir(parents=True)
                cmd = [sys.executable, "-m", "fxic.qat", "--minutes", str(a.qat_minutes),
                       "--max-steps", str(a.qat_steps), "--threads", "1",
                       "--weight-bits", str(a.qat_bits), "--init", str(self.ckpt),
                       "--checkpoint", str(ck), "--log", str(work / "qat_log.csv"),
                       "--run-dir", str(work / "runs"), "--fresh", "--ckpt-minutes", "100000",
                       "--val-crops", "2"]
                for kv in sets:
                    cmd += ["--set", kv]
                subprocess.run(cmd, cwd=MODELS_DIR, check=True, env=ENV1)
                tag.write_text(json.dumps(settings))
            from .qat import load_qat
            self.qat[run], info = load_qat(ck)
            self.qat_info["runs"][run] = {"steps": int(info["step"]),
                                          "schedule": info["schedule"]}
        steps = {r["steps"] for r in self.qat_info["runs"].values()}
        self.qat_info["steps"] = min(steps)
        self.qat_info["schedule"] = self.qat_info["runs"]["learned"]["schedule"]
        if len(steps) > 1:
            print(f"bitwidth: the QAT runs stopped at different steps {sorted(steps)} "
                  "(wall-clock cap); raise --qat-minutes", file=sys.stderr, flush=True)

    # -- configurations ----------------------------------------------------------
    def run_config(self, cfg: Cfg) -> dict:
        path, mid, stats = self.export(cfg.key, cfg.opts, cfg.source, cfg.learned)
        cdir = self.out / "curves"
        self.run.eval(path, mid, cfg.label, cfg.label, self.images, self.qualities,
                      cdir / f"{cfg.key}.json", cdir / f"{cfg.key}.csv")
        rec = {"key": cfg.key, "label": cfg.label, "options": cfg.opts.to_dict(),
               "source": cfg.source, "learned": cfg.learned, "model_id": mid, "stats": stats}
        self.results[cfg.key] = rec
        print(f"bitwidth: {cfg.key}: {stats['file_bytes']} bytes, model id {mid}", flush=True)
        return rec

    # -- sensitivity ----------------------------------------------------------------
    def sens_eval(self, key: str, opts: QuantOptions) -> tuple[Path, dict]:
        path, mid, stats = self.export("s-" + key, opts)
        j = self.run.work / "sens" / f"{key}.json"
        self.run.eval(path, mid, key, key, self.sens_images, self.sens_qualities, j)
        return j, stats

    def sens_loss(self, curves: dict[str, Path], anchor: Path) -> dict[str, tuple]:
        bd = self.run.bdrate([anchor], list(curves.values()))
        (only,) = bd.values()
        return {k: only.get(k) for k in curves}

    def sensitivity(self) -> dict:
        only = set(self.args.sens_layers.split(",")) if self.args.sens_layers else None
        convs = [r["name"] for r in self.table if r["conv"] is not None
                 and (only is None or r["name"] in only)]
        hidden = [r["name"] for r in self.table if r["hidden"]
                  and (only is None or r["name"] in only)]
        anchor, _ = self.sens_eval("default", QuantOptions())
        curves: dict[str, Path] = {}
        for L in convs:
            for b in SENS_WEIGHT_BITS:
                k = f"{L}:w{b}"
                curves[k], _ = self.sens_eval(k, QuantOptions(layer_weight_bits={L: b}))
        for H in hidden:
            for b, s in SENS_ACT:
                k = f"{H}:a{b}" + (f"+{s}" if s else "")
                o = QuantOptions(layer_act_bits={H: b}, act_shift={H: s} if s else {})
                curves[k], _ = self.sens_eval(k, o)
        loss = self.sens_loss(curves, anchor)
        return {"anchor": str(anchor), "convs": convs, "hidden": hidden,
                "loss": {k: v for k, v in loss.items()}}

    # -- search ----------------------------------------------------------------------
    def search(self, sens: dict) -> dict:
        cm = CostModel(self.model, self.table, self.results["w8a16"]["stats"])
        loss = {k: (v[0] if v and v[0] is not None else math.inf)
                for k, v in sens["loss"].items()}
        # Candidates per layer: weights by bit width; activations by bit width
        # with the better of the measured range shifts (the fractional length).
        cands: dict[str, list] = {}
        for L in sens["convs"]:
            cands["w:" + L] = [(b, loss[f"{L}:w{b}"]) for b in SENS_WEIGHT_BITS]
        for H in sens["hidden"]:
            best: dict[int, tuple] = {}
            for b, s in SENS_ACT:
                v = loss[f"{H}:a{b}" + (f"+{s}" if s else "")]
                if b not in best or v < best[b][1]:
                    best[b] = ((b, s), v)
            cands["a:" + H] = list(best.values())
        state0 = cm.default_state()
        seq = greedy_order(cands, state0, cm.cost)
        anchor = Path(sens["anchor"])
        target = self.args.target
        tried: dict[int, float] = {0: 0.0}

        def opts_of(state: dict) -> QuantOptions:
            return cm.options(state)

        def actual(k: int) -> float:
            if k not in tried:
                st = state_after(state0, seq, k)
                j, _ = self.sens_eval(f"search-{k}", opts_of(st))
                v = self.sens_loss({f"search-{k}": j}, anchor)[f"search-{k}"]
                tried[k] = v[0] if v and v[0] is not None else math.inf
                print(f"bitwidth: search prefix {k}/{len(seq)}: {tried[k]:+.2f}% "
                      f"(predicted {seq[k - 1]['predicted'] if k else 0:+.2f}%)", flush=True)
            return tried[k]

        k_pred = max([0] + [i + 1 for i, m in enumerate(seq) if m["predicted"] <= target])
        if k_pred and actual(k_pred) <= target:
            lo, hi = k_pred, len(seq) + 1          # lo ok, hi unknown/fail
            if actual(len(seq)) <= target:
                lo = len(seq)
            else:
                hi = len(seq)
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if actual(mid) <= target:
                    lo = mid
                else:
                    hi = mid
        else:
            lo, hi = 0, k_pred
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if actual(mid) <= target:
                    lo = mid
                else:
                    hi = mid
        chosen = state_after(state0, seq, lo)
        opts = opts_of(chosen)
        return {"sequence": seq, "tried": {str(k): v for k, v in sorted(tried.items())},
                "prefix": lo, "predicted_prefix": k_pred, "target": target,
                "options": opts.to_dict(), "state": {k: list(v) if isinstance(v, tuple) else v
                                                      for k, v in chosen.items()},
                "subset_loss": tried.get(lo, 0.0)}

    # -- everything ------------------------------------------------------------------
    def main(self) -> None:
        a = self.args
        t_all, c_all = time.time(), self.cpu()
        self.out.mkdir(parents=True, exist_ok=True)
        (self.out / "curves").mkdir(exist_ok=True)
        t0, c0 = time.time(), self.cpu()
        self.float_anchor(self.images, self.qualities, self.float_json)
        qat_bits = None
        if a.qat_bits:
            self.run_qat()
            qat_bits = a.qat_bits
            self.phase(f"QAT (2 runs × {self.qat_info['steps']} steps, {qat_bits}-bit weights)",
                       t0, c0)
        cfgs = study_configs(qat_bits)
        t0, c0 = time.time(), self.cpu()
        for cfg in cfgs:
            self.run_config(cfg)
        self.phase(f"{len(cfgs)} configurations, {len(self.images)} images × "
                   f"{len(self.qualities.split(','))} qualities", t0, c0)
        search = sens = None
        if not a.no_search:
            t0, c0 = time.time(), self.cpu()
            sens = self.sensitivity()
            self.phase(f"sensitivity ({len(sens['loss'])} single-layer exports, "
                       f"{len(self.sens_images)} images × "
                       f"{len(self.sens_qualities.split(','))} qualities)", t0, c0)
            t0, c0 = time.time(), self.cpu()
            search = self.search(sens)
            self.phase(f"search ({len(search['tried']) - 1} subset verifications)", t0, c0)
            t0, c0 = time.time(), self.cpu()
            cfg = Cfg("searched", f"searched (target {a.target:g}%)",
                      QuantOptions.from_dict(search["options"]))
            self.run_config(cfg)
            cfgs.append(cfg)
            self.phase("searched configuration on the study set", t0, c0)
        t0, c0 = time.time(), self.cpu()
        groups = report(self.run, self.out, [self.results[c.key] for c in cfgs], qat_bits)
        self.phase("BD-rates and plots", t0, c0)
        self.timing.append(("total", time.time() - t_all, self.cpu() - c_all))
        summary = {"checkpoint": {"path": str(a.checkpoint_label or self.ckpt),
                                  "step": self.step, "sha256": self.ckpt_sha},
                   "images": [f.stem for f in self.images], "qualities": self.qualities,
                   "sens_images": [f.stem for f in self.sens_images],
                   "sens_qualities": self.sens_qualities,
                   "configs": [self.results[c.key] for c in cfgs],
                   "qat": self.qat_info, "sensitivity": sens, "search": search,
                   "timing": self.timing, "command": a.command}
        (self.out / "summary.json").write_text(json.dumps(summary, indent=1, default=_jsonable)
                                               + "\n")
        write_doc(a.doc, summary, groups, self.out)
        print(f"bitwidth: wrote {a.doc} and {self.out}/", flush=True)


def report(run: Runner, out: Path, configs: list[dict], qat_bits: Optional[int]) -> list:
    """BD-rates of every curve in out/curves against the float model and the
    default export (into `configs`), and the plots; returns the plot groups."""
    cdir = out / "curves"
    curves = [cdir / f"{c['key']}.json" for c in configs]
    bd = run.bdrate([cdir / "float.json", cdir / "w8a16.json"], curves)
    names = list(bd.keys())
    for c in configs:
        c["bd_float"] = bd[names[0]].get(c["label"])
        c["bd_default"] = bd[names[1]].get(c["label"])
        c["curve"] = json.loads((cdir / f"{c['key']}.json").read_text())["results"]
    have = {c["key"] for c in configs}
    groups = [g for g in plot_groups(qat_bits) if all(k in have for k in g[2])]
    for gkey, title, keys in groups:
        run.plot([cdir / "float.json"] + [cdir / f"{k}.json" for k in keys],
                 out / f"rd-{gkey}", title, ["--metric", "psnr"])
    return groups


def report_only(args) -> None:
    """Recomputes BD-rates and plots from the stored curves and rewrites the
    page from out/summary.json (no export, no evaluation)."""
    path = args.out_dir / "summary.json"
    s = json.loads(path.read_text())
    run = Runner(args.fxic, args.work_dir, True)
    qat_bits = s["qat"].get("bits") if s.get("qat") else None
    groups = report(run, args.out_dir, s["configs"], qat_bits)
    path.write_text(json.dumps(s, indent=1, default=_jsonable) + "\n")
    write_doc(args.doc, s, groups, args.out_dir)
    print(f"bitwidth: rewrote {args.doc} from {path}", flush=True)


def _jsonable(o):
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(type(o))


# --------------------------------------------------------------------------
# Cost model and greedy order (the search)
# --------------------------------------------------------------------------

class CostModel:
    """Cost of per-layer bit widths without exporting: conv MACs and weight
    counts from the default export, each hidden activation's integer range
    from export.activation_format (the exporter's own rule, memoized)."""

    def __init__(self, model, table: list[dict], default_stats: dict):
        self.model, self.table = model, table
        self.by_name = {r["name"]: r for r in table}
        st = {l["name"]: l for l in default_stats["layers"]}
        acts = {a["name"]: a for a in default_stats["activations"]}
        self.convs = []      # (name, conv, macs, weights, producer or None, fixed width)
        for i, r in enumerate(table):
            if r["conv"] is None:
                continue
            prev = table[i - 1] if i > 0 and table[i - 1]["net"] == r["net"] else None
            l = st[r["name"]]
            fixed = act_width(*l["in_range"])[0] if prev is None else None
            self.convs.append((r["name"], r["conv"], l["macs"], l["weights"],
                               prev["name"] if prev else None, fixed))
        self.hidden = [(r["name"], r["clip"], r["next"], acts[r["name"]]["elements"])
                       for r in table if r["hidden"]]
        self.conv_name = {r["conv"]: r["name"] for r in table if r["conv"] is not None}
        self.ref = None
        self.ref = self.raw(self.default_state())

    def default_state(self) -> dict:
        """{"w:<layer>": weight bits, "a:<layer>": (activation bits, range shift)}."""
        s = {"w:" + name: 8 for name, *_ in self.convs}
        s.update({"a:" + name: (16, 0) for name, *_ in self.hidden})
        return s

    @functools.lru_cache(maxsize=None)
    def width(self, name: str, bits: int, shift: int, wb_next: int) -> int:
        from .export import activation_format
        r = self.by_name[name]
        lo, hi = r["clip"]
        lo, hi = lo / 2.0 ** shift, hi / 2.0 ** shift
        _, ilo, ihi = activation_format(lo, hi, r["next"], wb_next, None, bits)
        return act_width(ilo, ihi)[0]

    def raw(self, state: dict) -> tuple[float, float, float]:
        bops = wbits = 0.0
        for name, conv, macs, n, prod, fixed in self.convs:
            wb = state["w:" + name]
            if prod is None:
                aw = fixed
            else:
                b, s = state["a:" + prod]
                aw = self.width(prod, b, s, wb)
            bops += macs * wb * aw
            wbits += n * wb
        abits = 0.0
        for name, clip, nxt, elems in self.hidden:
            b, s = state["a:" + name]
            wb = state["w:" + self.conv_name[nxt]] if nxt is not None else 8
            abits += elems * self.width(name, b, s, wb)
        return bops, wbits, abits

    def cost(self, state: dict) -> float:
        r = self.raw(state)
        return sum(x / y for x, y in zip(r, self.ref)) / 3.0

    def options(self, state: dict) -> QuantOptions:
        wb = {n[2:]: v for n, v in state.items() if n.startswith("w:") and v != 8}
        ab = {n[2:]: v[0] for n, v in state.items() if n.startswith("a:") and v[0] != 16}
        sh = {n[2:]: v[1] for n, v in state.items() if n.startswith("a:") and v[1]}
        return QuantOptions(layer_weight_bits=wb, layer_act_bits=ab, act_shift=sh)


def greedy_order(cands: dict[str, list], state0: dict, cost) -> list[dict]:
    """Moves in greedy order: each step takes the (layer, level) with the
    largest cost saving per unit of added loss (loss clamped at 0, at least
    EPS_LOSS), among levels cheaper than the layer's current one. `predicted`
    is the sum of the chosen levels' single-layer losses."""
    state = dict(state0)
    cur = {L: 0.0 for L in cands}
    seq = []
    while True:
        c0 = cost(state)
        best = None
        for L, opts in cands.items():
            for level, l in opts:
                if not math.isfinite(l):
                    continue
                trial = dict(state)
                trial[L] = level
                db = c0 - cost(trial)
                if db <= 1e-12:
                    continue
                dl = max(l, 0.0) - max(cur[L], 0.0)
                score = db / max(dl, EPS_LOSS)
                if best is None or score > best[0]:
                    best = (score, L, level, l, db)
        if best is None:
            return seq
        _, L, level, l, db = best
        state[L] = level
        cur[L] = l
        seq.append({"layer": L, "level": list(level) if isinstance(level, tuple) else level,
                    "loss": l, "saving": db, "cost": cost(state),
                    "predicted": sum(max(v, 0.0) for v in cur.values())})


def state_after(state0: dict, seq: list[dict], k: int) -> dict:
    s = dict(state0)
    for m in seq[:k]:
        s[m["layer"]] = tuple(m["level"]) if isinstance(m["level"], list) else m["level"]
    return s


# --------------------------------------------------------------------------
# The page
# --------------------------------------------------------------------------

def _f(v: Optional[float], nd: int = 2) -> str:
    if v is None or not math.isfinite(v):
        return "—"
    s = f"{v:+.{nd}f}"
    return s.replace("-", "−")


def _p(v: Optional[float]) -> str:
    s = _f(v)
    return s if s == "—" else s + " %"


def _g(n: float) -> str:
    return f"{n / 1e9:.2f}"


def _kb(n: int) -> str:
    return f"{n:,}".replace(",", " ")


def write_doc(path: Path, s: dict, groups: list, out: Path) -> None:
    rel = os.path.relpath(out, path.parent)
    cfgs = s["configs"]
    ref = next(c for c in cfgs if c["key"] == "w8a16")["stats"]
    ck = s["checkpoint"]
    L = []
    w = L.append
    w("# Bit-width study")
    w("")
    w("How the integer codec's rate–distortion depends on the bit widths and "
      "quantization choices of the export, measured with the real C++ codec "
      "(`fxic eval`: real bitstreams, every byte counted). Generated by")
    w("")
    w("```sh")
    w(s["command"])
    w("```")
    w("")
    w(f"from the stage-1 checkpoint at step **{ck['step']}** (`{ck['path']}`, SHA-256 "
      f"`{ck['sha256'][:16]}…`), on Kodak ({len(s['images'])} images, qualities "
      f"{s['qualities']}). Everything on this page — tables, plots, "
      f"[summary.json]({rel}/summary.json), per-configuration curves in "
      f"[{rel}/curves/]({rel}/curves/) (CompressAI schema, per-image CSV beside "
      f"each) — comes from that command.")
    w("")
    w("## What is varied")
    w("")
    w("Options of the exporter (`python -m fxic.export --help`, "
      "`quantize.QuantOptions`). Every configuration here rounds each weight to its "
      "nearest grid point (`--rounding nearest`), so that the options are compared "
      "on their own; the shipped model is exported with error-compensated rounding "
      "instead, which on the same checkpoint cut the loss of w8 a16 against the "
      "float model from +3.05 % to +0.44 % (models/README.md, \"Export and "
      "evaluate\").")
    w("")
    w("- **Weight bits** 2..8, globally (`--weight-bits`) or per convolution "
      "(`--layer-weight-bits g_s.9=8`): integers in ±(2^(b−1) − 1).")
    w("- **Activation bits** 8..16 of the *hidden* activations of g_a, h_a, h_s "
      "and g_s (every convolution and GDN/IGDN output inside a network; "
      "`--act-bits`, `--layer-act-bits`): integer bound A = min(2^(b−1) − 1, the "
      "largest input bound the consuming convolution's overflow proof allows). "
      "The interface formats are not covered: input pixels (0..255), y (g_a "
      "output, int16), y_g and μ (2^−f_y), σ (2^−7), z (2^−f_z), the g_s input "
      "(after the inverse gain) and the g_s output (pixels·2^6), because the "
      "entropy coder, the gains and the pixel rounding are defined on them; "
      "they keep the exporter's rules (f_y and the g_s input bound still follow "
      "the overflow proofs of h_a.0 and g_s.0, so they move with those layers' "
      "weight bits). Storage in the C++ codec stays int16; the option restricts "
      "the values.")
    w("- **Range shift** (`--act-shift LAYER=K`): an activation's real range is "
      "its training clip / 2^K — K more fractional bits at the same width, "
      "values beyond saturate. The search uses it to pick each activation's "
      "fractional length.")
    w("- **Per-tensor vs per-channel** weight ranges (`--per-tensor`).")
    w("- **Weight ranges**: the peak |w| (default), min(peak, k·std(w)) "
      "(`--weight-range std --std-k K`, weights beyond clip), or learned: the "
      "per-channel ranges of a quantization-aware fine-tuning run "
      "(`fxic.qat`, `export --qat`).")
    w("- **Rescaling**: M0·2^−n with a 31-bit M0 per output channel (default) "
      "vs shift-only (`--shift-only`): every weight and activation scale a "
      "power of two (the first and last layers' weight scales carry the "
      "pixel format's factor 255), so every convolution multiplier and every "
      "GDN/IGDN multiplier is an exact power of two (M0 = 1 where the shift "
      "range allows). For GDN/IGDN the γ scale is 2^g with g + sq_shift even, "
      "so sqrt(s_norm) is a power of two too (γ keeps 13..15 of its 15 bits). "
      "Activation formats are then 2^−f with c/2^−f ≤ A + 1 (one step of "
      "saturation at the clip). The per-level gains stay real multipliers: "
      "they are the rate control.")
    w("")
    w("Measures: BD-rate on PSNR (and MS-SSIM) by `fxic bdrate` (negative = "
      "fewer bits at equal quality) against the **float model** (the PyTorch "
      "model at the same step, rate estimated from the likelihoods, the rows of "
      "`models/results/kodak-float.csv` for the same images and qualities) "
      "and against the **default export** (w8 a16). *Size*: the model file, "
      "and *packed*: the file with each convolution's int8 weights packed at "
      "the layer's bit width (everything else as stored). *MACs*: "
      "multiply–accumulates of the convolutions of g_a, h_a, h_s and g_s (each "
      "once) for one 768×512 image, grouped by operand width "
      "*weight bits × activation bits*, where the activation width is the "
      "width of the layer's actual integer input range (two's complement; "
      "`u` marks a non-negative range, e.g. ReLU outputs and pixels, counted "
      "unsigned). *BOPs*: Σ MACs × weight bits × activation bits, relative to "
      "the default export. GDN/IGDN add "
      f"{_g(ref['norm_macs'])} G γ·x² products (15-bit × 15-bit) per image in "
      "every configuration; they are not in the MAC columns.")
    w("")
    w("## Summary")
    w("")
    for line in findings(cfgs, s.get("qat") or {}):
        w(f"- {line}")
    w("")
    w("## Results")
    w("")
    w("| configuration | BD-rate vs float (PSNR) | vs default (PSNR) | vs default (MS-SSIM) "
      "| file (bytes) | packed (bytes) | weights packed (bytes) | conv MACs (G) | BOPs "
      "(rel.) | all multipliers 2^e |")
    w("|---|---:|---:|---:|---:|---:|---:|---:|---:|:-:|")
    for c in cfgs:
        st = c["stats"]
        bf = c.get("bd_float") or (None, None)
        bd = c.get("bd_default") or (None, None)
        w(f"| {c['label']} | {_p(bf[0])} | {_p(bd[0])} | {_p(bd[1])} | "
          f"{_kb(st['file_bytes'])} | {_kb(st['packed_bytes'])} | "
          f"{_kb(st['weight_bytes_packed'])} | {_g(st['conv_macs'])} | "
          f"{st['bops'] / ref['bops']:.3f} | {'yes' if st['all_mult_pow2'] else 'no'} |")
    w("")
    w("“—”: the curves do not overlap in PSNR (no BD-rate). Weights are "
      f"{_kb(ref['weights'])} convolution parameters in every configuration.")
    w("")
    for gkey, title, keys in groups:
        w(f"### {title}")
        w("")
        w(f"![{title}]({rel}/rd-{gkey}.png)")
        w("")
        w(f"([SVG]({rel}/rd-{gkey}.svg); the float model's curve is the reference "
          "in every plot)")
        w("")
    w("## MACs by operand width")
    w("")
    w("Per 768×512 image, in G (10⁹) multiply–accumulates, *weight bits × "
      "activation bits* of the actual integer ranges:")
    w("")
    w("| configuration | MACs by width (G) |")
    w("|---|---|")
    for c in cfgs:
        m = c["stats"]["macs"]
        w(f"| {c['label']} | " + ", ".join(f"{k}: {_g(v)}" for k, v in m.items()) + " |")
    w("")
    if s.get("qat"):
        q = s["qat"]
        w("## Learned ranges (QAT)")
        w("")
        w(f"Two short quantization-aware fine-tuning runs (`python -m fxic.qat`, "
          f"{q['bits']}-bit weights, {q['steps']} steps of batch "
          f"{q['schedule']['batch']} × {q['schedule']['crop']}² crops, schedule entries "
          f"{', '.join(q['set'])}; written to a temporary directory) start from the "
          "same stage-1 checkpoint with every weight range at its channel's peak. "
          f"They differ only in the ranges: one learns them (lr_range = {q['lr_range']:g}, "
          "the LSQ gradient), the other keeps them at the initial peaks (lr_range = 0). "
          "Each is exported with its own ranges (exactly the integers its "
          "simulation ran); the learned run's weights are also exported with "
          "peak ranges. Fine-tuning also trains the weights further, so both QAT "
          "curves differ from the post-training ones by more than the ranges; the "
          "range choice itself is the difference between the two QAT runs.")
        w("")
    if s.get("search"):
        sr, sens = s["search"], s["sensitivity"]
        w("## Per-layer sensitivity")
        w("")
        w(f"BD-rate on PSNR against the default export when only one layer "
          f"changes, on {len(s['sens_images'])} images ({', '.join(s['sens_images'])}) "
          f"at qualities {s['sens_qualities']}. Weight columns lower the "
          "convolution's weights; activation columns lower the bits of the "
          "activation the layer produces (`+1`: with one more fractional bit, "
          "half the range). Network outputs (g_a.6, h_a.2, h_s.4, g_s.9) have "
          "fixed formats. Single measurements on the subset scatter: the lowest "
          f"value in the table is {_f(min(v[0] for v in sens['loss'].values() if v and v[0] is not None))} %, "
          "and losses are not additive, so the search measures what it picks.")
        w("")
        wcols = [f"w{b}" for b in SENS_WEIGHT_BITS]
        acols = [f"a{b}" + (f"+{k}" if k else "") for b, k in SENS_ACT]
        w("| layer | " + " | ".join(wcols + acols) + " |")
        w("|---|" + "---:|" * (len(wcols) + len(acols)))
        names = []
        for n in sens["convs"] + sens["hidden"]:
            if n not in names:
                names.append(n)
        for n in sorted(names, key=_layer_key):
            cells = []
            for col in wcols + acols:
                v = sens["loss"].get(f"{n}:{col}")
                cells.append("" if v is None and f"{n}:{col}" not in sens["loss"]
                             else _f(v[0] if v else None))
            w(f"| {n} | " + " | ".join(cells) + " |")
        w("")
        searched = next(c for c in cfgs if c["key"] == "searched")
        st = searched["stats"]
        opts = searched["options"]
        w("## Search: per-layer bit widths within the target")
        w("")
        w(f"Target: BD-rate loss ≤ {sr['target']:g} % (PSNR) against the default "
          f"export. The greedy order has {len(sr['sequence'])} moves; the "
          f"single-layer losses summed stay within the target for the first "
          f"{sr['predicted_prefix']}; measured on the subset "
          "(prefix length: BD-rate; “—”: no overlap) " + ", ".join(
              f"{k}: {_p(v)}" for k, v in sr["tried"].items() if k != "0") +
          f"; chosen: the first **{sr['prefix']}** moves ({_f(sr['subset_loss'])} % on "
          f"the subset). On the full study set: **{_p((searched.get('bd_default') or [None])[0])}** "
          f"vs the default export, {_p((searched.get('bd_float') or [None])[0])} vs float.")
        w("")
        w(f"Chosen configuration: file {_kb(st['file_bytes'])} bytes, packed "
          f"{_kb(st['packed_bytes'])} bytes (weights {_kb(st['weight_bytes_packed'])} "
          f"vs {_kb(ref['weight_bytes_packed'])} at 8 bits), BOPs "
          f"{st['bops'] / ref['bops']:.3f} of the default, activation bits written "
          f"{st['act_bits'] / ref['act_bits']:.3f} of the default. Export it with")
        w("")
        w("```sh")
        w("cd models && /usr/bin/python3 -m fxic.export -o searched.fxm " +
          cli_args(QuantOptions.from_dict(opts)))
        w("```")
        w("")
        acts = {a["name"]: a for a in st["activations"]}
        dacts = {a["name"]: a for a in ref["activations"]}
        w("| layer | op | weight bits | input width | MACs (G) | output activation: bits "
          "(configured) | range shift | integer range | scale | default integer range |")
        w("|---|---|---:|---|---:|---:|---:|---|---|---|")
        for l in st["layers"]:
            n = l["name"]
            a = acts.get(n)
            da = dacts.get(n)
            if l["op"] == "conv":
                wcell, icell, mcell = str(l["weight_bits"]), l["width"], _g(l["macs"])
            else:
                wcell, icell, mcell = "—", "—", "—"
            if a is not None:
                cb = opts["layer_act_bits"].get(n, opts["act_bits"])
                acell = f"{a['bits']} ({cb})"
                scell = str(opts["act_shift"].get(n, 0))
                rcell = f"[{a['range'][0]}, {a['range'][1]}]"
                fcell = f"2^−{a['frac_bits']:.2f}"
                dcell = f"[{da['range'][0]}, {da['range'][1]}]"
            else:
                acell = scell = fcell = dcell = "fixed"
                rcell = f"[{l['out_range'][0]}, {l['out_range'][1]}]"
            w(f"| {n} | {l['op']} | {wcell} | {icell} | {mcell} | {acell} | {scell} | "
              f"{rcell} | {fcell} | {dcell} |")
        w("")
        w("The greedy order (each move: layer → level, its single-layer loss, cost "
          "after the move relative to the default; the cost is the mean of the "
          "BOPs, weight-bit and activation-bit ratios):")
        w("")
        w("| # | layer | level | single-layer loss | cost | predicted loss |")
        w("|---:|---|---|---:|---:|---:|")
        for i, m in enumerate(sr["sequence"][:max(sr["prefix"], sr["predicted_prefix"]) + 5]):
            lv = m["level"]
            lv = (f"a{lv[0]}" + (f"+{lv[1]}" if lv[1] else "")) if isinstance(lv, list) \
                else f"w{lv}"
            mark = " **(chosen)**" if i + 1 == sr["prefix"] else ""
            w(f"| {i + 1} | {m['layer'][2:]} | {lv}{mark} | {_f(m['loss'])} % | {m['cost']:.3f} | "
              f"{_f(m['predicted'])} % |")
        w("")
    w("## Cost of the run")
    w("")
    w("One thread, `nice -n 19`, beside other jobs on the machine (wall time "
      "depends on them; CPU time is the study's own, children included):")
    w("")
    w("| phase | wall (min) | CPU (min) |")
    w("|---|---:|---:|")
    for name, wall, cpu in s["timing"]:
        w(f"| {name} | {wall / 60:.1f} | {cpu / 60:.1f} |")
    w("")
    npts = len(s["images"]) * len(s["qualities"].split(","))
    n_main = len([c for c in cfgs if c["key"] != "searched"])
    ph = next((t for t in s["timing"] if "configurations" in t[0]), None)
    if ph is not None:
        w(f"A configuration on the study set (one export, then {npts} encode + decode "
          f"+ metric points at 768×512) took {ph[2] / n_main:.0f} s of CPU on average"
          + (f"; a single-layer sensitivity export on the subset "
             f"{next(t for t in s['timing'] if t[0].startswith('sensitivity'))[2] / (len(s['sensitivity']['loss']) + 1):.1f} s"
             if s.get("sensitivity") else "") +
          ". The image and quality sets bound the run's cost; the sensitivity "
          "subset keeps the many single-layer exports cheap.")
        w("")
    w("Options: `python -m fxic.bitwidth --help` (`--images`, `--qualities`, "
      "`--sens-images`, `--target`, `--no-search`, `--qat-bits 0` to skip the QAT "
      "run, `--reuse` to keep curves whose model id matches, `--report-only` to "
      "redraw the plots, recompute the BD-rates from the stored curves and rewrite "
      "this page).")
    w("")
    path.write_text("\n".join(L))


def findings(cfgs: list[dict], qat_info: dict) -> list[str]:
    """Short statements computed from the results (BD-rates on PSNR)."""
    by = {c["key"]: c for c in cfgs}

    def bd(key: str, which: str = "bd_default") -> Optional[float]:
        c = by.get(key)
        v = c.get(which) if c else None
        return v[0] if v else None

    def pct(v: Optional[float]) -> str:
        return "no overlap" if v is None else f"{_f(v)} %"

    out = []
    ref = by["w8a16"]["stats"]
    d = bd("w8a16", "bd_float")
    out.append(f"The default export (8-bit weights, 16-bit activations) is {pct(d)} "
               "against the float model.")
    ws = [(b, bd(f"w{b}a16")) for b in (7, 6, 5, 4) if f"w{b}a16" in by]
    ok = [b for b, v in ws if v is not None and v <= 1.0]
    out.append("Weight bits (activations 16): " + ", ".join(
        f"w{b} {pct(v)}" for b, v in ws) + " against the default export; "
        + (f"the narrowest global width within 1 % is {min(ok)} bits "
           f"(weights packed {_kb(by[f'w{min(ok)}a16']['stats']['weight_bytes_packed'])} "
           f"instead of {_kb(ref['weight_bytes_packed'])} bytes)."
           if ok else "no global width below 8 stays within 1 %."))
    as_ = [(b, bd(f"w8a{b}")) for b in (14, 12, 10, 8) if f"w8a{b}" in by]
    ok = [b for b, v in as_ if v is not None and v <= 1.0]
    out.append("Activation bits (weights 8): " + ", ".join(
        f"a{b} {pct(v)}" for b, v in as_) + "; " +
        (f"the narrowest global width within 1 % is {min(ok)} bits."
         if ok else "no global width below 16 stays within 1 %."))
    if "w8a16-tensor" in by:
        out.append(f"Per-tensor instead of per-channel weight ranges: {pct(bd('w8a16-tensor'))} "
                   f"at 8 bits; at 4 bits {pct(bd('w4a16-tensor'))} against "
                   f"{pct(bd('w4a16'))} for per-channel (both against the default export).")
    stds = [(k, bd(f"w4a16-std{k}")) for k in (2, 3, 4) if f"w4a16-std{k}" in by]
    if stds:
        out.append("4-bit weight ranges from statistics: peak " + pct(bd("w4a16")) + ", "
                   + ", ".join(f"{k}·std {pct(v)}" for k, v in stds) + ".")
    qb = qat_info.get("bits")
    if qb and f"w{qb}a16-qat-learned" in by:
        out.append(f"QAT, {qat_info['steps']} steps at {qb} bits: learned ranges "
                   f"{pct(bd(f'w{qb}a16-qat-learned'))}, ranges frozen at the peaks "
                   f"{pct(bd(f'w{qb}a16-qat-frozen'))}, the learned run's weights with peak "
                   f"ranges {pct(bd(f'w{qb}a16-qat-peak'))} (post-training with peak ranges: "
                   f"{pct(bd(f'w{qb}a16'))}).")
    better = [(c["label"], bd(c["key"])) for c in cfgs
              if c["key"] not in ("w8a16", "searched") and c["source"] == "stage1"
              and bd(c["key"]) is not None and bd(c["key"]) < 0]
    if better:
        out.append("Some reduced-precision post-training exports measure slightly better "
                   "than the default one (" + ", ".join(f"{n} {pct(v)}" for n, v in better)
                   + "): rounding moves rate and distortion in either direction, so "
                   "differences of this size do not rank configurations.")
    if "w8a16-pow2" in by:
        out.append("Shift-only rescaling (every multiplier 2^e) against M0·2^−n: "
                   f"w8 a16 {pct(bd('w8a16-pow2'))} vs {pct(bd('w8a16'))}, "
                   f"w8 a8 {pct(bd('w8a8-pow2'))} vs {pct(bd('w8a8'))}, "
                   f"w4 a16 {pct(bd('w4a16-pow2'))} vs {pct(bd('w4a16'))}.")
    if "searched" in by:
        st = by["searched"]["stats"]
        out.append(f"The per-layer search (target in the section below): "
                   f"{pct(bd('searched'))} on the full study set, BOPs "
                   f"{st['bops'] / ref['bops']:.3f} and packed weights "
                   f"{st['weight_bytes_packed'] / ref['weight_bytes_packed']:.3f} of the default.")
    return out


def _layer_key(n: str) -> tuple:
    net, i = n.split(".")
    return ("g_a", "h_a", "h_s", "g_s").index(net), int(i)


def cli_args(o: QuantOptions) -> str:
    parts = []
    if o.weight_bits != 8:
        parts.append(f"--weight-bits {o.weight_bits}")
    if o.layer_weight_bits:
        parts.append("--layer-weight-bits " + ",".join(
            f"{k}={v}" for k, v in sorted(o.layer_weight_bits.items(), key=lambda kv: _layer_key(kv[0]))))
    if o.act_bits != 16:
        parts.append(f"--act-bits {o.act_bits}")
    if o.layer_act_bits:
        parts.append("--layer-act-bits " + ",".join(
            f"{k}={v}" for k, v in sorted(o.layer_act_bits.items(), key=lambda kv: _layer_key(kv[0]))))
    if o.act_shift:
        parts.append("--act-shift " + ",".join(
            f"{k}={v}" for k, v in sorted(o.act_shift.items(), key=lambda kv: _layer_key(kv[0]))))
    if o.granularity == "tensor":
        parts.append("--per-tensor")
    if o.weight_range == "std":
        parts.append(f"--weight-range std --std-k {o.std_k:g}")
    if o.pow2:
        parts.append("--shift-only")
    return " ".join(parts)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", type=Path,
                    default=MODELS_DIR / "checkpoint" / "hyperprior.pt",
                    help="stage-1 checkpoint (the study's input)")
    ap.add_argument("--checkpoint-label", default=None,
                    help="how the page names the checkpoint (default: its path)")
    ap.add_argument("--fxic", type=Path, default=REPO / "build" / "apps" / "fxic")
    ap.add_argument("--images", default="all",
                    help="Kodak images of the study set, e.g. kodim01,kodim05 (default all 24)")
    ap.add_argument("--qualities", default=DEFAULT_QUALITIES,
                    help=f"qualities of the study set (default {DEFAULT_QUALITIES})")
    ap.add_argument("--sens-images", default=SENS_IMAGES,
                    help=f"subset for the sensitivity and search (default {SENS_IMAGES})")
    ap.add_argument("--sens-qualities", default=SENS_QUALITIES,
                    help=f"qualities of that subset (default {SENS_QUALITIES})")
    ap.add_argument("--sens-layers", default="",
                    help="measure only these layers (comma-separated; default all)")
    ap.add_argument("--target", type=float, default=1.0,
                    help="search target: BD-rate loss (PSNR, %%) vs the default export")
    ap.add_argument("--no-search", action="store_true",
                    help="skip the sensitivity analysis and the search")
    ap.add_argument("--qat-bits", type=int, default=4,
                    help="weight bits of the short QAT run for learned ranges (0: none)")
    ap.add_argument("--qat-steps", type=int, default=150,
                    help="steps of each QAT run (default 150)")
    ap.add_argument("--qat-minutes", type=float, default=90.0,
                    help="wall-clock cap of each QAT run (a safety net: the runs should "
                         "stop at --qat-steps)")
    ap.add_argument("--qat-lr-range", type=float, default=0.01,
                    help="learning rate of the log weight ranges in the learned run")
    ap.add_argument("--qat-set", action="append",
                    default=None, metavar="KEY=VALUE",
                    help="fxic.qat schedule entries of both runs (default: batch=2 warmup=10)")
    ap.add_argument("--work-dir", type=Path,
                    default=Path(tempfile.gettempdir()) / "fxic-bitwidth",
                    help="exported models, subset curves, the QAT checkpoint")
    ap.add_argument("--reuse", action="store_true",
                    help="keep curves (and the QAT run) whose model id and settings match")
    ap.add_argument("--out-dir", type=Path, default=REPO / "docs" / "bitwidth")
    ap.add_argument("--doc", type=Path, default=REPO / "docs" / "bitwidth.md")
    ap.add_argument("--report-only", action="store_true",
                    help="only recompute BD-rates and plots from the stored curves and "
                         "rewrite the page (from OUT_DIR/summary.json)")
    ap.add_argument("--command", default=None,
                    help="the command line the page quotes (default: this one)")
    args = ap.parse_args(argv)
    from .heap import keep_heap
    keep_heap()
    if args.qat_set is None:
        args.qat_set = ["batch=2", "warmup=10"]
    if args.qat_bits and not 4 <= args.qat_bits <= 8:
        ap.error("--qat-bits must be 0 or 4..8")
    if not args.fxic.is_file():
        ap.error(f"no fxic binary at {args.fxic} (build it, or --fxic)")
    if args.command is None:
        args.command = "cd models && /usr/bin/python3 -m fxic.bitwidth " + " ".join(
            sys.argv[1:] if argv is None else argv)
    if args.report_only:
        report_only(args)
    else:
        Study(args).main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
