"""Export a trained float model to the integer model format (docs/model-format.md).

    cd models && /usr/bin/python3 -m fxic.export -o default.fxm      (from checkpoint/hyperprior.pt)
    cd models && /usr/bin/python3 -m fxic.export --qat checkpoint/hyperprior-qat.pt -o default.fxm

Post-training quantization of the stage-1 model: every activation's integer
format comes from its training clip range (activation range pre-processing)
and the largest integer range the consumer's overflow proof allows; weights
get per-output-channel ranges at `--weight-bits` and are rounded with error
compensation (calibrate.py; `--rounding nearest` rounds each weight on its
own); GDN/IGDN become integer range-dependent normalization; gains,
Gaussian CDF tables per scale index and the factorized prior's CDFs are
integers. The result passes every loader check
(intref.check_model) or is not written.

With --qat, the model is a stage-2 checkpoint (fxic.qat): the same code
assigns the formats and quantizes, with the learned per-channel weight ranges
in place of the peaks, so the file holds exactly the integers the QAT
simulation ran (`Exporter.plan` is the one definition both use).

Bit widths and quantization choices (quantize.QuantOptions; the defaults give
the original export byte for byte; docs/bitwidth.md has the study that uses
them): weight bits 2..8 and hidden-activation bits 8..16, globally and per
layer (`--list-layers` names them), per-activation range shifts (more
fractional bits, saturating), per-tensor weight ranges, ranges from k·std,
and shift-only rescaling (every multiplier an exact power of two):

    /usr/bin/python3 -m fxic.export -o w6.fxm --weight-bits 6 --layer-weight-bits g_s.9=8
    /usr/bin/python3 -m fxic.export -o a8.fxm --act-bits 8 --shift-only
    /usr/bin/python3 -m fxic.export -o t.fxm --weight-bits 4 --per-tensor --weight-range std --std-k 3
    /usr/bin/python3 -m fxic.export -o q.fxm --qat qat4.pt --weight-range peak   (QAT weights, peak ranges)
"""
from __future__ import annotations

import argparse
import dataclasses
import math
import sys
from pathlib import Path
from typing import Callable, Optional

import numpy as np
import torch

from . import cdf
from .intref import check_model
from .modelfile import write_model
from .net import GDN, Clip, Config, HyperpriorModel, SubPixelConv
from .train import export_weights
from .quantize import (MAX, QuantOptions, parse_layer_ints, peak_weight_scale, pow2_snap,
                       quantize_conv, quantize_norm, quantize_weights, weight_scale)

MODELS_DIR = Path(__file__).resolve().parents[1]
INT32_MAX = (1 << 31) - 1
SIGMA_FRAC_BITS = 7       # σ ≤ 256 at 2^−7
PIXEL_FRAC_BITS = 6       # x̂ ∈ [−1, 2] → [−16320, 32640]
NUM_SCALES, SCALE_LO, SCALE_HI = 64, 0.11, 256.0


def load_float_model(path: Path) -> tuple[HyperpriorModel, dict]:
    ck = torch.load(path, map_location="cpu")
    cfg = Config.from_dict(ck["config"])
    model = HyperpriorModel(cfg)
    model.load_state_dict(export_weights(ck))
    model.eval()
    return model, ck


# A weight-scale provider: (qualified module name, conv) → s_w per output
# channel, or None for the post-training peak scale. QAT passes its learned
# ranges; None everywhere is plain post-training quantization.
WeightScaleFn = Optional[Callable[[str, torch.nn.Conv2d], Optional[np.ndarray]]]


def conv_weights(conv: torch.nn.Conv2d, weight_bits: int, s_w: Optional[np.ndarray] = None):
    """[cout, K, K, cin] float64 weights, bias, the per-channel weight scale
    (peak_weight_scale unless given) and the integer weights' L1 per channel."""
    w = conv.weight.detach().double().numpy().transpose(0, 2, 3, 1)
    b = conv.bias.detach().double().numpy()
    if s_w is None:
        s_w = peak_weight_scale(w, weight_bits)
    s_w = np.asarray(s_w, np.float64)
    l1 = np.abs(quantize_weights(w, s_w, weight_bits).astype(np.int64)).reshape(
        w.shape[0], -1).sum(axis=1)
    return w, b, s_w, l1


def max_input_range(conv: torch.nn.Conv2d, clip: float, weight_bits: int,
                    s_w: Optional[np.ndarray] = None) -> int:
    """Largest integer input bound A (≤ 32767) for which the conv's int32
    accumulator provably cannot overflow when the input's real range is ±clip:
    |b|·A/(s_w·clip) + A·L1 ≤ 2^31 − 1 per output channel (with a margin for
    the bias's rounding)."""
    _, b, s_w, l1 = conv_weights(conv, weight_bits, s_w)
    per_a = l1 + np.abs(b) / (s_w * clip)
    return int(min(MAX, math.floor((INT32_MAX - 2) / per_a.max())))


def conv_proof_holds(conv: torch.nn.Conv2d, s_in: float, a: int, weight_bits: int,
                     s_w: Optional[np.ndarray] = None) -> bool:
    """The loader's overflow proof for `conv` reading integers in ±a at scale
    s_in: |bias_int| + a·Σ|w_int| ≤ 2^31 − 1 for every output channel."""
    _, b, s_w, l1 = conv_weights(conv, weight_bits, s_w)
    bq = np.abs(np.rint(b / (s_w * s_in)))
    return bool(np.all(bq + a * l1.astype(np.float64) <= INT32_MAX))


def activation_format(lo: float, hi: float, consumer: Optional[torch.nn.Conv2d],
                      weight_bits: int, s_w: Optional[np.ndarray] = None,
                      act_bits: int = 16, pow2: bool = False
                      ) -> tuple[float, int, int]:
    """The integer format of an activation clipped to [lo, hi] (real): its
    scale s = c / A with c = max(|lo|, |hi|) and A the largest input bound the
    consumer convolution's overflow proof allows (32767 when the consumer is
    not a convolution), and its integer range [ceil(lo / s), floor(hi / s)].

    act_bits < 16 caps A at 2^(act_bits − 1) − 1. pow2: s is the smallest
    power of two with c / s ≤ A + 1 (values within one step of the clip
    saturate at ±A), doubled while the consumer's overflow proof would fail.

    The one definition of activation formats, used by the exporter and by
    quantization-aware training (qat.py)."""
    c = max(abs(lo), abs(hi))
    a = MAX if consumer is None else max_input_range(consumer, c, weight_bits, s_w)
    if act_bits < 16:
        a = min(a, (1 << (act_bits - 1)) - 1)
    if not pow2:
        s = c / a
        ilo = max(int(math.ceil(lo / s - 1e-9)), -MAX)
        ihi = min(int(math.floor(hi / s + 1e-9)), MAX)
        return s, ilo, ihi
    s = 2.0 ** math.ceil(math.log2(c / (a + 1)) - 1e-12)
    while True:
        ilo = max(int(math.ceil(lo / s - 1e-9)), -a)
        ihi = min(int(math.floor(hi / s + 1e-9)), a)
        if consumer is None or conv_proof_holds(consumer, s, max(-ilo, ihi), weight_bits, s_w):
            return s, ilo, ihi
        s *= 2.0


def _conv_of(m: torch.nn.Module) -> Optional[torch.nn.Conv2d]:
    if isinstance(m, SubPixelConv):
        return m.conv
    return m if isinstance(m, torch.nn.Conv2d) else None


NETWORKS = ("g_a", "h_a", "h_s", "g_s")


def _pairs(seq: torch.nn.Sequential) -> list[tuple[torch.nn.Module, Optional[Clip]]]:
    """(layer, the Clip after it or None) for a network's Sequential."""
    mods = list(seq)
    layers = []
    k = 0
    while k < len(mods):
        m = mods[k]
        clip = mods[k + 1] if k + 1 < len(mods) and isinstance(mods[k + 1], Clip) else None
        layers.append((m, clip))
        k += 2 if clip is not None else 1
    return layers


def layer_table(model: HyperpriorModel) -> list[dict]:
    """Every integer layer in model-file order: name (`<net>.<i>`), op
    ("conv" or "norm"), module, conv (or None), `hidden`: whether its
    output is a hidden activation (a format QuantOptions' activation bits
    and range shifts apply to) rather than a network's output, its training
    clip (lo, hi) and `next`, the convolution that reads it (None for a
    GDN/IGDN or a network output)."""
    out = []
    for net in NETWORKS:
        pairs = _pairs(getattr(model, net))
        idx = 0
        for j, (m, clip) in enumerate(pairs):
            conv = _conv_of(m)
            out.append({"name": f"{net}.{idx}", "net": net, "module": m, "conv": conv,
                        "op": "conv" if conv is not None else "norm",
                        "hidden": clip is not None and j < len(pairs) - 1,
                        "clip": (clip.lo, clip.hi) if clip is not None else None,
                        "next": _conv_of(pairs[j + 1][0]) if j + 1 < len(pairs) else None})
            idx += 2 if isinstance(m, SubPixelConv) else 1
    return out


class Exporter:
    """Assigns every integer format and quantizes every layer (`plan`), then
    adds the entropy tables and metadata (`build`).

    `plan` is shared with quantization-aware training: qat.py runs its
    integer simulation on exactly the integers and formats recorded in
    `self.layers` and `self.formats`, so an exported QAT model is what the
    training simulated.
    """

    def __init__(self, model: HyperpriorModel, weight_bits: Optional[int] = None,
                 weight_scale: WeightScaleFn = None,
                 options: Optional[QuantOptions] = None,
                 fixed_scales: Optional[dict] = None):
        """weight_bits: the global weight bit width (overrides options');
        weight_scale: learned per-channel scales at that width (QAT); options:
        the bit widths and quantization choices (defaults: the original
        export); fixed_scales: layer name → the final per-channel weight
        scale of that convolution, used as is (calibrated rounding keeps the
        grid the first export chose)."""
        opts = options if options is not None else QuantOptions()
        if weight_bits is not None and weight_bits != opts.weight_bits:
            opts = dataclasses.replace(opts, weight_bits=weight_bits)
        self.fixed_scales = fixed_scales or {}
        if weight_scale is None and opts.weight_range == "learned" and not fixed_scales:
            raise ValueError("learned weight ranges need a QAT checkpoint")
        if weight_scale is not None and opts.weight_range == "std":
            raise ValueError("k·std weight ranges replace learned ones; export the QAT "
                             "weights without their ranges instead")
        if weight_scale is not None and opts.granularity != "channel":
            raise ValueError("learned weight ranges are per channel")
        self.opts = opts
        self.model, self.cfg, self.wb = model, model.cfg, opts.weight_bits
        self.weight_scale = weight_scale
        self.names = {m: n for n, m in model.named_modules()}
        self.table = layer_table(model)
        self.lname = {}
        for r in self.table:
            self.lname[r["module"]] = r["name"]
            if r["conv"] is not None:
                self.lname[r["conv"]] = r["name"]
        conv_names = {r["name"] for r in self.table if r["conv"] is not None}
        hidden = {r["name"] for r in self.table if r["hidden"]}
        for what, keys, valid in (("weight bits", opts.layer_weight_bits, conv_names),
                                  ("activation bits", opts.layer_act_bits, hidden),
                                  ("activation range shift", opts.act_shift, hidden)):
            bad = sorted(set(keys) - valid)
            if bad:
                raise ValueError(f"{what}: no such layer {', '.join(bad)} (valid: "
                                 f"{', '.join(r['name'] for r in self.table if r['name'] in valid)})")
        # Weight-scale grid of shift-only rescaling: s_w·s_in/s_out must be a
        # power of two; g_a.0 reads pixels at 1/255 and g_s's last layer
        # writes pixels·2^−f_x/255, so their grids carry the factor 255.
        self.unit = {model.g_a[0]: 255.0, _conv_of(model.g_s[-2]): 1.0 / 255.0}
        self.meta: dict = {}
        self.tensors: dict = {}
        # Per network, one record per integer layer (conv or normalization):
        # module, op, d2s, s_in, s_out, lo, hi, s_w (conv), fields, tensors.
        self.layers: dict[str, list[dict]] = {}
        self.formats: dict = {}

    def wbits(self, conv: torch.nn.Conv2d) -> int:
        """Weight bit width of a convolution."""
        return self.opts.wbits(self.lname[conv])

    def s_w(self, conv: torch.nn.Conv2d) -> Optional[np.ndarray]:
        """Weight scale per output channel, or None for the post-training
        peak scale (the default path)."""
        o, b = self.opts, self.wbits(conv)
        if self.lname[conv] in self.fixed_scales:
            return np.asarray(self.fixed_scales[self.lname[conv]], np.float64)
        s = None
        if self.weight_scale is not None:
            s = self.weight_scale(self.names[conv], conv)
            if s is not None and b != self.wb:     # same real range at this width
                s = np.asarray(s, np.float64) * (((1 << (self.wb - 1)) - 1) /
                                                 ((1 << (b - 1)) - 1))
        elif o.weight_range != "peak" or o.granularity != "channel":
            w = conv.weight.detach().double().numpy().transpose(0, 2, 3, 1)
            s = weight_scale(w, b, o.weight_range, o.granularity, o.std_k)
        if o.pow2:
            if s is None:
                w = conv.weight.detach().double().numpy().transpose(0, 2, 3, 1)
                s = peak_weight_scale(w, b)
            if o.granularity == "tensor":
                s = np.full_like(np.asarray(s, np.float64), float(np.max(s)))
            s = pow2_snap(s, self.unit.get(conv, 1.0))
        return s

    def act_format(self, name: str, lo: float, hi: float,
                   consumer: Optional[torch.nn.Conv2d]) -> tuple[float, int, int]:
        """Format of the hidden activation `name` produces (QuantOptions'
        bits, range shift and rescaling applied)."""
        o = self.opts
        k = o.ashift(name)
        if k:
            lo, hi = lo / 2.0 ** k, hi / 2.0 ** k
        if consumer is None:
            return activation_format(lo, hi, None, self.wb, None, o.abits(name), o.pow2)
        return activation_format(lo, hi, consumer, self.wbits(consumer),
                                 self.s_w(consumer), o.abits(name), o.pow2)

    def add_layer(self, net: str, i: int, fields: dict, tensors: dict | None = None):
        for k, v in fields.items():
            self.meta[f"{net}.{i}.{k}"] = v
        for k, v in (tensors or {}).items():
            self.tensors[f"{net}.{i}.{k}"] = v

    def network(self, name: str, seq: torch.nn.Sequential, s_in: float,
                in_max: int, out_format=None) -> tuple[float, int]:
        """Quantizes a Sequential of (conv | SubPixelConv | GDN) each followed
        by a Clip. Returns the output's (scale, integer bound).

        out_format: (scale or per-channel scales, lo, hi) for the last layer
        instead of the clip-derived format."""
        layers = _pairs(seq)  # (module, clip or None)
        idx = 0
        records = self.layers.setdefault(name, [])
        for j, (m, clip) in enumerate(layers):
            last = j == len(layers) - 1
            nxt = layers[j + 1][0] if not last else None
            conv = _conv_of(m)
            lname = f"{name}.{idx}"
            if clip is not None:
                nconv = _conv_of(nxt) if nxt is not None else None
                s_out, lo, hi = self.act_format(lname, clip.lo, clip.hi, nconv)
            if last and out_format is not None:
                s_out, lo, hi = out_format
            rec = {"module": m, "s_in": s_in, "in_max": in_max, "s_out": s_out,
                   "lo": lo, "hi": hi, "d2s": False, "name": lname,
                   "hidden": not (last and out_format is not None)}
            if isinstance(m, GDN):
                gamma = m.gamma().detach().double().numpy()
                beta = m.beta().detach().double().numpy()
                fields, t = quantize_norm(gamma, beta, s_in, s_out, in_max, lo, hi,
                                          inverse=m.inverse, pow2=self.opts.pow2)
                self.add_layer(name, idx, fields, t)
                idx += 1
            else:
                wb = self.wbits(conv)
                w, b, s_w, _ = conv_weights(conv, wb, self.s_w(conv))
                fields, t = quantize_conv(w, b, s_in, s_out, conv.stride[0], lo, hi,
                                          weight_bits=wb, s_w=s_w, pow2=self.opts.pow2)
                self.add_layer(name, idx, fields, t)
                idx += 1
                rec.update(conv=conv, s_w=s_w, weight_bits=wb)
                if isinstance(m, SubPixelConv):
                    self.add_layer(name, idx, {"op": "d2s"})
                    idx += 1
                    rec["d2s"] = True
            rec.update(op=fields["op"], fields=fields, tensors=t)
            records.append(rec)
            s_in = s_out if np.isscalar(s_out) else None
            in_max = max(abs(lo), abs(hi))
        self.meta[f"{name}.layers"] = idx
        return s_in, in_max

    def plan(self) -> dict:
        """Every format and every layer's integers (no entropy tables).

        Returns self.formats: f_y, f_z, z_max, yg_hi, s_y, s_gs, a_gs,
        gain_shift, inv_gain_shift, pixel_frac_bits, sigma_frac_bits and the
        integer gain tables; self.layers holds the per-layer records."""
        cfg, model = self.cfg, self.model
        gains = model.log_gain.detach().double().exp().numpy()       # [L, M]
        M = cfg.M

        # y_g = y·gain at 2^−f_y: large enough for the top gain, small enough
        # for h_a's first convolution to be provably overflow-free.
        yg_max = cfg.clip_y * float(gains.max())
        a_ha = max_input_range(model.h_a[0], yg_max, self.wbits(model.h_a[0]),
                               self.s_w(model.h_a[0]))
        f_y = int(math.floor(math.log2(min(MAX, a_ha) / yg_max)))
        if f_y < 0:
            raise ValueError(f"latent range ±{yg_max:.1f} leaves no fractional bits")
        yg_hi = int(math.floor(yg_max * 2 ** f_y))
        f_z = int(math.floor(math.log2(MAX / cfg.clip_z)))
        z_max = int(cfg.clip_z)
        # ŷ/gain: y's clip plus half a quantization step at the smallest gain.
        gs_max = cfg.clip_y + 0.5 / float(gains.min())
        gs_conv = model.g_s[0].conv
        if self.opts.pow2:
            # Power-of-two scale of the g_s input (and of y below).
            s_gs, _, a_gs = activation_format(-gs_max, gs_max, gs_conv, self.wbits(gs_conv),
                                              self.s_w(gs_conv), pow2=True)
            y_format = (2.0 ** math.ceil(math.log2(cfg.clip_y / (MAX + 1)) - 1e-12), -MAX, MAX)
        else:
            a_gs = max_input_range(gs_conv, gs_max, self.wbits(gs_conv), self.s_w(gs_conv))
            s_gs = gs_max / a_gs
            y_format = (cfg.clip_y / MAX, -MAX, MAX)

        s_y, y_max = self.network("g_a", model.g_a, 1.0 / 255.0, 255, out_format=y_format)
        _, _ = self.network("h_a", model.h_a, 2.0 ** -f_y, yg_hi,
                            out_format=(2.0 ** -f_z, -(z_max << f_z), z_max << f_z))
        s_params = np.concatenate([np.full(M, 2.0 ** -f_y), np.full(M, 2.0 ** -SIGMA_FRAC_BITS)])
        self.network("h_s", model.h_s, 1.0, z_max, out_format=(s_params, -MAX, MAX))
        s_px = 2.0 ** -PIXEL_FRAC_BITS / 255.0
        self.network("g_s", model.g_s, s_gs, a_gs,
                     out_format=(s_px, int(cfg.clip_out_lo * 255) << PIXEL_FRAC_BITS,
                                 min(MAX, int(cfg.clip_out_hi * 255) << PIXEL_FRAC_BITS)))

        # Gains: G = g·s_y·2^f_y·2^shift; inverse: 2^−f_y/(g·s_gs)·2^shift.
        g_real = gains * s_y * 2.0 ** f_y
        gain_shift = min(30, int(math.floor(math.log2(INT32_MAX / g_real.max()))))
        inv_real = 2.0 ** -f_y / (gains * s_gs)
        inv_shift = min(30, int(math.floor(math.log2(INT32_MAX / inv_real.max()))))
        self.tensors["gain.mult"] = np.maximum(np.rint(g_real * 2.0 ** gain_shift), 1).astype(np.int32)
        self.tensors["inv_gain.mult"] = np.maximum(np.rint(inv_real * 2.0 ** inv_shift), 1).astype(np.int32)
        self.formats = {
            "f_y": f_y, "f_z": f_z, "z_max": z_max, "yg_hi": yg_hi, "s_y": s_y,
            "s_gs": s_gs, "a_gs": a_gs, "s_px": s_px, "gain_shift": gain_shift,
            "inv_gain_shift": inv_shift, "pixel_frac_bits": PIXEL_FRAC_BITS,
            "sigma_frac_bits": SIGMA_FRAC_BITS,
            "gain": self.tensors["gain.mult"], "inv_gain": self.tensors["inv_gain.mult"],
        }
        return self.formats

    def build(self, name: str, description: str) -> tuple[dict, dict]:
        cfg, model = self.cfg, self.model
        fm = self.plan()
        L, M, N = model.log_gain.shape[0], cfg.M, cfg.N
        f_y, f_z, z_max, yg_hi, a_gs = (fm[k] for k in ("f_y", "f_z", "z_max", "yg_hi", "a_gs"))

        scales = y_scales()
        (self.tensors["y_cdf.lengths"], self.tensors["y_cdf.offsets"],
         self.tensors["y_cdf.data"]) = cdf.gaussian_tables(scales)
        self.tensors["y_scale.thresholds"] = cdf.scale_thresholds(scales, SIGMA_FRAC_BITS)
        with torch.no_grad():
            v = torch.arange(-z_max, z_max + 1, dtype=torch.float32)
            grid = v.view(1, 1, 1, -1).repeat(1, N, 1, 1)
            p = model.entropy_bottleneck.likelihood(grid)[0, :, 0, :].double().numpy()
        (self.tensors["z_cdf.lengths"], self.tensors["z_cdf.offsets"],
         self.tensors["z_cdf.data"]) = cdf.factorized_tables(list(p), [-z_max] * N)

        self.meta.update({
            "arch": "mean_scale_hyperprior", "name": name, "description": description,
            "N": N, "M": M, "levels": L, "weight_bits": self.opts.max_weight_bits,
            "latent_frac_bits": f_y, "hyper_frac_bits": f_z, "z_max": z_max,
            "gain_shift": fm["gain_shift"], "inv_gain_shift": fm["inv_gain_shift"],
            "yg_lo": -yg_hi, "yg_hi": yg_hi, "gs_in_lo": -a_gs, "gs_in_hi": a_gs,
            "pixel_frac_bits": PIXEL_FRAC_BITS, "pad_multiple": 64,
        })
        check_model(self.meta, self.tensors)
        return self.meta, self.tensors


def y_scales() -> np.ndarray:
    """σ of each Gaussian table (float64, gained domain), index order."""
    return cdf.scale_table(NUM_SCALES, SCALE_LO, SCALE_HI)


def add_options_arguments(ap: argparse.ArgumentParser) -> None:
    """The QuantOptions command-line arguments (also used by fxic.bitwidth)."""
    g = ap.add_argument_group(
        "bit widths and quantization choices (docs/bitwidth.md; the defaults give the "
        "original export)")
    g.add_argument("--layer-weight-bits", action="append", default=[], metavar="LAYER=B",
                   help="weight bits 2..8 of one convolution, e.g. g_s.9=8 (repeatable, "
                        "or comma-separated); others use --weight-bits")
    g.add_argument("--act-bits", type=int, default=16, metavar="B",
                   help="bits 8..16 of every hidden activation of g_a, h_a, h_s, g_s: "
                        "integer bound min(2^(B-1) - 1, the overflow-proof bound) "
                        "(default 16). Fixed formats: pixels, y, y_g, mu, sigma, z, the g_s "
                        "input and output")
    g.add_argument("--layer-act-bits", action="append", default=[], metavar="LAYER=B",
                   help="bits of the activation LAYER produces (a conv's output, after its "
                        "depth-to-space, or a GDN/IGDN output)")
    g.add_argument("--act-shift", action="append", default=[], metavar="LAYER=K",
                   help="the activation LAYER produces keeps K more fractional bits: its "
                        "range is the training clip / 2^K, values beyond saturate")
    g.add_argument("--per-tensor", action="store_true",
                   help="one weight range per tensor instead of per output channel")
    g.add_argument("--weight-range", choices=["peak", "std", "learned"], default=None,
                   help="weight range: peak |w| (default), min(peak, K*std) (--std-k), or "
                        "learned (the ranges of the --qat checkpoint; its default)")
    g.add_argument("--std-k", type=float, default=3.0, metavar="K",
                   help="K of --weight-range std (default 3)")
    g.add_argument("--shift-only", action="store_true",
                   help="shift-only rescaling: power-of-two weight and activation scales, "
                        "every conv and GDN/IGDN multiplier M0*2^-n an exact power of two "
                        "(the per-level gains stay real multipliers)")
    g.add_argument("--list-layers", action="store_true",
                   help="print the layer names the per-layer options take and exit")


def options_from_args(args, weight_bits: int, learned_default: bool = False) -> QuantOptions:
    rng = args.weight_range or ("learned" if learned_default else "peak")
    return QuantOptions(
        weight_bits=weight_bits,
        layer_weight_bits=parse_layer_ints(args.layer_weight_bits, "--layer-weight-bits"),
        act_bits=args.act_bits,
        layer_act_bits=parse_layer_ints(args.layer_act_bits, "--layer-act-bits"),
        act_shift=parse_layer_ints(args.act_shift, "--act-shift"),
        granularity="tensor" if args.per_tensor else "channel",
        weight_range=rng, std_k=args.std_k, pow2=args.shift_only)


def describe_layers(model: HyperpriorModel) -> str:
    lines = ["layer     op    weight bits  hidden output (activation bits / shift)"]
    for r in layer_table(model):
        op = "conv" if r["conv"] is not None else ("igdn" if r["module"].inverse else "gdn")
        lines.append(f"{r['name']:<9} {op:<5} {'yes' if r['conv'] is not None else '-':<12} "
                     f"{'yes' if r['hidden'] else '-'}")
    return "\n".join(lines)


ROUNDINGS = ("compensated", "nearest")


def compensated_model(model: HyperpriorModel, options: QuantOptions,
                      weight_scale: WeightScaleFn = None, crops=None,
                      progress=None) -> tuple[HyperpriorModel, dict]:
    """(a copy of `model` with error-compensated weights on the grid that
    `options` and `weight_scale` give, that grid per layer name) — see
    calibrate.py."""
    from . import calibrate
    ex0 = Exporter(model, options=options, weight_scale=weight_scale)
    grid = {}
    for conv in (m for m in model.modules() if isinstance(m, torch.nn.Conv2d)):
        s = ex0.s_w(conv)
        if s is None:
            w = conv.weight.detach().double().numpy().transpose(0, 2, 3, 1)
            s = peak_weight_scale(w, ex0.wbits(conv))
        grid[conv] = np.asarray(s, np.float64)
    if crops is None:
        crops = calibrate.calibration_crops()
    out = calibrate.calibrate(model, grid.__getitem__, ex0.wbits, crops, progress=progress)
    names = {ex0.lname[c]: grid[c] for c in grid}
    return out, names


def export_model(model: HyperpriorModel, options: QuantOptions, name: str, description: str,
                 weight_scale: WeightScaleFn = None, rounding: str = "nearest",
                 crops=None, progress=None) -> tuple[dict, dict, "Exporter"]:
    """Python API: (meta, tensors, exporter) of `model` under `options`;
    checked as the C++ loader checks it. Write with modelfile.write_model.
    rounding: "nearest" (each weight to its nearest grid point) or
    "compensated" (calibrate.py; `crops` overrides its calibration images)."""
    if rounding not in ROUNDINGS:
        raise ValueError(f"rounding {rounding!r} not in {ROUNDINGS}")
    if rounding == "compensated":
        model, fixed = compensated_model(model, options, weight_scale, crops, progress)
        ex = Exporter(model, options=options, fixed_scales=fixed)
    else:
        ex = Exporter(model, options=options, weight_scale=weight_scale)
    meta, tensors = ex.build(name, description)
    return meta, tensors, ex


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", type=Path, default=MODELS_DIR / "checkpoint" / "hyperprior.pt",
                    help="stage-1 checkpoint (post-training quantization)")
    ap.add_argument("--qat", type=Path, default=None, metavar="CKPT",
                    help="export a QAT checkpoint (fxic.qat) with its learned weight "
                         "ranges instead: the integers its simulation ran (with the "
                         "default options below)")
    ap.add_argument("-o", "--output", type=Path)
    ap.add_argument("--weight-bits", type=int, default=None,
                    help="weight bit width 2..8 (default 8; a QAT checkpoint has its own)")
    ap.add_argument("--name", default="fxic-hyperprior")
    ap.add_argument("--rounding", choices=ROUNDINGS, default=None,
                    help="weight rounding: 'compensated' (the default for a stage-1 "
                         "checkpoint) rounds each layer's weights so that their errors "
                         "cancel on real inputs (second moments from centre crops of the "
                         "training images; a minute or two), 'nearest' (the default with "
                         "--qat, whose training simulated it) rounds every weight "
                         "independently")
    add_options_arguments(ap)
    args = ap.parse_args(argv)
    from .heap import keep_heap
    keep_heap()
    if args.rounding is None:
        args.rounding = "nearest" if args.qat is not None else "compensated"
    if args.weight_bits is not None and not 2 <= args.weight_bits <= 8:
        ap.error("--weight-bits must be in 2..8")
    if args.output is None and not args.list_layers:
        ap.error("the following arguments are required: -o/--output")
    weight_scale = None
    try:
        if args.qat is not None:
            from .qat import load_qat
            qmodel, ck = load_qat(args.qat)
            if args.weight_bits is not None and args.weight_bits != qmodel.weight_bits:
                ap.error(f"{args.qat} was trained for {qmodel.weight_bits}-bit weights")
            model, wb = qmodel.net, qmodel.weight_bits
            how = (f"quantization-aware fine-tuned {ck['step']} steps from stage-1 step "
                   f"{ck.get('stage1_step', '?')}")
            opts = options_from_args(args, wb, learned_default=True)
            if opts.weight_range == "learned":
                weight_scale = qmodel.weight_scale
                opts = dataclasses.replace(opts, weight_range="peak")
        else:
            if args.weight_range == "learned":
                ap.error("--weight-range learned needs --qat CKPT")
            model, ck = load_float_model(args.checkpoint)
            wb = 8 if args.weight_bits is None else args.weight_bits
            how = (f"trained {ck['step']} steps"
                   + (" (moving average of the weights)" if ck.get("ema_fp16") is not None
                      or ck.get("ema") is not None else "")
                   + ", post-training quantized")
            opts = options_from_args(args, wb)
    except ValueError as e:
        ap.error(str(e))
    if args.list_layers:
        print(describe_layers(model))
        return 0
    extra = opts.describe()
    wtext = (f"{wb}-bit weights" if not opts.layer_weight_bits else
             f"{min([wb, *opts.layer_weight_bits.values()])}..{opts.max_weight_bits}-bit weights")
    desc = (f"mean-scale hyperprior N={model.cfg.N} M={model.cfg.M}, "
            f"{len(model.cfg.lambdas)} qualities (lambda {model.cfg.lambdas[0]:.4g}.."
            f"{model.cfg.lambdas[-1]:.4g}), {how}: {wtext}"
            + (", error-compensated rounding" if args.rounding == "compensated" else "")
            + ", int16 activations"
            + (f"; {extra}" if extra else ""))
    try:
        meta, tensors, _ = export_model(
            model, opts, args.name, desc, weight_scale, rounding=args.rounding,
            progress=lambda m: print(f"\rexport: {m}   ", end="", file=sys.stderr, flush=True))
        if args.rounding == "compensated":
            print(file=sys.stderr)
    except ValueError as e:
        print(f"export: {e}", file=sys.stderr)
        return 1
    model_id = write_model(args.output, meta, tensors)
    print(f"wrote {args.output} ({args.output.stat().st_size} bytes), model id {model_id.hex()}; "
          f"f_y={meta['latent_frac_bits']} f_z={meta['hyper_frac_bits']} "
          f"gain_shift={meta['gain_shift']} inv_gain_shift={meta['inv_gain_shift']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
