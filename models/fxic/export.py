"""Export a trained float model to the integer model format (docs/model-format.md).

    cd models && /usr/bin/python3 -m fxic.export -o default.fxm      (from checkpoint/hyperprior.pt)
    cd models && /usr/bin/python3 -m fxic.export --qat checkpoint/hyperprior-qat.pt -o default.fxm

Post-training quantization of the stage-1 model: every activation's integer
format comes from its training clip range (activation range pre-processing)
and the largest integer range the consumer's overflow proof allows; weights
get per-output-channel ranges at `--weight-bits`; GDN/IGDN become integer
range-dependent normalization; gains, Gaussian CDF tables per scale index and
the factorized prior's CDFs are integers. The result passes every loader check
(intref.check_model) or is not written.

With --qat, the model is a stage-2 checkpoint (fxic.qat): the same code
assigns the formats and quantizes, with the learned per-channel weight ranges
in place of the peaks, so the file holds exactly the integers the QAT
simulation ran (`Exporter.plan` is the one definition both use).
"""
from __future__ import annotations

import argparse
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
from .quantize import MAX, peak_weight_scale, quantize_conv, quantize_norm, quantize_weights

MODELS_DIR = Path(__file__).resolve().parents[1]
INT32_MAX = (1 << 31) - 1
SIGMA_FRAC_BITS = 7       # σ ≤ 256 at 2^−7
PIXEL_FRAC_BITS = 6       # x̂ ∈ [−1, 2] → [−16320, 32640]
NUM_SCALES, SCALE_LO, SCALE_HI = 64, 0.11, 256.0


def load_float_model(path: Path) -> tuple[HyperpriorModel, dict]:
    ck = torch.load(path, map_location="cpu")
    cfg = Config.from_dict(ck["config"])
    model = HyperpriorModel(cfg)
    weights = ck.get("weights_fp16") or ck.get("model")
    model.load_state_dict({k: v.float() if v.is_floating_point() else v
                           for k, v in weights.items()})
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


def activation_format(lo: float, hi: float, consumer: Optional[torch.nn.Conv2d],
                      weight_bits: int, s_w: Optional[np.ndarray] = None
                      ) -> tuple[float, int, int]:
    """The integer format of an activation clipped to [lo, hi] (real): its
    scale s = c / A with c = max(|lo|, |hi|) and A the largest input bound the
    consumer convolution's overflow proof allows (32767 when the consumer is
    not a convolution), and its integer range [ceil(lo / s), floor(hi / s)].

    The one definition of activation formats, used by the exporter and by
    quantization-aware training (qat.py)."""
    c = max(abs(lo), abs(hi))
    a = MAX if consumer is None else max_input_range(consumer, c, weight_bits, s_w)
    s = c / a
    ilo = max(int(math.ceil(lo / s - 1e-9)), -MAX)
    ihi = min(int(math.floor(hi / s + 1e-9)), MAX)
    return s, ilo, ihi


def _conv_of(m: torch.nn.Module) -> Optional[torch.nn.Conv2d]:
    if isinstance(m, SubPixelConv):
        return m.conv
    return m if isinstance(m, torch.nn.Conv2d) else None


class Exporter:
    """Assigns every integer format and quantizes every layer (`plan`), then
    adds the entropy tables and metadata (`build`).

    `plan` is shared with quantization-aware training: qat.py runs its
    integer simulation on exactly the integers and formats recorded in
    `self.layers` and `self.formats`, so an exported QAT model is what the
    training simulated.
    """

    def __init__(self, model: HyperpriorModel, weight_bits: int,
                 weight_scale: WeightScaleFn = None):
        self.model, self.cfg, self.wb = model, model.cfg, weight_bits
        self.weight_scale = weight_scale
        self.names = {m: n for n, m in model.named_modules()}
        self.meta: dict = {}
        self.tensors: dict = {}
        # Per network, one record per integer layer (conv or normalization):
        # module, op, d2s, s_in, s_out, lo, hi, s_w (conv), fields, tensors.
        self.layers: dict[str, list[dict]] = {}
        self.formats: dict = {}

    def s_w(self, conv: torch.nn.Conv2d) -> Optional[np.ndarray]:
        if self.weight_scale is None:
            return None
        return self.weight_scale(self.names[conv], conv)

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
        mods = list(seq)
        layers = []  # (module, clip or None)
        k = 0
        while k < len(mods):
            m = mods[k]
            clip = mods[k + 1] if k + 1 < len(mods) and isinstance(mods[k + 1], Clip) else None
            layers.append((m, clip))
            k += 2 if clip is not None else 1
        idx = 0
        records = self.layers.setdefault(name, [])
        for j, (m, clip) in enumerate(layers):
            last = j == len(layers) - 1
            nxt = layers[j + 1][0] if not last else None
            conv = _conv_of(m)
            if clip is not None:
                nconv = _conv_of(nxt) if nxt is not None else None
                s_out, lo, hi = activation_format(
                    clip.lo, clip.hi, nconv, self.wb,
                    self.s_w(nconv) if nconv is not None else None)
            if last and out_format is not None:
                s_out, lo, hi = out_format
            rec = {"module": m, "s_in": s_in, "in_max": in_max, "s_out": s_out,
                   "lo": lo, "hi": hi, "d2s": False}
            if isinstance(m, GDN):
                gamma = m.gamma().detach().double().numpy()
                beta = m.beta().detach().double().numpy()
                fields, t = quantize_norm(gamma, beta, s_in, s_out, in_max, lo, hi,
                                          inverse=m.inverse)
                self.add_layer(name, idx, fields, t)
                idx += 1
            else:
                w, b, s_w, _ = conv_weights(conv, self.wb, self.s_w(conv))
                fields, t = quantize_conv(w, b, s_in, s_out, conv.stride[0], lo, hi,
                                          weight_bits=self.wb, s_w=s_w)
                self.add_layer(name, idx, fields, t)
                idx += 1
                rec.update(conv=conv, s_w=s_w)
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
        a_ha = max_input_range(model.h_a[0], yg_max, self.wb, self.s_w(model.h_a[0]))
        f_y = int(math.floor(math.log2(min(MAX, a_ha) / yg_max)))
        if f_y < 0:
            raise ValueError(f"latent range ±{yg_max:.1f} leaves no fractional bits")
        yg_hi = int(math.floor(yg_max * 2 ** f_y))
        f_z = int(math.floor(math.log2(MAX / cfg.clip_z)))
        z_max = int(cfg.clip_z)
        # ŷ/gain: y's clip plus half a quantization step at the smallest gain.
        gs_max = cfg.clip_y + 0.5 / float(gains.min())
        a_gs = max_input_range(model.g_s[0].conv, gs_max, self.wb, self.s_w(model.g_s[0].conv))
        s_gs = gs_max / a_gs

        s_y, y_max = self.network("g_a", model.g_a, 1.0 / 255.0, 255,
                                  out_format=(cfg.clip_y / MAX, -MAX, MAX))
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
            "N": N, "M": M, "levels": L, "weight_bits": self.wb,
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


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", type=Path, default=MODELS_DIR / "checkpoint" / "hyperprior.pt",
                    help="stage-1 checkpoint (post-training quantization)")
    ap.add_argument("--qat", type=Path, default=None, metavar="CKPT",
                    help="export a QAT checkpoint (fxic.qat) with its learned weight "
                         "ranges instead: the integers its simulation ran")
    ap.add_argument("-o", "--output", type=Path, required=True)
    ap.add_argument("--weight-bits", type=int, default=None,
                    help="weight bit width (default 8; a QAT checkpoint has its own)")
    ap.add_argument("--name", default="fxic-hyperprior")
    args = ap.parse_args(argv)
    if args.qat is not None:
        from .qat import load_qat
        qmodel, ck = load_qat(args.qat)
        if args.weight_bits is not None and args.weight_bits != qmodel.weight_bits:
            ap.error(f"{args.qat} was trained for {qmodel.weight_bits}-bit weights")
        model, wb = qmodel.net, qmodel.weight_bits
        how = (f"quantization-aware fine-tuned {ck['step']} steps from stage-1 step "
               f"{ck.get('stage1_step', '?')}")
        exporter = qmodel.exporter()
    else:
        model, ck = load_float_model(args.checkpoint)
        wb = 8 if args.weight_bits is None else args.weight_bits
        how = f"trained {ck['step']} steps, post-training quantized"
        exporter = Exporter(model, wb)
    desc = (f"mean-scale hyperprior N={model.cfg.N} M={model.cfg.M}, "
            f"{len(model.cfg.lambdas)} qualities (lambda {model.cfg.lambdas[0]:.4g}.."
            f"{model.cfg.lambdas[-1]:.4g}), {how}: {wb}-bit weights, int16 activations")
    meta, tensors = exporter.build(args.name, desc)
    model_id = write_model(args.output, meta, tensors)
    print(f"wrote {args.output} ({args.output.stat().st_size} bytes), model id {model_id.hex()}; "
          f"f_y={meta['latent_frac_bits']} f_z={meta['hyper_frac_bits']} "
          f"gain_shift={meta['gain_shift']} inv_gain_shift={meta['inv_gain_shift']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
