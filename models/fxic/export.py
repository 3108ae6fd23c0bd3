"""Export a trained float model to the integer model format (docs/model-format.md).

    cd models && /usr/bin/python3 -m fxic.export -o default.fxm      (from checkpoint/hyperprior.pt)

Post-training quantization of the stage-1 model: every activation's integer
format comes from its training clip range (activation range pre-processing)
and the largest integer range the consumer's overflow proof allows; weights
get per-output-channel ranges at `--weight-bits`; GDN/IGDN become integer
range-dependent normalization; gains, Gaussian CDF tables per scale index and
the factorized prior's CDFs are integers. The result passes every loader check
(intref.check_model) or is not written.
"""
from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np
import torch

from . import cdf
from .intref import check_model
from .modelfile import write_model
from .net import GDN, Clip, Config, HyperpriorModel, SubPixelConv
from .quantize import MAX, quantize_conv, quantize_norm

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


def conv_weights(conv: torch.nn.Conv2d, weight_bits: int):
    """[cout, K, K, cin] float64 weights, bias, and the integer L1 per channel."""
    w = conv.weight.detach().double().numpy().transpose(0, 2, 3, 1)
    b = conv.bias.detach().double().numpy()
    wmax = (1 << (weight_bits - 1)) - 1
    peak = np.abs(w).reshape(w.shape[0], -1).max(axis=1)
    s_w = np.where(peak > 0, peak / wmax, 1.0)
    l1 = np.abs(np.rint(w / s_w[:, None, None, None])).reshape(w.shape[0], -1).sum(axis=1)
    return w, b, s_w, l1


def max_input_range(conv: torch.nn.Conv2d, clip: float, weight_bits: int) -> int:
    """Largest integer input bound A (≤ 32767) for which the conv's int32
    accumulator provably cannot overflow when the input's real range is ±clip:
    |b|·A/(s_w·clip) + A·L1 ≤ 2^31 − 1 per output channel (with a margin for
    the bias's rounding)."""
    _, b, s_w, l1 = conv_weights(conv, weight_bits)
    per_a = l1 + np.abs(b) / (s_w * clip)
    return int(min(MAX, math.floor((INT32_MAX - 2) / per_a.max())))


class Exporter:
    def __init__(self, model: HyperpriorModel, weight_bits: int):
        self.model, self.cfg, self.wb = model, model.cfg, weight_bits
        self.meta: dict = {}
        self.tensors: dict = {}

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
        for j, (m, clip) in enumerate(layers):
            last = j == len(layers) - 1
            nxt = layers[j + 1][0] if not last else None
            conv = m.conv if isinstance(m, SubPixelConv) else m
            if clip is not None:
                c = max(abs(clip.lo), abs(clip.hi))
                if isinstance(nxt, (torch.nn.Conv2d, SubPixelConv)):
                    nconv = nxt.conv if isinstance(nxt, SubPixelConv) else nxt
                    a_out = max_input_range(nconv, c, self.wb)
                else:
                    a_out = MAX
                s_out = c / a_out
                lo, hi = int(math.ceil(clip.lo / s_out - 1e-9)), int(math.floor(clip.hi / s_out + 1e-9))
                lo, hi = max(lo, -MAX), min(hi, MAX)
            if last and out_format is not None:
                s_out, lo, hi = out_format
            if isinstance(m, GDN):
                gamma = m.gamma().detach().double().numpy()
                beta = m.beta().detach().double().numpy()
                fields, t = quantize_norm(gamma, beta, s_in, s_out, in_max, lo, hi,
                                          inverse=m.inverse)
                self.add_layer(name, idx, fields, t)
                idx += 1
            else:
                w, b, _, _ = conv_weights(conv, self.wb)
                fields, t = quantize_conv(w, b, s_in, s_out, conv.stride[0], lo, hi,
                                          weight_bits=self.wb)
                self.add_layer(name, idx, fields, t)
                idx += 1
                if isinstance(m, SubPixelConv):
                    self.add_layer(name, idx, {"op": "d2s"})
                    idx += 1
            s_in = s_out if np.isscalar(s_out) else None
            in_max = max(abs(lo), abs(hi))
        self.meta[f"{name}.layers"] = idx
        return s_in, in_max

    def build(self, name: str, description: str) -> tuple[dict, dict]:
        cfg, model = self.cfg, self.model
        gains = model.log_gain.detach().double().exp().numpy()       # [L, M]
        L, M, N = gains.shape[0], cfg.M, cfg.N

        # y_g = y·gain at 2^−f_y: large enough for the top gain, small enough
        # for h_a's first convolution to be provably overflow-free.
        yg_max = cfg.clip_y * float(gains.max())
        a_ha = max_input_range(model.h_a[0], yg_max, self.wb)
        f_y = int(math.floor(math.log2(min(MAX, a_ha) / yg_max)))
        if f_y < 0:
            raise ValueError(f"latent range ±{yg_max:.1f} leaves no fractional bits")
        yg_hi = int(math.floor(yg_max * 2 ** f_y))
        f_z = int(math.floor(math.log2(MAX / cfg.clip_z)))
        z_max = int(cfg.clip_z)
        # ŷ/gain: y's clip plus half a quantization step at the smallest gain.
        gs_max = cfg.clip_y + 0.5 / float(gains.min())
        a_gs = max_input_range(model.g_s[0].conv, gs_max, self.wb)
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

        scales = cdf.scale_table(NUM_SCALES, SCALE_LO, SCALE_HI)
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
            "gain_shift": gain_shift, "inv_gain_shift": inv_shift,
            "yg_lo": -yg_hi, "yg_hi": yg_hi, "gs_in_lo": -a_gs, "gs_in_hi": a_gs,
            "pixel_frac_bits": PIXEL_FRAC_BITS, "pad_multiple": 64,
        })
        check_model(self.meta, self.tensors)
        return self.meta, self.tensors


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", type=Path, default=MODELS_DIR / "checkpoint" / "hyperprior.pt")
    ap.add_argument("-o", "--output", type=Path, required=True)
    ap.add_argument("--weight-bits", type=int, default=8)
    ap.add_argument("--name", default="fxic-hyperprior")
    args = ap.parse_args(argv)
    model, ck = load_float_model(args.checkpoint)
    desc = (f"mean-scale hyperprior N={model.cfg.N} M={model.cfg.M}, "
            f"{len(model.cfg.lambdas)} qualities (lambda {model.cfg.lambdas[0]:.4g}.."
            f"{model.cfg.lambdas[-1]:.4g}), trained {ck['step']} steps, "
            f"post-training quantized: {args.weight_bits}-bit weights, int16 activations")
    meta, tensors = Exporter(model, args.weight_bits).build(args.name, desc)
    model_id = write_model(args.output, meta, tensors)
    print(f"wrote {args.output} ({args.output.stat().st_size} bytes), model id {model_id.hex()}; "
          f"f_y={meta['latent_frac_bits']} f_z={meta['hyper_frac_bits']} "
          f"gain_shift={meta['gain_shift']} inv_gain_shift={meta['inv_gain_shift']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
