"""Error-compensating weight rounding for the export (GPTQ-style).

Rounding every weight to its nearest grid point independently makes errors
that add up coherently: natural images (and the activations they produce) are
strongly correlated across neighbouring pixels and channels, so a kernel's
rounding errors act mostly on the input's smooth, large component. In the
first analysis convolution this alone was a 1.8 % relative error of its output
(nearest rounding, 8-bit weights), the largest single source of the integer
codec's loss against its float model.

`calibrate` rounds each convolution's weights one input column at a time and
moves the not-yet-rounded weights (and, last, the bias, which is stored at the
accumulator's precision) to cancel the error already made, weighted by the
second moments of that convolution's real inputs (Frantar et al., "GPTQ",
2023; the optimal-brain-surgeon update restricted to one quantization grid).
The grid is unchanged — the exporter's per-channel weight scales and bit
widths — so the result is an ordinary export whose integers happen to be
better chosen; nothing in the model format or the C++ codec changes.

The second moments come from the float model run on fixed centre crops of the
training images (never Kodak), each crop at one quality level in turn, on one
thread, so the calibration is deterministic for a given checkpoint and data
set.
"""
from __future__ import annotations

import copy
from typing import Callable, Optional

import numpy as np
import torch
import torch.nn.functional as F

from .data import list_train_files, load_rgb
from .net import HyperpriorModel

DEFAULT_IMAGES = 32
DEFAULT_CROP = 256
DEFAULT_DAMP = 0.01
# Output positions per crop and convolution that enter the moments (evenly
# strided): enough for the 3201×3201 moments of the widest layers, whose cost
# grows with d²·positions.
MAX_POSITIONS = 1024


def calibration_crops(count: int = DEFAULT_IMAGES, crop: int = DEFAULT_CROP) -> list[np.ndarray]:
    """`count` centre crops (crop×crop, uint8 HWC) of training images spread
    evenly over the sorted file list."""
    files = list_train_files()
    if not files:
        raise FileNotFoundError("no training images for the calibration")
    picks = [files[(i * len(files)) // count] for i in range(min(count, len(files)))]
    out = []
    for f in picks:
        rgb = load_rgb(f)
        h, w = rgb.shape[:2]
        c = min(crop, h, w) // 64 * 64
        y0, x0 = (h - c) // 2, (w - c) // 2
        out.append(np.ascontiguousarray(rgb[y0:y0 + c, x0:x0 + c]))
    return out


class _Moments:
    """Σ x̃ x̃ᵀ over every output position of a convolution, x̃ = (input
    patch in PyTorch's (cin, ky, kx) order, 1)."""

    def __init__(self, conv: torch.nn.Conv2d):
        self.conv = conv
        d = conv.in_channels * conv.kernel_size[0] * conv.kernel_size[1] + 1
        self.h = torch.zeros(d, d, dtype=torch.float64)
        self.n = 0

    def __call__(self, module, inputs, output) -> None:
        x = inputs[0].detach().float()
        c = self.conv
        cols = F.unfold(x, c.kernel_size, padding=c.padding, stride=c.stride)  # [B, d-1, L]
        cols = cols.permute(1, 0, 2).reshape(cols.shape[1], -1)
        if cols.shape[1] > MAX_POSITIONS:
            step = cols.shape[1] / MAX_POSITIONS
            cols = cols[:, (torch.arange(MAX_POSITIONS) * step).long()]
        cols = torch.cat([cols, torch.ones(1, cols.shape[1])], 0)
        self.h += gram(cols).double()
        self.n += cols.shape[1]


def gram(a: torch.Tensor) -> torch.Tensor:
    """a·aᵀ for a float32 [d, n], computed as a 1×1 convolution (n input
    channels, d output channels, a d×1 image) so that oneDNN runs it: Debian's
    PyTorch hands a plain matrix product to the reference BLAS, about 30×
    slower (bench/calibrate_speed.py). dilation=2 changes nothing for a 1×1
    kernel but keeps PyTorch on its oneDNN path (see net.GDN)."""
    d, n = a.shape
    a = a.contiguous()
    return F.conv2d(a.T.contiguous().view(1, n, d, 1), a.view(d, n, 1, 1),
                    dilation=2).view(d, d)


def inverse_cholesky_upper(h: np.ndarray) -> np.ndarray:
    """The upper triangular u with uᵀu = h⁻¹ (h symmetric positive definite).

    With R the order reversal and R·h·R = L·Lᵀ (Cholesky), u = R·L⁻¹·R: it is
    upper triangular with a positive diagonal and uᵀu = R·L⁻ᵀ·L⁻¹·R =
    (R·h·R)⁻¹ conjugated by R = h⁻¹, so by uniqueness it is h⁻¹'s factor. One
    Cholesky and one triangular solve, a quarter of the work of inverting h
    and factoring the inverse, which matters with a reference LAPACK."""
    ht = torch.from_numpy(np.ascontiguousarray(h[::-1, ::-1]))
    low = torch.linalg.cholesky(ht)
    eye = torch.eye(h.shape[0], dtype=ht.dtype)
    linv = torch.linalg.solve_triangular(low, eye, upper=False).numpy()
    return np.ascontiguousarray(linv[::-1, ::-1])


def second_moments(model: HyperpriorModel, crops: list[np.ndarray],
                   progress: Optional[Callable[[str], None]] = None) -> dict:
    """conv module → (Σ x̃x̃ᵀ / n) from the float model in eval mode (rounded
    latents, as the codec runs), crop i at quality level i mod L."""
    moments = {m: _Moments(m) for m in model.modules() if isinstance(m, torch.nn.Conv2d)}
    hooks = [m.register_forward_hook(h) for m, h in moments.items()]
    levels = len(model.cfg.lambdas)
    try:
        with torch.no_grad():
            for i, rgb in enumerate(crops):
                x = torch.from_numpy(np.array(rgb)).permute(2, 0, 1)[None].float() / 255
                h, w = x.shape[2:]
                x = F.pad(x, (0, (-w) % 64, 0, (-h) % 64), mode="replicate")
                model(x, torch.tensor([float(i % levels)]))
                if progress:
                    progress(f"calibration {i + 1}/{len(crops)}")
    finally:
        for h in hooks:
            h.remove()
    return {m: (v.h / max(1, v.n)).numpy() for m, v in moments.items()}


def round_compensated(w: np.ndarray, bias: np.ndarray, h: np.ndarray, s_w: np.ndarray,
                      weight_bits: int, damp: float = DEFAULT_DAMP) -> tuple[np.ndarray, np.ndarray]:
    """Rounds w ([cout, d], float64) to s_w[o]·{−(2^(b−1)−1) … 2^(b−1)−1}
    column by column, largest input energy first, updating the remaining
    columns and finally the bias to minimise E[((w − q)·x̃)²] with x̃'s second
    moments h ([d+1, d+1], bias last). Returns (q on the grid, new bias)."""
    cout, d = w.shape
    wmax = (1 << (weight_bits - 1)) - 1
    s = np.asarray(s_w, np.float64).reshape(cout, 1)
    order = np.argsort(-np.diag(h)[:d], kind="stable")
    perm = np.concatenate([order, [d]])
    hp = h[np.ix_(perm, perm)].astype(np.float64)
    dead = np.diag(hp) <= 0
    hp[dead, dead] = 1.0
    hp = hp + damp * float(np.mean(np.diag(hp))) * np.eye(d + 1)
    u = inverse_cholesky_upper(hp)                               # upper, Hinv = uᵀu
    wa = np.concatenate([w[:, order], bias.reshape(cout, 1)], 1).astype(np.float64)
    q = np.empty((cout, d))
    for j in range(d):
        col = wa[:, j]
        qj = np.clip(np.rint(col / s[:, 0]), -wmax, wmax) * s[:, 0]
        q[:, j] = qj
        err = (col - qj) / u[j, j]
        wa[:, j + 1:] -= np.outer(err, u[j, j + 1:])
    out = np.empty_like(q)
    out[:, order] = q
    return out, wa[:, d].copy()


def calibrate(model: HyperpriorModel, scale_of: Callable[[torch.nn.Conv2d], np.ndarray],
              bits_of: Callable[[torch.nn.Conv2d], int], crops: list[np.ndarray],
              damp: float = DEFAULT_DAMP,
              progress: Optional[Callable[[str], None]] = None) -> HyperpriorModel:
    """A copy of `model` whose every convolution holds error-compensated
    weights exactly on its grid (scale_of(conv) per output channel at
    bits_of(conv) bits) and the matching bias. The copy's convolutions map
    one to one onto the original's (same order in .modules()).

    Runs on one thread (restored afterwards): the sums' order, hence every
    bit of the result, must not depend on the machine's thread count."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _calibrate(model, scale_of, bits_of, crops, damp, progress)
    finally:
        torch.set_num_threads(threads)


def _calibrate(model, scale_of, bits_of, crops, damp, progress) -> HyperpriorModel:
    moments = second_moments(model, crops, progress)
    out = copy.deepcopy(model)
    convs = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    copies = [m for m in out.modules() if isinstance(m, torch.nn.Conv2d)]
    for k, (c, c2) in enumerate(zip(convs, copies)):
        w = c.weight.detach().double().reshape(c.out_channels, -1).numpy()
        b = c.bias.detach().double().numpy()
        q, nb = round_compensated(w, b, moments[c], scale_of(c), bits_of(c), damp)
        with torch.no_grad():
            c2.weight.copy_(torch.from_numpy(q).reshape(c.weight.shape))
            c2.bias.copy_(torch.from_numpy(nb))
        if progress:
            progress(f"rounded {k + 1}/{len(convs)} convolutions")
    return out
