"""Torch mirror of intops.py (docs/fixed-point.md) for quantization-aware training.

Two kinds of functions live here:

* Exact integer operations on torch int64 tensors, one per intops function
  (`rounding_shift_right`, `mul_shift`, `floor_log2`, `rsqrt_q30`,
  `normalize`, `interpolate_gains`), batched over NCHW images, and
  `exact_conv2d`, the int32 accumulator of a convolution computed exactly
  with float32 convolutions. They are checked against intops (the numpy
  mirror of the C++ code) in models/tests/test_qat.py. Their inputs are
  in range because the exporter builds every format from the overflow
  proofs (and `intref.check_model` verifies them at export and at every QAT
  checkpoint), so unlike intops they do not re-check bounds on every call.
* `exact(surrogate, value, mask)`, the one straight-through estimator: its
  forward result is `value` (the integers the codec computes, converted to
  the surrogate's dtype: activations are int16-range, exact in float32) and
  its backward pass sends the gradient to the differentiable `surrogate`
  (times `mask`, the clamp's pass-through region). No
  `x + (q − x).detach()` tricks: those are not exact in floating point.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from .intops import RSQRT_TABLE

_RSQRT = torch.from_numpy(RSQRT_TABLE.copy())


class _Exact(torch.autograd.Function):
    @staticmethod
    def forward(ctx, surrogate, value, mask):
        ctx.has_mask = mask is not None
        if ctx.has_mask:
            ctx.save_for_backward(mask)
        out = value.to(surrogate.dtype)
        return out.clone() if out is value else out

    @staticmethod
    def backward(ctx, g):
        if ctx.has_mask:
            (mask,) = ctx.saved_tensors
            g = g * mask.to(g.dtype)
        return g, None, None


def exact(surrogate: torch.Tensor, value: torch.Tensor,
          mask: torch.Tensor | None = None) -> torch.Tensor:
    """Forward: `value` (in surrogate's dtype); backward: d/d surrogate (·mask)."""
    return _Exact.apply(surrogate, value.detach(), mask)


def to_int(acc: torch.Tensor, what: str) -> torch.Tensor:
    """An integer-valued float64 tensor as int64, refusing any fraction (a
    float64 sum of integers is exact only while |partial sums| < 2^53)."""
    out = acc.to(torch.int64)
    if not torch.equal(out.to(acc.dtype), acc):
        raise ArithmeticError(f"{what}: float64 accumulator is not an exact integer")
    return out


F32_EXACT = 1 << 24     # float32 represents every integer below this exactly


def _groups(l1: torch.Tensor, digit_max: int) -> list[tuple[int, int]]:
    """Contiguous input-channel groups [s, e) with, for every output channel o,
    digit_max · Σ_{i in [s, e)} l1[o, i] < 2^24 (greedy, in channel order)."""
    cin = l1.shape[1]
    cum = torch.cat([torch.zeros_like(l1[:, :1]), l1.cumsum(1)], 1)   # [cout, cin + 1]
    groups, s = [], 0
    while s < cin:
        over = (cum[:, s + 1:] - cum[:, s:s + 1]).amax(0) * digit_max >= F32_EXACT
        bad = torch.nonzero(over)
        # over[j] is about [s, s + 1 + j); one channel alone always fits
        # (255 · 127 · 25 < 2^24).
        e = s + max(int(bad[0]), 1) if bad.numel() else cin
        groups.append((s, e))
        s = e
    return groups


def exact_conv2d(x: torch.Tensor, w: torch.Tensor, bias: torch.Tensor, stride: int,
                 padding: int) -> torch.Tensor:
    """bias + Σ w·x, the codec's int32 accumulator, as int64 — computed with
    float32 convolutions that are exact.

    x: integer-valued (B, Cin, H, W), |x| ≤ 32767; w: integer-valued float32
    [Cout, Cin, K, K]; bias: int64 [Cout]. A float32 sum of integers is exact
    in any order when every term and every partial sum stays below 2^24, and
    each partial sum is at most Σ|w|·max|x| over its terms. When that bound
    exceeds 2^24, x is split into two base-256 digits (x = 256·hi + lo,
    lo in [0, 255], hi in [−128, 127]) and the input channels into groups
    whose bound with one digit stays below 2^24; the partial results are
    integers below 2^24 and are combined in int64. (float64 convolutions
    would be exact too, but run ~30× slower on CPU.)
    """
    xi = x.detach().to(torch.int64)
    l1 = w.detach().abs().sum((2, 3)).to(torch.int64)         # [cout, cin]
    a = int(xi.abs().max()) if xi.numel() else 0
    if a * int(l1.sum(1).max()) < F32_EXACT:
        acc = F.conv2d(xi.float(), w, None, stride, padding).to(torch.int64)
    else:
        b = xi.shape[0]
        digits = torch.cat([xi & 255, xi >> 8]).float()       # [lo; hi]
        acc = None
        for s, e in _groups(l1, 255):
            out = F.conv2d(digits[:, s:e], w[:, s:e], None, stride, padding).to(torch.int64)
            part = out[b:] * 256 + out[:b]
            acc = part if acc is None else acc + part
    return acc + bias.view(1, -1, 1, 1)


# --------------------------------------------------------------------------
# fixedpoint/rounding.h
# --------------------------------------------------------------------------

def rounding_shift_right(x: torch.Tensor, n) -> torch.Tensor:
    """floor((x + 2^(n−1)) / 2^n), x for n == 0 (int64, n broadcasts)."""
    n = torch.as_tensor(n, dtype=torch.int64)
    half = torch.where(n > 0, torch.bitwise_left_shift(torch.ones_like(n), (n - 1).clamp_min(0)),
                       torch.zeros_like(n))
    return torch.bitwise_right_shift(x + half, n)


def mul_shift(a: torch.Tensor, m, n) -> torch.Tensor:
    """rounding_shift_right(a · m, n); |a · m| < 2^62 by the overflow proofs."""
    return rounding_shift_right(a * torch.as_tensor(m, dtype=torch.int64), n)


def floor_log2(v: torch.Tensor) -> torch.Tensor:
    """Leading-bit position of v (1 ≤ v < 2^32), by binary search like intops."""
    log = torch.zeros_like(v)
    for step in (16, 8, 4, 2, 1):
        big = v >= (1 << step)
        v = torch.where(big, v >> step, v)
        log = log + big.to(torch.int64) * step
    return log


# --------------------------------------------------------------------------
# fixedpoint/normalization.h
# --------------------------------------------------------------------------

def rsqrt_q30(norm: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(k, mq, r): norm = m·4^k, mq = m in Q28, r = 1/sqrt(m) in Q30."""
    k = floor_log2(norm) >> 1
    up = (28 - 2 * k).clamp_min(0)
    down = (2 * k - 28).clamp_min(0)
    mq = torch.where(2 * k <= 28, torch.bitwise_left_shift(norm, up), norm >> down)
    r0 = _RSQRT[(mq >> 22) - 64]
    h = rounding_shift_right(mq * r0 * r0, 28)
    r = rounding_shift_right(r0 * (3 * (1 << 30) - h), 16)
    return k, mq, r


def normalize(x: torch.Tensor, gamma: torch.Tensor, beta: torch.Tensor,
              mult: torch.Tensor, shift: torch.Tensor, sq_shift: int,
              lo: int, hi: int, inverse: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """Integer GDN / IGDN as fxic::Gdn / fxic::Igdn on x (B, C, H, W) int64.

    gamma [C, C], beta / mult / shift [C] int64. Returns (clamped output,
    unclamped value) int64. The γ·sq sum runs as a float64 1×1 convolution:
    exact, since every term and partial sum is an integer below 2^31 (the
    normalization's overflow proof).
    """
    c = x.shape[1]
    sq = rounding_shift_right(x * x, sq_shift)
    norm = to_int(torch.nn.functional.conv2d(sq.double(), gamma.double().view(c, c, 1, 1),
                                             beta.double()), "normalization")
    k, mq, r = rsqrt_q30(norm)
    m = mult.view(1, c, 1, 1)
    n = shift.view(1, c, 1, 1)
    if inverse:
        s = rounding_shift_right(mq * r, 28)
        v = mul_shift(rounding_shift_right(x * s, 15), m, n - k)
    else:
        v = mul_shift(rounding_shift_right(x * r, 15), m, n + k)
    return v.clamp(lo, hi), v


# --------------------------------------------------------------------------
# fixedpoint/linear_scaling.h (gains)
# --------------------------------------------------------------------------

def interpolate_gains(table: torch.Tensor, qf: torch.Tensor) -> torch.Tensor:
    """Per-sample multipliers (B, C) at qualities qf (B,) in Q8 from table [L, C].

    G[l] + rounding_shift_right((G[l+1] − G[l])·t, 8), l = min(qf >> 8, L − 2).
    """
    levels = table.shape[0]
    if levels == 1:
        return table[0].expand(qf.shape[0], -1)
    if torch.any(qf < 0) or torch.any(qf > 256 * (levels - 1)):
        raise ValueError(f"quality (Q8) outside [0, {256 * (levels - 1)}]")
    level = torch.clamp(qf >> 8, max=levels - 2)
    t = (qf - 256 * level).view(-1, 1)
    lo, hi = table[level], table[level + 1]
    return lo + rounding_shift_right((hi - lo) * t, 8)
