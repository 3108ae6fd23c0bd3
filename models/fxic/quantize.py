"""Float layers → integer tensors: the quantization shared by the exporter and
the synthetic-model generator (docs/fixed-point.md gives the semantics).

Weights get a per-output-channel range (symmetric, `weight_bits`), biases are
stored at the accumulator scale, and every rescaling real multiplier r
becomes M0·2^−n with M0 an int32.
"""
from __future__ import annotations

import math
from typing import Union

import numpy as np

MAX = 32767
WEIGHT_BITS = 8

# --------------------------------------------------------------------------

def mult_shift(r: float, n_lo: int, n_hi: int) -> tuple[int, int]:
    """(M0, n) with M0·2^−n ≈ r, M0 in [1, 2^31 − 1], n_lo ≤ n ≤ n_hi."""
    if not r > 0:
        raise ValueError(f"multiplier {r} must be positive")
    frac, exp = math.frexp(r)            # r = frac·2^exp, frac in [0.5, 1)
    n = 31 - exp
    n = min(max(n, n_lo), n_hi)
    m0 = int(round(r * 2.0 ** n))
    while m0 > (1 << 31) - 1 and n > n_lo:
        n -= 1
        m0 = int(round(r * 2.0 ** n))
    if m0 > (1 << 31) - 1:
        raise ValueError(f"multiplier {r} not representable with n >= {n_lo}")
    return max(m0, 1), n


def peak_weight_scale(w: np.ndarray, weight_bits: int = WEIGHT_BITS) -> np.ndarray:
    """Post-training per-output-channel weight scale: the channel's peak |w|
    maps to the largest weight, 2^(b−1) − 1 (w: [cout, ...], float64)."""
    wmax = (1 << (weight_bits - 1)) - 1
    peak = np.abs(w).reshape(w.shape[0], -1).max(axis=1)
    return np.where(peak > 0, peak / wmax, 1.0)


def quantize_weights(w: np.ndarray, s_w: np.ndarray, weight_bits: int = WEIGHT_BITS
                     ) -> np.ndarray:
    """Integer weights clip(rint(w / s_w[o]), ±(2^(b−1) − 1)) as int8.

    The clip only matters for a learned range (QAT) smaller than the peak.
    """
    wmax = (1 << (weight_bits - 1)) - 1
    s = np.asarray(s_w, np.float64).reshape((-1,) + (1,) * (w.ndim - 1))
    return np.clip(np.rint(w / s), -wmax, wmax).astype(np.int8)


def quantize_conv(w: np.ndarray, b: np.ndarray, s_in: float,
                  s_out: Union[float, np.ndarray],
                  stride: int, out_lo: int, out_hi: int,
                  weight_bits: int = WEIGHT_BITS,
                  s_w: Union[np.ndarray, None] = None) -> tuple[dict, dict]:
    """Float conv (w: [cout, K, K, cin], b: [cout]) → (meta fields, tensors).

    s_out may be one scale or one per output channel. s_w, the weight scale
    per output channel, defaults to the post-training peak_weight_scale; QAT
    passes its learned ranges (range / (2^(b−1) − 1)).
    """
    cout, k, _, cin = w.shape
    if s_w is None:
        s_w = peak_weight_scale(w, weight_bits)
    s_w = np.asarray(s_w, np.float64)
    wq = quantize_weights(w, s_w, weight_bits)
    bq = np.rint(b / (s_w * s_in)).astype(np.int64)
    s_out = np.broadcast_to(np.asarray(s_out, np.float64), (cout,))
    mult, shift = zip(*(mult_shift(s_w[o] * s_in / s_out[o], 0, 62) for o in range(cout)))
    meta = {"op": "conv", "kernel": k, "stride": stride, "cin": cin, "cout": cout,
            "out_lo": out_lo, "out_hi": out_hi}
    tensors = {"weight": wq, "bias": bq.astype(np.int32),
               "mult": np.array(mult, np.int32), "shift": np.array(shift, np.uint8)}
    return meta, tensors


def quantize_norm(gamma: np.ndarray, beta: np.ndarray, s_in: float, s_out: float,
                  in_max: int, out_lo: int, out_hi: int,
                  inverse: bool) -> tuple[dict, dict]:
    """Float GDN/IGDN (γ [C, C] ≥ 0, β [C] > 0) → (meta fields, tensors).

    sq = x²·2^−sq_shift, γ_int = γ / s_γ, β_int = β / s_norm with
    s_norm = s_in²·2^sq_shift·s_γ. The integer output is
    x·2^15·M0·2^−n / sqrt(norm) (GDN) or x·2^15·M0·2^−n·sqrt(norm) (IGDN).
    """
    c = gamma.shape[0]
    sq_shift = 0
    while (in_max * in_max + (1 << sq_shift >> 1)) >> sq_shift > MAX:
        sq_shift += 1
    q = (in_max * in_max + (1 << sq_shift >> 1)) >> sq_shift
    s_sq = s_in * s_in * 2.0 ** sq_shift
    gmax = float(gamma.max())
    s_gamma = gmax / MAX if gmax > 0 else float(beta.max()) / (s_sq * 2.0 ** 20)
    while True:
        gq = np.rint(gamma / s_gamma).astype(np.int64)
        bq = np.maximum(np.rint(beta / (s_sq * s_gamma)), 1).astype(np.int64)
        if np.all(bq + q * gq.sum(axis=1) <= (1 << 31) - 1):
            break
        s_gamma *= 2.0
    s_norm = s_sq * s_gamma
    if inverse:
        r = s_in * math.sqrt(s_norm) / s_out / 2.0 ** 15
        n_lo, n_hi = 15, 62
    else:
        r = s_in / (math.sqrt(s_norm) * s_out) / 2.0 ** 15
        n_lo, n_hi = 0, 47
    m0, n = mult_shift(r, n_lo, n_hi)
    meta = {"op": "igdn" if inverse else "gdn", "channels": c, "sq_shift": sq_shift,
            "out_lo": out_lo, "out_hi": out_hi}
    tensors = {"gamma": gq.astype(np.int16), "beta": bq.astype(np.int32),
               "mult": np.full(c, m0, np.int32), "shift": np.full(c, n, np.uint8)}
    return meta, tensors


