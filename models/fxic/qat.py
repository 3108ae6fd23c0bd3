"""Stage 2: quantization-aware fine-tuning that simulates the C++ integer codec exactly.

    /usr/bin/python3 -m fxic.qat --minutes 120 --threads 2            (from models/)
    /usr/bin/python3 -m fxic.export --qat checkpoint/hyperprior-qat.pt -o default.fxm

Design
------
The QAT model (`QatModel`) is the stage-1 float model (`net.HyperpriorModel`,
loaded from checkpoint/hyperprior.pt) plus one learned weight range per
output channel of every convolution (`log_range`, initialised to the
channel's peak |w|, so step 0 is the post-training quantization). Its
forward pass, `simulate`, *is* the integer codec:

1. Formats and integers come from the exporter. Every step calls
   `export.Exporter(net, weight_bits, weight_scale=learned ranges).plan()`
   on the current parameters: activation formats (`export.activation_format`:
   scale = clip / A with A from the consumer's overflow proof), f_y, f_z, the
   gain shifts, integer weights clip(rint(w / s_w), ±(2^(b−1) − 1)) with
   s_w = range / (2^(b−1) − 1), biases, M0·2^−n multipliers, GDN/IGDN γ, β,
   sq_shift, multipliers, and the integer gain tables. There is one
   definition of each (export.py, quantize.py); the exporter writes exactly
   the integers the simulation used (`export --qat`).
2. Every tensor between layers holds the codec's integers (int16 range, so
   exact in float32). Each convolution's int32 accumulator is computed
   exactly by `qat_ops.exact_conv2d`: float32 convolutions whose every
   partial sum is proven below 2^24 (splitting the input into base-256
   digits and channel groups when the weights' L1 requires it). Everything
   after an accumulator (linear scaling RoundingShiftRight(acc·M0, n) and
   clamp; the range-dependent normalization's sq, γ·sq sum — float64, exact
   below 2^53 —, rsqrt table, Newton step and per-layer multiplier; gains
   with the interpolated integer multipliers; z and y symbols; the μ grid;
   ŷ_g; the inverse gain; pixel rounding) runs in int64 in `qat_ops`, a
   torch mirror of intops.py checked against it.
3. Gradients are straight-through (`qat_ops.exact`): each integer result is
   paired with a differentiable float surrogate of the same quantity in the
   same integer units — conv: (Σ w_q·x + b_q)·s_w·s_in/s_out with
   w_q = clip(w / s_w) (so the range gets the LSQ gradient round(v) − v
   through the multiplier); GDN/IGDN: the float formula on the real values;
   gains: the real gain (interpolated); symbols: (y_g − μ)·2^−f_y; σ: the
   h_s output·2^−7. A clamp passes no gradient where it clamped.
4. Rate: y symbols under N(0, σ_idx²), σ_idx the σ of the table the codec
   picks (idx = #{j : σ_int ≥ T[j]}) with the gradient of the continuous σ;
   the symbol is round(y_g − μ) on μ's fixed-point grid (f_y). z: the
   factorized prior at the integer symbols. Distortion: MSE of the codec's
   8-bit reconstruction (gradient through the g_s output).

`simulate` on a model and intref (the numpy reference, itself pinned to the
C++ codec by the parity test) on `export_qat` of the same model give the same
z and y symbols, scale indices and reconstruction bit for bit:
models/tests/test_qat.py checks it, and against the `fxic` binary too.

Checkpoints (checkpoint/hyperprior-qat.pt) follow train.py: fp16 weights (the
ranges included), step, schedule, RNG, resumable; the full state with Adam
goes to runs/qat_full_state.pt. At each save the live weights are rounded to
fp16 too, so the running model, the checkpoint and its export stay identical,
and the model is exported in memory and checked as the C++ loader checks it
(a model that fails is not saved and training stops).
The log is checkpoint/qat_log.csv (train rows every 50 steps, val rows with
the simulated codec per checkpoint).
"""
from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path
from typing import Optional

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from . import qat_ops
from .cdf import scale_thresholds
from .export import SIGMA_FRAC_BITS, Exporter, y_scales
from .heap import keep_heap
from .loop import Meter, RunLog, StopFlag, apply_sets, learning_rate, pick_resume
from .net import GDN, Config, HyperpriorModel, gaussian_likelihood, rate_bits
from .train import export_weights

MODELS_DIR = Path(__file__).resolve().parents[1]
STAGE1 = MODELS_DIR / "checkpoint" / "hyperprior.pt"
COMMITTED = MODELS_DIR / "checkpoint" / "hyperprior-qat.pt"
LOG = MODELS_DIR / "checkpoint" / "qat_log.csv"
RUN_DIR = MODELS_DIR / "runs"
CKPT_FORMAT = "fxic-qat-checkpoint-1"
PAD = 64

DEFAULT_SCHEDULE = {
    "lr": 2e-5,             # Adam learning rate after warm-up (fine-tuning)
    "lr_range": 1e-3,       # learning rate of the log weight ranges
    "warmup": 100,
    "decay_start": 10**9,
    "decay_steps": 10000,
    "lr_final": 2e-6,
    "batch": 8,
    "crop": 128,
    "grad_clip": 1.0,
}


def _key(name: str) -> str:
    return name.replace(".", "_")


class QatModel(nn.Module):
    """Stage-1 float model + learned per-channel weight ranges; `simulate`
    runs the integer codec with straight-through gradients."""

    def __init__(self, cfg: Config, weight_bits: int = 8):
        super().__init__()
        if not 2 <= weight_bits <= 8:
            raise ValueError(f"weight_bits {weight_bits} not in 2..8")
        self.cfg = cfg
        self.weight_bits = weight_bits
        self.net = HyperpriorModel(cfg)
        self.log_range = nn.ParameterDict({
            _key(n): nn.Parameter(torch.zeros(m.out_channels))
            for n, m in self.convs()})
        self.init_ranges()
        thresholds = scale_thresholds(y_scales(), SIGMA_FRAC_BITS)
        self.register_buffer("thresholds", torch.from_numpy(thresholds.astype(np.int64)),
                             persistent=False)
        self.register_buffer("table_sigma", torch.from_numpy(y_scales()), persistent=False)

    @property
    def wmax(self) -> int:
        return (1 << (self.weight_bits - 1)) - 1

    def convs(self) -> list[tuple[str, nn.Conv2d]]:
        return [(n, m) for n, m in self.net.named_modules() if isinstance(m, nn.Conv2d)]

    @torch.no_grad()
    def init_ranges(self) -> None:
        """Ranges = per-channel peak |w| (post-training quantization)."""
        for n, m in self.convs():
            peak = m.weight.detach().abs().flatten(1).amax(1)
            peak = torch.where(peak > 0, peak, torch.full_like(peak, float(self.wmax)))
            self.log_range[_key(n)].copy_(peak.log())

    def weight_scale(self, name: str, conv: nn.Conv2d) -> np.ndarray:
        """s_w per output channel (float64), as the exporter and plan use it."""
        return np.exp(self.log_range[_key(name)].detach().double().numpy()) / self.wmax

    def _scale_t(self, name: str) -> torch.Tensor:
        """Differentiable twin of weight_scale (surrogate gradients only)."""
        return self.log_range[_key(name)].exp() / self.wmax

    def exporter(self) -> Exporter:
        return Exporter(self.net, self.weight_bits, weight_scale=self.weight_scale)

    def plan(self) -> Exporter:
        ex = self.exporter()
        ex.plan()
        return ex

    # ----------------------------------------------------------------------
    # layers: x holds int16-range integers (exact in float32) with gradients
    # ----------------------------------------------------------------------

    def _conv(self, rec: dict, x: torch.Tensor, name: str) -> torch.Tensor:
        conv, t = rec["conv"], rec["tensors"]
        wmax, s_in, k = self.wmax, rec["s_in"], conv.kernel_size[0]
        w_int = torch.from_numpy(t["weight"].transpose(0, 3, 1, 2).astype(np.float32))
        with torch.no_grad():
            # The codec's int32 accumulator, exactly (qat_ops.exact_conv2d).
            acc = qat_ops.exact_conv2d(x, w_int, torch.from_numpy(t["bias"].astype(np.int64)),
                                       conv.stride[0], k // 2)
            mult = torch.from_numpy(t["mult"].astype(np.int64)).view(1, -1, 1, 1)
            shift = torch.from_numpy(t["shift"].astype(np.int64)).view(1, -1, 1, 1)
            v = qat_ops.mul_shift(acc, mult, shift)
            out = v.clamp(rec["lo"], rec["hi"])
            mask = (v >= rec["lo"]) & (v <= rec["hi"])
        # Surrogate (float32): the same conv on the same integer weights, with
        # the gradient of clip(w / s_w) and of the real multiplier s_w·s_in/s_out.
        s_w = self._scale_t(name)
        w_q = qat_ops.exact((conv.weight / s_w.view(-1, 1, 1, 1)).clamp(-wmax, wmax),
                            w_int)
        acc_s = F.conv2d(x, w_q, conv.bias / (s_w * s_in), stride=conv.stride, padding=k // 2)
        s_out = torch.from_numpy(np.broadcast_to(
            np.asarray(rec["s_out"], np.float32), (conv.out_channels,)).copy())
        y = qat_ops.exact(acc_s * (s_w * s_in / s_out).view(1, -1, 1, 1), out, mask)
        return F.pixel_shuffle(y, 2) if rec["d2s"] else y

    def _norm(self, rec: dict, x: torch.Tensor) -> torch.Tensor:
        m: GDN = rec["module"]
        t, f = rec["tensors"], rec["fields"]
        c = x.shape[1]
        with torch.no_grad():
            out, v = qat_ops.normalize(
                x.detach().to(torch.int64),
                torch.from_numpy(t["gamma"].astype(np.int64)),
                torch.from_numpy(t["beta"].astype(np.int64)),
                torch.from_numpy(t["mult"].astype(np.int64)),
                torch.from_numpy(t["shift"].astype(np.int64)),
                f["sq_shift"], rec["lo"], rec["hi"], m.inverse)
            mask = (v >= rec["lo"]) & (v <= rec["hi"])
        # Surrogate: the float GDN / IGDN on the real values.
        xr = x * rec["s_in"]
        norm = F.conv2d(xr * xr, m.gamma().view(c, c, 1, 1), m.beta())
        y = xr * torch.sqrt(norm) if m.inverse else xr * torch.rsqrt(norm)
        return qat_ops.exact(y / rec["s_out"], out, mask)

    def _network(self, ex: Exporter, name: str, x: torch.Tensor,
                 trace: Optional[dict] = None) -> torch.Tensor:
        names = ex.names
        for rec in ex.layers[name]:
            if rec["op"] == "conv":
                x = self._conv(rec, x, names[rec["conv"]])
            else:
                x = self._norm(rec, x)
            if trace is not None:
                trace.setdefault(name, []).append(x.detach().to(torch.int64))
        return x

    def _gain_real(self, qf: torch.Tensor, table: torch.Tensor) -> torch.Tensor:
        """Linear interpolation (B, M) of a real [L, M] table at Q8 qualities."""
        L = table.shape[0]
        if L == 1:
            return table[0].expand(qf.shape[0], -1)
        level = torch.clamp(qf >> 8, max=L - 2)
        t = ((qf - 256 * level).float() / 256).view(-1, 1)
        return table[level] * (1 - t) + table[level + 1] * t

    # ----------------------------------------------------------------------
    # the codec
    # ----------------------------------------------------------------------

    def simulate(self, rgb: torch.Tensor, qf: torch.Tensor, ex: Optional[Exporter] = None,
                 trace: Optional[dict] = None) -> dict:
        """The integer codec on a batch, with straight-through gradients.

        rgb: (B, 3, H, W) pixel values 0..255 (any dtype); qf: (B,) int
        qualities in Q8 (level·256, fractions allowed). ex: a plan of this
        model's current parameters (computed if None).

        Returns int64 tensors z_sym (B, N, h, w), y_sym, y_idx, mu, sigma
        (B, M, h', w'), pixels (B, 3, H, W), and float tensors with gradients:
        x_hat (pixels / 255), bits_y, bits_z (B,), p_y, p_z.
        """
        ex = ex if ex is not None else self.plan()
        fm = ex.formats
        cfg = self.cfg
        M = cfg.M
        qf = torch.as_tensor(qf, dtype=torch.int64).view(-1)
        b, _, h, w = rgb.shape
        x = rgb.float()
        ph, pw = (-h) % PAD, (-w) % PAD
        if ph or pw:
            x = F.pad(x, (0, pw, 0, ph), mode="replicate")

        y = self._network(ex, "g_a", x, trace)

        # Gain: y_g = Clamp(MulShift(y, G(qf), gain_shift), ±yg_hi) at 2^−f_y.
        f_y, yg_hi = fm["f_y"], fm["yg_hi"]
        gains = self.net.log_gain.exp()
        g_int = qat_ops.interpolate_gains(torch.from_numpy(fm["gain"].astype(np.int64)), qf)
        g_real = self._gain_real(qf, gains * fm["s_y"] * 2.0 ** f_y)
        with torch.no_grad():
            v = qat_ops.mul_shift(y.to(torch.int64), g_int[:, :, None, None], fm["gain_shift"])
            mask = v.abs() <= yg_hi
        y_g = qat_ops.exact(y * g_real[:, :, None, None], v.clamp(-yg_hi, yg_hi), mask)

        z = self._network(ex, "h_a", y_g, trace)
        f_z, z_max = fm["f_z"], fm["z_max"]
        with torch.no_grad():
            z_sym = qat_ops.rounding_shift_right(z.to(torch.int64), f_z)
            zc = z_sym.clamp(-z_max, z_max)
        z_hat = qat_ops.exact(z * 2.0 ** -f_z, zc)
        params = self._network(ex, "h_s", z_hat, trace)
        mu, sig = params[:, :M], params[:, M:]

        with torch.no_grad():
            mu_i, sig_i, yg_i = mu.to(torch.int64), sig.to(torch.int64), y_g.to(torch.int64)
            y_sym = qat_ops.rounding_shift_right(yg_i - mu_i, f_y)
            idx = torch.bucketize(sig_i, self.thresholds, right=True)
            yh = y_sym * (1 << f_y) + mu_i
            yh_mask = yh.abs() <= yg_hi
        sym = qat_ops.exact((y_g - mu) * 2.0 ** -f_y, y_sym)
        sigma = qat_ops.exact(sig * 2.0 ** -SIGMA_FRAC_BITS, self.table_sigma[idx])
        p_y = gaussian_likelihood(sym, sigma)
        p_z = self.net.entropy_bottleneck.likelihood(z_hat)

        # Decoder: ŷ_g = Clamp(sym·2^f_y + μ), inverse gain, g_s, pixels.
        y_hat_g = qat_ops.exact(y_g, yh.clamp(-yg_hi, yg_hi), yh_mask)
        a_gs = fm["a_gs"]
        inv_int = qat_ops.interpolate_gains(torch.from_numpy(fm["inv_gain"].astype(np.int64)), qf)
        inv_real = self._gain_real(qf, 2.0 ** -f_y / (gains * fm["s_gs"]))
        with torch.no_grad():
            v = qat_ops.mul_shift(y_hat_g.to(torch.int64), inv_int[:, :, None, None],
                                  fm["inv_gain_shift"])
            mask = v.abs() <= a_gs
        y_hat = qat_ops.exact(y_hat_g * inv_real[:, :, None, None], v.clamp(-a_gs, a_gs), mask)
        x_out = self._network(ex, "g_s", y_hat, trace)
        f_x = fm["pixel_frac_bits"]
        with torch.no_grad():
            pixels = qat_ops.rounding_shift_right(x_out.to(torch.int64), f_x).clamp(0, 255)
        x_hat = qat_ops.exact(x_out * (2.0 ** -f_x / 255.0), pixels.float() / 255.0)
        if trace is not None:
            trace.update(y_g=yg_i, y_hat_g=yh.clamp(-yg_hi, yg_hi),
                         inv_gain=v.clamp(-a_gs, a_gs))
        return {"z_sym": z_sym, "y_sym": y_sym, "y_idx": idx, "mu": mu_i, "sigma": sig_i,
                "pixels": pixels[:, :, :h, :w], "x_hat": x_hat[:, :, :h, :w],
                "p_y": p_y, "p_z": p_z, "bits_y": rate_bits(p_y), "bits_z": rate_bits(p_z)}

    forward = simulate


# --------------------------------------------------------------------------
# checkpoints and export
# --------------------------------------------------------------------------

def from_stage1(path: Path, weight_bits: int = 8) -> tuple[QatModel, dict]:
    """A QAT model initialised from a stage-1 checkpoint (train.py format)."""
    ck = torch.load(path, map_location="cpu")
    cfg = Config.from_dict(ck["config"])
    model = QatModel(cfg, weight_bits)
    model.net.load_state_dict(export_weights(ck))
    model.init_ranges()
    return model, ck


def load_qat(path: Path) -> tuple[QatModel, dict]:
    """A QAT model from its checkpoint (fp16 weights) or full state."""
    ck = torch.load(path, map_location="cpu")
    if ck.get("format") not in (CKPT_FORMAT, CKPT_FORMAT + "-full"):
        raise ValueError(f"{path}: not a QAT checkpoint (format {ck.get('format')!r})")
    model = QatModel(Config.from_dict(ck["config"]), int(ck["weight_bits"]))
    weights = ck.get("weights_fp16") or ck.get("model")
    model.load_state_dict({k: v.float() if v.is_floating_point() else v
                           for k, v in weights.items()})
    model.eval()
    return model, ck


def half_state(model: QatModel) -> dict:
    return {k: v.detach().half() if v.is_floating_point() else v
            for k, v in model.state_dict().items()}


@torch.no_grad()
def snap_to_half(model: QatModel) -> dict:
    """Rounds the live weights to fp16 (what the checkpoint stores); returns them."""
    half = half_state(model)
    model.load_state_dict({k: v.float() if v.is_floating_point() else v
                           for k, v in half.items()})
    return half


def export_qat(model: QatModel, name: str, description: str) -> tuple[dict, dict]:
    """(meta, tensors) of the integer model the simulation runs."""
    return model.exporter().build(name, description)


# --------------------------------------------------------------------------
# training
# --------------------------------------------------------------------------

def loss_terms(out: dict, x255: torch.Tensor, lam: torch.Tensor) -> tuple:
    """(loss, bpp (B,), mse (B,)): R + λ·255²·MSE on the codec's pixels."""
    hw = x255.shape[2] * x255.shape[3]
    bpp = (out["bits_y"] + out["bits_z"]) / hw
    mse = (out["x_hat"] - x255.float() / 255).pow(2).flatten(1).mean(1)
    return (bpp + lam * 255 ** 2 * mse).mean(), bpp, mse


@torch.no_grad()
def evaluate_val(model: QatModel, val: torch.Tensor, levels: list[int]) -> list[tuple]:
    """(q, bpp, psnr) of the simulated codec on fixed crops (uint8 0..255)."""
    ex = model.plan()
    out = []
    for q in levels:
        bits, se = 0.0, 0.0
        for i in range(val.shape[0]):
            o = model.simulate(val[i:i + 1], torch.tensor([256 * q]), ex)
            bits += (o["bits_y"] + o["bits_z"]).sum().item()
            se += (o["pixels"].double() - val[i:i + 1].double()).pow(2).sum().item()
        n = val.shape[0] * val.shape[2] * val.shape[3]
        mse = se / (3 * n) / 255 ** 2
        out.append((q, bits / n, 10 * math.log10(1 / max(mse, 1e-12))))
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, required=True, help="wall-clock budget")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--weight-bits", type=int, default=None,
                    help="weight bit width 4..8 of a new run (default 8; a resumed "
                         "run keeps its own)")
    ap.add_argument("--init", type=Path, default=STAGE1, help="stage-1 checkpoint")
    ap.add_argument("--checkpoint", type=Path, default=COMMITTED)
    ap.add_argument("--log", type=Path, default=LOG)
    ap.add_argument("--run-dir", type=Path, default=RUN_DIR,
                    help="where the full state (weights + Adam) goes")
    ap.add_argument("--ckpt-minutes", type=float, default=5.0)
    ap.add_argument("--log-every", type=int, default=50)
    ap.add_argument("--max-steps", type=int, default=0,
                    help="stop after this many steps of this run (0: no limit)")
    ap.add_argument("--val-crops", type=int, default=8)
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="change a schedule entry (saved), e.g. --set lr=1e-5")
    ap.add_argument("--fresh", action="store_true",
                    help="start again from the stage-1 checkpoint")
    args = ap.parse_args(argv)
    if args.weight_bits is not None and not 4 <= args.weight_bits <= 8:
        ap.error("--weight-bits must be in 4..8")
    keep_heap()
    torch.set_num_threads(args.threads)
    t_start = time.time()
    deadline = t_start + args.minutes * 60
    full_path = args.run_dir / "qat_full_state.pt"

    sched = dict(DEFAULT_SCHEDULE)
    step, restart_step, opt_state, src = 0, 0, None, None
    np_rng = np.random.Generator(np.random.PCG64(20261123))
    torch.manual_seed(20261123)
    src, ck = (None, None) if args.fresh else pick_resume(full_path, args.checkpoint)
    if ck is not None:
        model = QatModel(Config.from_dict(ck["config"]), int(ck["weight_bits"]))
        weights = ck.get("weights_fp16") or ck.get("model")
        model.load_state_dict({k: v.float() if v.is_floating_point() else v
                               for k, v in weights.items()})
        if args.weight_bits is not None and args.weight_bits != model.weight_bits:
            ap.error(f"the checkpoint trains {model.weight_bits}-bit weights; "
                     "use --fresh to start a different width")
        step = ck["step"]
        init_step = ck.get("stage1_step", 0)
        sched.update(ck["schedule"])
        np_rng.bit_generator.state = ck["rng"]["numpy"]
        torch.set_rng_state(ck["rng"]["torch"])
        if src == "full":
            opt_state, restart_step = ck["optimizer"], ck.get("restart_step", 0)
        else:
            restart_step = step
    else:
        model, s1 = from_stage1(args.init, args.weight_bits or 8)
        init_step = s1["step"]
    cfg = model.cfg
    apply_sets(ap, sched, DEFAULT_SCHEDULE, args.set)
    model.train()
    range_params = list(model.log_range.parameters())
    ids = {id(p) for p in range_params}
    opt = torch.optim.Adam([
        {"params": [p for p in model.parameters() if id(p) not in ids], "name": "net"},
        {"params": range_params, "name": "range"}], lr=sched["lr"])
    if opt_state is not None:
        opt.load_state_dict(opt_state)
    print(f"qat: {src or 'from stage 1 (step %d)' % init_step} at step {step}, "
          f"{model.weight_bits}-bit weights; schedule {sched}", flush=True)

    from .data import CropCache
    data = CropCache()
    val = torch.from_numpy(data.batch(np.random.default_rng(7), args.val_crops, 256))
    lambdas = torch.tensor(cfg.lambdas, dtype=torch.float64)
    L = len(cfg.lambdas)

    def save() -> bool:
        """Saves unless the (fp16-rounded) model fails the loader's checks."""
        half = snap_to_half(model)
        try:
            export_qat(model, "qat-check", "checkpoint check")
        except ValueError as e:
            print(f"qat: step {step}: the model no longer exports ({e}); keeping the "
                  f"previous checkpoint and stopping", file=sys.stderr, flush=True)
            return False
        rngs = {"numpy": np_rng.bit_generator.state, "torch": torch.get_rng_state()}
        meta = {"step": step, "config": cfg.to_dict(), "schedule": sched, "rng": rngs,
                "weight_bits": model.weight_bits, "stage1_step": init_step}
        args.checkpoint.parent.mkdir(parents=True, exist_ok=True)
        tmp = args.checkpoint.with_suffix(".tmp")
        torch.save({"format": CKPT_FORMAT, **meta, "weights_fp16": half}, tmp)
        os.replace(tmp, args.checkpoint)
        args.run_dir.mkdir(parents=True, exist_ok=True)
        tmp = full_path.with_suffix(".tmp")
        torch.save({"format": CKPT_FORMAT + "-full", **meta, "model": model.state_dict(),
                    "optimizer": opt.state_dict(), "restart_step": restart_step}, tmp)
        os.replace(tmp, full_path)
        return True

    stop = StopFlag()
    log = RunLog(args.log, t_start)
    meter = Meter(log, args.log_every)
    last_ckpt = time.time()
    steps_run = 0
    while not stop and time.time() < deadline and (
            not args.max_steps or steps_run < args.max_steps):
        lr = learning_rate(step, sched, restart_step)
        for g in opt.param_groups:
            g["lr"] = lr if g["name"] == "net" else learning_rate(
                step, sched, restart_step, sched["lr_range"])
        b, crop = int(sched["batch"]), int(sched["crop"])
        x = torch.from_numpy(data.batch(np_rng, b, crop))
        q = torch.from_numpy(np_rng.integers(0, L, size=b))
        out = model.simulate(x, 256 * q)
        loss, bpp, mse = loss_terms(out, x, lambdas[q])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), sched["grad_clip"])
        opt.step()
        step += 1
        steps_run += 1
        meter.add(step, loss.item(), bpp.mean().item(), mse.mean().item(), lr, crop, b)
        if time.time() - last_ckpt > args.ckpt_minutes * 60:
            if not save():
                return 1
            log.val("val", step, evaluate_val(model, val, [0, L // 2, L - 1]), 256,
                    args.val_crops)
            last_ckpt = time.time()
            print(f"checkpoint at step {step}", flush=True)
    if not save():
        return 1
    log.val("val", step, evaluate_val(model, val, [0, L // 2, L - 1]), 256, args.val_crops)
    print(f"stopped at step {step} after {(time.time() - t_start) / 60:.1f} min; "
          f"saved {args.checkpoint}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
