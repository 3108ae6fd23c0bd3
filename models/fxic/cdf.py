"""Integer CDF tables for the entropy models, built at export time.

Floats are allowed here: this is the exporter, not the codec. The codec only
ever sees the integer tables this module produces, stored in the model file
(docs/model-format.md) in the layout of entropy/cdf.h: a table of n symbols
is n + 1 uint32 values 0 = c[0] < c[1] < ... < c[n] = 2^16, symbols
0 .. n - 2 code the values offset .. offset + n - 2 directly and the last
symbol, n - 1, is the escape (every other value).

Quantization of a pmf (`pmf_to_cdf`), deterministic for a given float input:

1. p = [pmf..., escape mass] normalised to sum 1; f_i = max(1, floor(p_i·T))
   with T = 2^precision.
2. If sum(f) < T, the missing counts go one each to the symbols with the
   largest rounding loss p_i·T − f_i (ties: lower index).
3. If sum(f) > T (symbols lifted to 1 outnumber the floor losses), the excess
   is taken from the bins above 1 in proportion to f_i − 1 (floored), and the
   remainder one count each from the largest bins (ties: lower index).

Every symbol, the escape included, ends with frequency >= 1.
"""
from __future__ import annotations

import math
from statistics import NormalDist
from typing import Optional, Sequence

import numpy as np

CDF_PRECISION_BITS = 16     # kCdfPrecisionBits in entropy/cdf.h
MAX_SYMBOLS = 1 << 16       # escape included


def _frequencies(p: np.ndarray, total: int) -> np.ndarray:
    """Integer frequencies >= 1 summing to total for probabilities p (sum 1)."""
    n = p.size
    ideal = p * total
    freq = np.maximum(np.floor(ideal).astype(np.int64), 1)
    diff = total - int(freq.sum())
    if diff > 0:
        # Largest loss first; lexsort's last key is the primary one.
        order = np.lexsort((np.arange(n), -(ideal - freq)))
        freq[order[:diff]] += 1     # diff < n: floors lose < 1 each
    elif diff < 0:
        excess = -diff
        avail = freq - 1
        take = (avail * excess) // int(avail.sum())
        freq -= take
        rest = excess - int(take.sum())
        # rest < number of bins whose share had a fraction; each keeps >= 2.
        order = np.lexsort((np.arange(n), -freq))
        order = order[freq[order] > 1][:rest]
        if order.size != rest:
            raise AssertionError("pmf_to_cdf: cannot take back the excess")
        freq[order] -= 1
    return freq


def pmf_to_cdf(pmf: Sequence[float], precision: int = CDF_PRECISION_BITS,
               tail_mass: Optional[float] = None) -> np.ndarray:
    """CDF (uint32, len(pmf) + 2 values) for direct symbols plus an escape.

    pmf: probabilities of the direct symbols (non-negative, finite).
    tail_mass: probability of the escape symbol; default max(0, 1 − sum(pmf)).
    The escape always gets frequency >= 1, like every direct symbol.
    """
    p = np.asarray(pmf, dtype=np.float64).ravel()
    if tail_mass is None:
        tail_mass = max(0.0, 1.0 - float(p.sum()))
    p = np.concatenate([p, [float(tail_mass)]])
    n = p.size
    total = 1 << precision
    if not 1 <= precision <= 16:
        raise ValueError(f"precision {precision} not in 1..16")
    if n > total:
        raise ValueError(f"{n} symbols (escape included) exceed 2^{precision}")
    if not np.all(np.isfinite(p)) or np.any(p < 0):
        raise ValueError("pmf has negative or non-finite entries")
    s = p.sum()
    p = p / s if s > 0 else np.full(n, 1.0 / n)
    freq = _frequencies(p, total)
    cdf = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(freq, out=cdf[1:])
    assert cdf[-1] == total and np.all(freq >= 1)
    return cdf.astype(np.uint32)


def validate_cdf(cdf: np.ndarray, precision: int = CDF_PRECISION_BITS) -> None:
    """Raises ValueError unless cdf starts at 0, ends at 2^precision, increases."""
    c = np.asarray(cdf, dtype=np.int64)
    if c.ndim != 1 or c.size < 2:
        raise ValueError("CDF needs at least 2 values")
    if c[0] != 0 or c[-1] != 1 << precision:
        raise ValueError(f"CDF runs {c[0]}..{c[-1]}, not 0..{1 << precision}")
    if np.any(np.diff(c) <= 0):
        raise ValueError("CDF not strictly increasing")


def validate_tables(lengths: np.ndarray, offsets: np.ndarray, data: np.ndarray,
                    precision: int = CDF_PRECISION_BITS) -> None:
    """Checks a concatenated table set as entropy::IndexedTables::Create does."""
    lengths = np.asarray(lengths, dtype=np.int64)
    offsets = np.asarray(offsets, dtype=np.int64)
    if lengths.ndim != 1 or lengths.shape != offsets.shape or lengths.size == 0:
        raise ValueError("lengths and offsets must be equal, non-empty 1-D arrays")
    start = 0
    for t, (n, o) in enumerate(zip(lengths.tolist(), offsets.tolist())):
        if not 2 <= n <= MAX_SYMBOLS:
            raise ValueError(f"table {t}: {n} symbols not in 2..65536")
        if not -(1 << 31) <= o <= (1 << 31) - 1 or o + n - 2 > (1 << 31) - 1:
            raise ValueError(f"table {t}: offset {o} out of int32 range")
        if start + n + 1 > len(data):
            raise ValueError(f"table {t}: CDF values run past the end")
        try:
            validate_cdf(data[start:start + n + 1], precision)
        except ValueError as e:
            raise ValueError(f"table {t}: {e}") from None
        start += n + 1
    if start != len(data):
        raise ValueError(f"{len(data) - start} CDF values left after the last table")


def _concat(tables: list[tuple[np.ndarray, int]]
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    lengths = np.array([c.size - 1 for c, _ in tables], dtype=np.uint32)
    offsets = np.array([o for _, o in tables], dtype=np.int32)
    data = np.concatenate([c for c, _ in tables]).astype(np.uint32)
    return lengths, offsets, data


def gaussian_pmf(sigma: float, radius: int) -> tuple[np.ndarray, float]:
    """P(v − ½ < N(0, σ²) < v + ½) for v in [−radius, radius], and the tail.

    Computed from the lower tail with erfc (no cancellation near the centre).
    """
    c = 1.0 / (sigma * math.sqrt(2.0))
    pmf = np.empty(2 * radius + 1, dtype=np.float64)
    for i in range(2 * radius + 1):
        a = abs(i - radius)
        pmf[i] = 0.5 * math.erfc((a - 0.5) * c) - 0.5 * math.erfc((a + 0.5) * c)
    tail = math.erfc((radius + 0.5) * c)   # both sides beyond ±(radius + ½)
    return pmf, tail


def gaussian_tables(scales: Sequence[float], tail_mass: float = 1e-9,
                    precision: int = CDF_PRECISION_BITS
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(lengths u32 [S], offsets i32 [S], data u32) of zero-mean Gaussian tables.

    Table k codes v in [−R_k, R_k] directly, R_k = max(1, ceil(σ_k · q)) with
    q the standard normal quantile of 1 − tail_mass/2; the escape takes the
    rest of the mass. lengths = 2·R_k + 2 (escape included), offsets = −R_k.
    """
    if not 0 < tail_mass < 1:
        raise ValueError("tail_mass must be in (0, 1)")
    q = -NormalDist().inv_cdf(tail_mass / 2)
    tables = []
    for sigma in scales:
        sigma = float(sigma)
        if not sigma > 0 or not math.isfinite(sigma):
            raise ValueError(f"scale {sigma} must be positive and finite")
        radius = max(1, math.ceil(sigma * q))
        if 2 * radius + 2 > MAX_SYMBOLS:
            raise ValueError(f"scale {sigma}: {2 * radius + 2} symbols exceed 65536")
        pmf, tail = gaussian_pmf(sigma, radius)
        tables.append((pmf_to_cdf(pmf, precision, tail), -radius))
    return _concat(tables)


def factorized_tables(pmfs: Sequence[Sequence[float]], offsets: Sequence[int],
                      precision: int = CDF_PRECISION_BITS
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(lengths, offsets, data) with one table per channel for the z prior.

    pmfs[c][i] is the probability of value offsets[c] + i; the escape takes
    max(0, 1 − sum(pmfs[c])).
    """
    if len(pmfs) != len(offsets) or len(pmfs) == 0:
        raise ValueError("need one offset per pmf, at least one pmf")
    return _concat([(pmf_to_cdf(p, precision), int(o))
                    for p, o in zip(pmfs, offsets)])


def scale_table(S: int = 64, lo: float = 0.11, hi: float = 256.0) -> np.ndarray:
    """S scales log-spaced from lo to hi (float64)."""
    if S < 1 or not 0 < lo <= hi:
        raise ValueError("scale_table needs S >= 1 and 0 < lo <= hi")
    if S == 1:
        return np.array([lo], dtype=np.float64)
    return np.exp(np.linspace(math.log(lo), math.log(hi), S))


def scale_thresholds(scales: Sequence[float], sigma_frac_bits: int) -> np.ndarray:
    """int32 thresholds T[j] = ceil(sqrt(s_j · s_{j+1}) · 2^sigma_frac_bits).

    With σ_int = round(σ · 2^sigma_frac_bits), the codec's
    idx = #{j : σ_int >= T[j]} picks the table whose scale is nearest σ in
    log distance. Raises ValueError unless T strictly increases (more
    fractional bits are then needed) and fits int32.
    """
    s = np.asarray(scales, dtype=np.float64)
    if s.ndim != 1 or s.size < 1 or np.any(np.diff(s) <= 0):
        raise ValueError("scales must be a strictly increasing 1-D sequence")
    mid = np.sqrt(s[:-1] * s[1:]) * float(1 << sigma_frac_bits)
    t = np.ceil(mid)
    if np.any(np.diff(t) <= 0):
        raise ValueError(
            f"thresholds not strictly increasing at sigma_frac_bits={sigma_frac_bits}")
    if t.size and (t[0] < -(1 << 31) or t[-1] > (1 << 31) - 1):
        raise ValueError("thresholds do not fit int32")
    return t.astype(np.int32)
