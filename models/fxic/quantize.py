"""Float layers → integer tensors: the quantization shared by the exporter and
the synthetic-model generator (docs/fixed-point.md gives the semantics).

Weights get a per-output-channel range (symmetric, `weight_bits`), biases are
stored at the accumulator scale, and every rescaling real multiplier r
becomes M0·2^−n with M0 an int32.

`QuantOptions` holds the exporter's configurable choices (docs/bitwidth.md):
weight bit widths 2..8 and hidden-activation bit widths 8..16, globally and
per layer; per-tensor or per-channel weight ranges; ranges from the peak |w|,
from k·std, or learned (a QAT checkpoint); and shift-only rescaling, where
every weight and activation scale is a power of two (up to the pixel format's
fixed factor 255, absorbed by the first and last layers' weight scales) so that
every convolution and GDN/IGDN multiplier M0·2^−n is an exact power of two.
The defaults reproduce the exporter's original output byte for byte.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Union

import numpy as np

MAX = 32767
WEIGHT_BITS = 8
ACT_BITS = 16
WEIGHT_RANGES = ("peak", "std", "learned")
GRANULARITIES = ("channel", "tensor")


@dataclass
class QuantOptions:
    """Bit widths, weight ranges and rescaling of an export.

    Layers are named as in the model file: `<net>.<i>` (`g_a.0`, `g_s.9`, …).
    Weight bits apply to a convolution; activation bits and range shifts apply
    to the activation a layer produces (a convolution's output — after the
    depth-to-space for a sub-pixel convolution — or a GDN/IGDN output). Only
    the hidden activations inside g_a, h_a, h_s and g_s are covered; the
    interface formats stay fixed: input pixels (8 bits), y (g_a's output,
    int16), y_g and μ (2^−f_y), σ (2^−7), z (2^−f_z), the g_s input and the
    g_s output (pixels·2^6).

    - weight_bits / layer_weight_bits: 2..8; integers in ±(2^(b−1) − 1).
    - act_bits / layer_act_bits: 8..16; a hidden activation's integer bound
      is A = min(2^(b−1) − 1, the bound the consumer's overflow proof allows).
    - act_shift: layer → k ≥ 0: the activation's real range is its training
      clip / 2^k (k more fractional bits at the same width; values beyond
      saturate).
    - granularity: one weight range per output channel or per tensor.
    - weight_range: "peak" (max |w|), "std" (min(peak, std_k·std(w))) or
      "learned" (the ranges of a QAT checkpoint, passed by the caller).
    - pow2: shift-only rescaling (power-of-two scales; every M0·2^−n is 2^e).
    """
    weight_bits: int = WEIGHT_BITS
    layer_weight_bits: dict = field(default_factory=dict)
    act_bits: int = ACT_BITS
    layer_act_bits: dict = field(default_factory=dict)
    act_shift: dict = field(default_factory=dict)
    granularity: str = "channel"
    weight_range: str = "peak"
    std_k: float = 3.0
    pow2: bool = False

    def __post_init__(self) -> None:
        for name, b in [("weight_bits", self.weight_bits), *self.layer_weight_bits.items()]:
            if not (isinstance(b, int) and 2 <= b <= 8):
                raise ValueError(f"weight bits of {name}: {b} not in 2..8")
        for name, b in [("act_bits", self.act_bits), *self.layer_act_bits.items()]:
            if not (isinstance(b, int) and 8 <= b <= 16):
                raise ValueError(f"activation bits of {name}: {b} not in 8..16")
        for name, k in self.act_shift.items():
            if not (isinstance(k, int) and 0 <= k <= 8):
                raise ValueError(f"activation range shift of {name}: {k} not in 0..8")
        if self.granularity not in GRANULARITIES:
            raise ValueError(f"granularity {self.granularity!r} not in {GRANULARITIES}")
        if self.weight_range not in WEIGHT_RANGES:
            raise ValueError(f"weight range {self.weight_range!r} not in {WEIGHT_RANGES}")
        if not self.std_k > 0:
            raise ValueError(f"std_k {self.std_k} must be positive")
        if self.weight_range == "learned" and self.granularity != "channel":
            raise ValueError("learned ranges are per channel")

    def wbits(self, layer: str) -> int:
        return self.layer_weight_bits.get(layer, self.weight_bits)

    def abits(self, layer: str) -> int:
        return self.layer_act_bits.get(layer, self.act_bits)

    def ashift(self, layer: str) -> int:
        return self.act_shift.get(layer, 0)

    @property
    def max_weight_bits(self) -> int:
        return max([self.weight_bits, *self.layer_weight_bits.values()])

    def is_default(self) -> bool:
        return self == QuantOptions()

    def to_dict(self) -> dict:
        return asdict(self)

    @staticmethod
    def from_dict(d: dict) -> "QuantOptions":
        return QuantOptions(**d)

    def describe(self) -> str:
        """Short text for a model's description (empty for the defaults)."""
        parts = []
        if self.layer_weight_bits:
            parts.append("weight bits " + " ".join(
                f"{k}={v}" for k, v in sorted(self.layer_weight_bits.items())))
        if self.act_bits != ACT_BITS or self.layer_act_bits:
            parts.append(f"hidden activation bits {self.act_bits}" + "".join(
                f" {k}={v}" for k, v in sorted(self.layer_act_bits.items())))
        if self.act_shift:
            parts.append("activation range shifts " + " ".join(
                f"{k}={v}" for k, v in sorted(self.act_shift.items())))
        if self.granularity != "channel":
            parts.append("per-tensor weight ranges")
        if self.weight_range == "std":
            parts.append(f"weight ranges {self.std_k:g}·std")
        elif self.weight_range == "learned":
            parts.append("learned weight ranges")
        if self.pow2:
            parts.append("shift-only rescaling (power-of-two scales)")
        return "; ".join(parts)


def parse_layer_ints(items: list[str], what: str) -> dict:
    """["g_a.0=6", "h_s.4=5"] → {"g_a.0": 6, "h_s.4": 5}."""
    out = {}
    for item in items:
        for part in item.split(","):
            if not part:
                continue
            name, sep, val = part.partition("=")
            if not sep:
                raise ValueError(f"{what}: expected LAYER=VALUE, got {part!r}")
            out[name.strip()] = int(val)
    return out

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


def pow2_mult_shift(r: float, n_lo: int, n_hi: int) -> tuple[int, int]:
    """(M0, n) with M0·2^−n = r exactly for r = 2^e: M0 = 1 and n = −e when
    that shift is allowed, else the nearest allowed n with M0 = 2^(n − (−e))
    (a power of two too)."""
    if not r > 0:
        raise ValueError(f"multiplier {r} must be positive")
    e = int(round(math.log2(r)))            # r = 2^e (up to float rounding)
    if abs(r / 2.0 ** e - 1.0) > 1e-9:
        raise ValueError(f"multiplier {r} is not a power of two")
    n = min(max(-e, n_lo), n_hi)
    if n + e < 0 or n + e > 30:
        raise ValueError(f"multiplier 2^{e} not representable with n in [{n_lo}, {n_hi}]")
    return 1 << (n + e), n


def peak_weight_scale(w: np.ndarray, weight_bits: int = WEIGHT_BITS) -> np.ndarray:
    """Post-training per-output-channel weight scale: the channel's peak |w|
    maps to the largest weight, 2^(b−1) − 1 (w: [cout, ...], float64)."""
    wmax = (1 << (weight_bits - 1)) - 1
    peak = np.abs(w).reshape(w.shape[0], -1).max(axis=1)
    return np.where(peak > 0, peak / wmax, 1.0)


def weight_scale(w: np.ndarray, weight_bits: int, method: str = "peak",
                 granularity: str = "channel", std_k: float = 3.0) -> np.ndarray:
    """Weight scale per output channel (float64) from statistics of w
    ([cout, ...]): the range is the peak |w| ("peak") or min(peak, k·std(w))
    ("std"), per output channel or over the whole tensor; range ↦ 2^(b−1) − 1.
    Per tensor, every channel gets the same scale."""
    wmax = (1 << (weight_bits - 1)) - 1
    flat = w.reshape(w.shape[0], -1) if granularity == "channel" else w.reshape(1, -1)
    peak = np.abs(flat).max(axis=1)
    if method == "peak":
        rng = peak
    elif method == "std":
        rng = np.minimum(peak, std_k * flat.std(axis=1))
    else:
        raise ValueError(f"weight range method {method!r} has no statistics")
    s = np.where(rng > 0, rng / wmax, 1.0)
    return np.broadcast_to(s, (w.shape[0],)).astype(np.float64) if granularity != "channel" else s


def pow2_snap(s: np.ndarray, unit: float = 1.0) -> np.ndarray:
    """Rounds scales up to the grid unit·2^k (k integer): the smallest grid
    value ≥ s, so a range that fitted still fits."""
    s = np.asarray(s, np.float64)
    k = np.ceil(np.log2(s / unit) - 1e-12)
    return unit * np.exp2(k)


def is_pow2(x: float) -> bool:
    return x > 0 and math.frexp(x)[0] == 0.5


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
                  s_w: Union[np.ndarray, None] = None,
                  pow2: bool = False) -> tuple[dict, dict]:
    """Float conv (w: [cout, K, K, cin], b: [cout]) → (meta fields, tensors).

    s_out may be one scale or one per output channel. s_w, the weight scale
    per output channel, defaults to the post-training peak_weight_scale; QAT
    passes its learned ranges (range / (2^(b−1) − 1)). pow2: every
    s_w·s_in/s_out must be a power of two, written as an exact M0·2^−n
    (pow2_mult_shift).
    """
    cout, k, _, cin = w.shape
    if s_w is None:
        s_w = peak_weight_scale(w, weight_bits)
    s_w = np.asarray(s_w, np.float64)
    wq = quantize_weights(w, s_w, weight_bits)
    bq = np.rint(b / (s_w * s_in)).astype(np.int64)
    s_out = np.broadcast_to(np.asarray(s_out, np.float64), (cout,))
    ms = pow2_mult_shift if pow2 else mult_shift
    mult, shift = zip(*(ms(s_w[o] * s_in / s_out[o], 0, 62) for o in range(cout)))
    meta = {"op": "conv", "kernel": k, "stride": stride, "cin": cin, "cout": cout,
            "out_lo": out_lo, "out_hi": out_hi}
    tensors = {"weight": wq, "bias": bq.astype(np.int32),
               "mult": np.array(mult, np.int32), "shift": np.array(shift, np.uint8)}
    return meta, tensors


def quantize_norm(gamma: np.ndarray, beta: np.ndarray, s_in: float, s_out: float,
                  in_max: int, out_lo: int, out_hi: int,
                  inverse: bool, pow2: bool = False) -> tuple[dict, dict]:
    """Float GDN/IGDN (γ [C, C] ≥ 0, β [C] > 0) → (meta fields, tensors).

    sq = x²·2^−sq_shift, γ_int = γ / s_γ, β_int = β / s_norm with
    s_norm = s_in²·2^sq_shift·s_γ. The integer output is
    x·2^15·M0·2^−n / sqrt(norm) (GDN) or x·2^15·M0·2^−n·sqrt(norm) (IGDN).

    pow2 (s_in and s_out powers of two): s_γ = 2^g with sq_shift + g even, so
    sqrt(s_norm) = s_in·2^((sq_shift + g)/2) and the multiplier is an exact
    power of two. γ then keeps 13 to 15 of its 15 bits.
    """
    c = gamma.shape[0]
    sq_shift = 0
    while (in_max * in_max + (1 << sq_shift >> 1)) >> sq_shift > MAX:
        sq_shift += 1
    q = (in_max * in_max + (1 << sq_shift >> 1)) >> sq_shift
    s_sq = s_in * s_in * 2.0 ** sq_shift
    gmax = float(gamma.max())
    s_gamma = gmax / MAX if gmax > 0 else float(beta.max()) / (s_sq * 2.0 ** 20)
    if pow2:
        g = math.ceil(math.log2(s_gamma) - 1e-12)
        if (g + sq_shift) % 2:
            g += 1
        s_gamma = 2.0 ** g
    while True:
        gq = np.rint(gamma / s_gamma).astype(np.int64)
        bq = np.maximum(np.rint(beta / (s_sq * s_gamma)), 1).astype(np.int64)
        if np.all(bq + q * gq.sum(axis=1) <= (1 << 31) - 1):
            break
        s_gamma *= 4.0 if pow2 else 2.0
    s_norm = s_sq * s_gamma
    if inverse:
        r = s_in * math.sqrt(s_norm) / s_out / 2.0 ** 15
        n_lo, n_hi = 15, 62
    else:
        r = s_in / (math.sqrt(s_norm) * s_out) / 2.0 ** 15
        n_lo, n_hi = 0, 47
    m0, n = (pow2_mult_shift if pow2 else mult_shift)(r, n_lo, n_hi)
    meta = {"op": "igdn" if inverse else "gdn", "channels": c, "sq_shift": sq_shift,
            "out_lo": out_lo, "out_hi": out_hi}
    tensors = {"gamma": gq.astype(np.int16), "beta": bq.astype(np.int32),
               "mult": np.full(c, m0, np.int32), "shift": np.full(c, n, np.uint8)}
    return meta, tensors


