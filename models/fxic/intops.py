"""Integer reference of docs/fixed-point.md: mirrors fixedpoint/ line by line.

Every function here has a C++ twin of the same name in CamelCase
(``rounding_shift_right`` <-> ``fxic::RoundingShiftRight``) and must give the
same integers, bit for bit: the exporter uses this module to produce and check
the integer model, and the cross-check hashes in models/tests/test_intops.py
and tests/fixedpoint/cross_check_test.cpp pin both sides to each other.

Only Python ints and numpy int64 are used in the integer paths: no float, no
``np.round`` (half to even), no ``/`` division.  Arrays are images in HWC
layout (channels innermost), like ``fxic::Tensor16``.  Where the C++ code has
an unchecked precondition (undefined behaviour if violated), this mirror
raises ``OverflowError`` or ``ValueError`` instead, so the exporter notices.
"""
from __future__ import annotations

import math
from typing import Optional, Tuple, Union

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]
IntLike = Union[int, np.integer, npt.ArrayLike]

# Largest accumulator magnitude any int32 accumulator may reach.
MAX_ACCUMULATOR = (1 << 31) - 1
# Products fed to rounding_shift_right / mul_shift stay below this.
PRODUCT_LIMIT = 1 << 62
# Activation ranges lie inside [-MAX_ACTIVATION, MAX_ACTIVATION].
MAX_ACTIVATION = 32767
RSQRT_TABLE_SIZE = 192


def _i64(x: IntLike) -> IntArray:
    return np.asarray(x, dtype=np.int64)


def _scalar_if_0d(x: IntArray) -> IntArray:
    return x[()] if x.ndim == 0 else x


# --------------------------------------------------------------------------
# fixedpoint/rounding.h
# --------------------------------------------------------------------------

def rounding_shift_right(x: IntLike, n: IntLike) -> IntArray:
    """x / 2^n rounded half up: floor((x + 2^(n-1)) / 2^n); x for n == 0.

    Domain: |x| < 2^62, 0 <= n <= 62 (elementwise; x and n broadcast).
    """
    x = _i64(x)
    n = _i64(n)
    if np.any(x >= PRODUCT_LIMIT) or np.any(x <= -PRODUCT_LIMIT):
        raise OverflowError('rounding_shift_right: |x| >= 2^62')
    if np.any(n < 0) or np.any(n > 62):
        raise ValueError('rounding_shift_right: n outside [0, 62]')
    half = np.left_shift(np.int64(1), np.maximum(n - 1, 0))
    return _scalar_if_0d(np.where(n == 0, x, (x + half) >> n))


def clamp(x: IntLike, lo: IntLike, hi: IntLike) -> IntArray:
    """min(max(x, lo), hi). Precondition: lo <= hi."""
    return _scalar_if_0d(np.minimum(np.maximum(_i64(x), lo), hi))


def saturate_cast(x: IntLike, dtype: npt.DTypeLike) -> np.ndarray:
    """x clamped to the range of the integer dtype, converted to it."""
    info = np.iinfo(dtype)
    return np.asarray(clamp(x, info.min, info.max)).astype(dtype)


def _check_product(a: IntArray, m: IntArray) -> None:
    """Raises unless |a * m| < 2^62 elementwise (checked without overflow)."""
    abs_a = np.abs(a)
    abs_m = np.abs(m)
    limit = (PRODUCT_LIMIT - 1) // np.maximum(abs_m, 1)
    if np.any(abs_a > limit):
        raise OverflowError('mul_shift: |a * m| >= 2^62')


def mul_shift(a: IntLike, m: IntLike, n: IntLike) -> IntArray:
    """rounding_shift_right(a * m, n). Domain: |a * m| < 2^62."""
    a = _i64(a)
    m = _i64(m)
    _check_product(a, m)
    return rounding_shift_right(a * m, n)


def floor_log2(v: IntLike) -> IntArray:
    """Position of the leading one bit of v (uint32), v >= 1."""
    v = _i64(v)
    if np.any(v < 1) or np.any(v >= (1 << 32)):
        raise ValueError('floor_log2: v outside [1, 2^32)')
    log = np.zeros_like(v)
    for step in (16, 8, 4, 2, 1):
        big = v >= (1 << step)
        v = np.where(big, v >> step, v)
        log = log + np.where(big, step, 0)
    return _scalar_if_0d(log)


# --------------------------------------------------------------------------
# fixedpoint/linear_scaling.h
# --------------------------------------------------------------------------

def linear_scale(acc: IntLike, mult: IntLike, shift: IntLike, lo: int,
                 hi: int) -> np.ndarray:
    """Clamp(MulShift(acc, mult, shift), lo, hi) as int16 (broadcasting)."""
    return np.asarray(clamp(mul_shift(acc, mult, shift), lo, hi)).astype(
        np.int16)


def interpolate_gain(g_lo: IntLike, g_hi: IntLike, t: int) -> IntArray:
    """g_lo + rounding_shift_right((g_hi - g_lo) * t, 8), 0 <= t <= 256."""
    g_lo = _i64(g_lo)
    return g_lo + rounding_shift_right((_i64(g_hi) - g_lo) * t, 8)


def interpolate_gains(table: IntLike, qf: int) -> IntArray:
    """Per-channel multipliers at quality qf (Q8) from table[levels][C]."""
    table = _i64(table)
    levels = table.shape[0]
    if levels < 1 or table.ndim != 2 or table.shape[1] < 1:
        raise ValueError('gains: need at least one level and one channel')
    qf_max = 256 * (levels - 1)
    if qf < 0 or qf > qf_max:
        raise ValueError(f'gains: quality {qf} (Q8) outside [0, {qf_max}]')
    if levels == 1:
        return table[0].copy()
    level = min(qf >> 8, levels - 2)
    t = qf - 256 * level
    return interpolate_gain(table[level], table[level + 1], t)


def apply_gain(x: IntLike, gain: IntLike, shift: int, lo: int,
               hi: int) -> np.ndarray:
    """linear_scale(x[y][x][c], gain[c], shift, lo, hi) for an HWC image."""
    return linear_scale(_i64(x), _i64(gain), shift, lo, hi)


# --------------------------------------------------------------------------
# fixedpoint/conv2d.h
# --------------------------------------------------------------------------

def conv_output_size(size: int, kernel: int, stride: int) -> int:
    """(size + 2 * (K // 2) - K) // S + 1."""
    return (size + 2 * (kernel // 2) - kernel) // stride + 1


def conv2d(x: IntLike, w: IntLike, bias: IntLike, mult: IntLike,
           shift: IntLike, stride: int, out_lo: int = -32767,
           out_hi: int = 32767) -> np.ndarray:
    """Integer convolution fused with linear scaling, as fxic::Conv2d.

    x: H x W x Cin ints; w: [Cout][K][K][Cin] in [-127, 127]; bias, mult
    (M0), shift (n): [Cout]. Zero padding K // 2. The int32 accumulator is
    computed in int64 as one matrix product per kernel tap (exact: the sums
    are bounded by the overflow proof, so the order does not matter) and
    checked to fit int32. Returns Ho x Wo x Cout int16.
    """
    x = _i64(x)
    w = _i64(w)
    cout, k, k2, cin = w.shape
    if k != k2 or k not in (1, 3, 5):
        raise ValueError(f'conv2d: kernel {k}x{k2} not in {{1, 3, 5}}')
    if stride not in (1, 2):
        raise ValueError(f'conv2d: stride {stride} not in {{1, 2}}')
    height, width, channels = x.shape
    if channels != cin or height < 1 or width < 1:
        raise ValueError(f'conv2d: input has {channels} channels, layer '
                         f'expects {cin}')
    pad = k // 2
    ho = conv_output_size(height, k, stride)
    wo = conv_output_size(width, k, stride)
    padded = np.zeros((height + 2 * pad, width + 2 * pad, cin), np.int64)
    padded[pad:pad + height, pad:pad + width] = x
    acc = np.broadcast_to(_i64(bias), (ho * wo, cout)).copy()
    for ky in range(k):
        for kx in range(k):
            tap = padded[ky:ky + stride * (ho - 1) + 1:stride,
                         kx:kx + stride * (wo - 1) + 1:stride]
            acc += tap.reshape(ho * wo, cin) @ w[:, ky, kx, :].T
    if np.any(np.abs(acc) > MAX_ACCUMULATOR):
        raise OverflowError('conv2d: accumulator outside int32')
    out = linear_scale(acc, _i64(mult), _i64(shift), out_lo, out_hi)
    return out.reshape(ho, wo, cout)


# --------------------------------------------------------------------------
# fixedpoint/depth_to_space.h
# --------------------------------------------------------------------------

def depth_to_space(x: IntLike) -> np.ndarray:
    """out[2y + i][2x + j][c] = x[y][x][4c + 2i + j] (pixel_shuffle, 2)."""
    x = np.asarray(x)
    height, width, channels = x.shape
    if channels < 4 or channels % 4:
        raise ValueError(f'depth_to_space: {channels} channels is not a '
                         'positive multiple of 4')
    c_out = channels // 4
    return (x.reshape(height, width, c_out, 2, 2)
            .transpose(0, 3, 1, 4, 2)
            .reshape(2 * height, 2 * width, c_out))


# --------------------------------------------------------------------------
# fixedpoint/rsqrt_table.h
# --------------------------------------------------------------------------

def rsqrt_table_entry(t: int) -> int:
    """round_half_up(2^15 / sqrt((t + 64.5) / 64)), in exact integers.

    The value is v = sqrt(2^37 / (2t + 129)). round_half_up(v) is the largest
    q with q - 1/2 <= v, i.e. (2q - 1)^2 (2t + 129) <= 2^39 (never equal: the
    left side is odd). With u = isqrt(floor(2^39 / (2t + 129))), the largest
    u with u^2 (2t + 129) <= 2^39, the answer is the largest odd 2q - 1 <= u:
    q = (u + 1) >> 1.
    """
    u = math.isqrt((1 << 39) // (2 * t + 129))
    return (u + 1) >> 1


def rsqrt_table() -> list[int]:
    """kRsqrtTable: 1/sqrt(m) in Q15 at the centre of m's 1/64-wide bucket."""
    return [rsqrt_table_entry(t) for t in range(RSQRT_TABLE_SIZE)]


RSQRT_TABLE: IntArray = np.array(rsqrt_table(), dtype=np.int64)


def rsqrt_table_header() -> str:
    """The text of fixedpoint/rsqrt_table.h (regenerate with this)."""
    rows = []
    values = rsqrt_table()
    for start in range(0, len(values), 8):
        rows.append('    ' + ', '.join(str(v) for v in values[start:start + 8])
                    + ',')
    return '\n'.join([
        '// kRsqrtTable: 1/sqrt(m) in Q15 for the normalizer mantissa m in '
        '[1, 4).',
        '// Generated by models/fxic/intops.py rsqrt_table_header(); do not '
        'edit.',
        '#ifndef FXIC_FIXEDPOINT_RSQRT_TABLE_H_',
        '#define FXIC_FIXEDPOINT_RSQRT_TABLE_H_',
        '',
        '#include <cstdint>',
        '',
        'namespace fxic {',
        '',
        f'inline constexpr int kRsqrtTableSize = {RSQRT_TABLE_SIZE};',
        '',
        '// kRsqrtTable[t] = round_half_up(2^15 / sqrt((t + 64.5) / 64)), '
        't = 0..191:',
        '// entry t serves m in [(t + 64) / 64, (t + 65) / 64), i.e. mq >> 22 '
        '== t + 64',
        '// for m in Q28 (docs/fixed-point.md). Values in [16400, 32641].',
        '// clang-format off',
        'inline constexpr uint16_t kRsqrtTable[kRsqrtTableSize] = {',
        *rows,
        '};',
        '// clang-format on',
        '',
        '}  // namespace fxic',
        '',
        '#endif  // FXIC_FIXEDPOINT_RSQRT_TABLE_H_',
        '',
    ])


# --------------------------------------------------------------------------
# fixedpoint/normalization.h
# --------------------------------------------------------------------------

def rsqrt_q30(norm: IntLike) -> Tuple[IntArray, IntArray, IntArray]:
    """(k, mq, r) with norm = m * 4^k, mq = m in Q28, r = 1/sqrt(m) in Q30.

    Domain: 1 <= norm <= 2^31 - 1 (elementwise).
    """
    norm = _i64(norm)
    if np.any(norm < 1) or np.any(norm > MAX_ACCUMULATOR):
        raise ValueError('rsqrt_q30: norm outside [1, 2^31 - 1]')
    k = floor_log2(norm) >> 1
    up = np.maximum(28 - 2 * k, 0)
    down = np.maximum(2 * k - 28, 0)
    mq = np.where(2 * k <= 28, norm * np.left_shift(np.int64(1), up),
                  norm >> down)
    r0 = RSQRT_TABLE[(mq >> 22) - 64]
    h = rounding_shift_right(mq * r0 * r0, 28)
    r = rounding_shift_right(r0 * (3 * (1 << 30) - h), 16)
    return k, mq, r


def sqrt_q30(mq: IntLike, r: IntLike) -> IntArray:
    """sqrt(m) in Q30: rounding_shift_right(mq * r, 28)."""
    return rounding_shift_right(_i64(mq) * _i64(r), 28)


def _normalize(x: IntLike, gamma: IntLike, beta: IntLike, mult: IntLike,
               shift: IntLike, sq_shift: int, out_lo: int, out_hi: int,
               inverse: bool) -> np.ndarray:
    x = _i64(x)
    gamma = _i64(gamma)
    channels = gamma.shape[0]
    if gamma.shape != (channels, channels) or x.shape[-1] != channels:
        raise ValueError(f'{"igdn" if inverse else "gdn"}: input has '
                         f'{x.shape[-1]} channels, layer expects {channels}')
    flat = x.reshape(-1, channels)
    sq = rounding_shift_right(flat * flat, sq_shift)
    norm = _i64(beta) + sq @ gamma.T  # norm[p][i] = beta[i] + sum_j g[i][j]
    if np.any(norm > MAX_ACCUMULATOR):
        raise OverflowError('normalization: norm outside int32')
    k, mq, r = rsqrt_q30(norm)
    if inverse:
        v = mul_shift(rounding_shift_right(flat * sqrt_q30(mq, r), 15),
                      _i64(mult), _i64(shift) - k)
    else:
        v = mul_shift(rounding_shift_right(flat * r, 15), _i64(mult),
                      _i64(shift) + k)
    return np.asarray(clamp(v, out_lo, out_hi)).astype(np.int16).reshape(
        x.shape)


def gdn(x: IntLike, gamma: IntLike, beta: IntLike, mult: IntLike,
        shift: IntLike, sq_shift: int, out_lo: int = -32767,
        out_hi: int = 32767) -> np.ndarray:
    """Integer GDN as fxic::Gdn. x: H x W x C; gamma[i][j]: C x C."""
    return _normalize(x, gamma, beta, mult, shift, sq_shift, out_lo, out_hi,
                      inverse=False)


def igdn(x: IntLike, gamma: IntLike, beta: IntLike, mult: IntLike,
         shift: IntLike, sq_shift: int, out_lo: int = -32767,
         out_hi: int = 32767) -> np.ndarray:
    """Integer IGDN as fxic::Igdn. x: H x W x C; gamma[i][j]: C x C."""
    return _normalize(x, gamma, beta, mult, shift, sq_shift, out_lo, out_hi,
                      inverse=True)


# --------------------------------------------------------------------------
# fixedpoint/bounds.h: return None when the proof holds, else the same error
# message as the C++ Status.
# --------------------------------------------------------------------------

def _max_abs(lo: int, hi: int) -> int:
    return max(abs(int(lo)), abs(int(hi)))


def _channel(layer: str, c: int) -> str:
    return f'{layer}: channel {c}: '


def check_activation_range(lo: int, hi: int, what: str) -> Optional[str]:
    """None if -32767 <= lo <= hi <= 32767, else the error message."""
    if lo < -MAX_ACTIVATION or hi > MAX_ACTIVATION or lo > hi:
        return (f'{what}: range [{lo}, {hi}] not inside [-{MAX_ACTIVATION}, '
                f'{MAX_ACTIVATION}] or empty')
    return None


def check_conv_bounds(w: IntLike, bias: IntLike, mult: IntLike,
                      shift: IntLike, stride: int, out_lo: int, out_hi: int,
                      in_lo: int, in_hi: int) -> Optional[str]:
    """The convolution's overflow proof, as fxic::CheckConvBounds."""
    w = _i64(w)
    cout, k, k2, cin = w.shape
    if k != k2 or k not in (1, 3, 5):
        return f'conv: kernel {k} not in {{1, 3, 5}}'
    if stride not in (1, 2):
        return f'conv: stride {stride} not in {{1, 2}}'
    if cin < 1 or cout < 1:
        return f'conv: {cin} -> {cout} channels'
    err = (check_activation_range(in_lo, in_hi, 'conv input')
           or check_activation_range(out_lo, out_hi, 'conv output'))
    if err:
        return err
    a = _max_abs(in_lo, in_hi)
    for o in range(cout):
        wo = w[o].reshape(-1)
        if np.any(wo < -127) or np.any(wo > 127):
            bad = int(wo[(wo < -127) | (wo > 127)][0])
            return _channel('conv', o) + f'weight {bad} outside [-127, 127]'
        sum_abs = int(np.abs(wo).sum())
        b = int(bias[o])
        bound = abs(b) + a * sum_abs
        if bound > MAX_ACCUMULATOR:
            return (_channel('conv', o) + f'|bias| + A * sum|w| = {bound} > '
                    f'2^31 - 1 (A = {a}, sum|w| = {sum_abs}, bias = {b})')
        m = int(mult[o])
        if m < 1 or m > MAX_ACCUMULATOR:
            return (_channel('conv', o) +
                    f'multiplier {m} outside [1, 2^31 - 1]')
        if MAX_ACCUMULATOR * m >= PRODUCT_LIMIT:
            return _channel('conv', o) + '(2^31 - 1) * M0 >= 2^62'
        n = int(shift[o])
        if n < 0 or n > 62:
            return _channel('conv', o) + f'shift {n} not in [0, 62]'
    return None


def check_normalization_bounds(gamma: IntLike, beta: IntLike, mult: IntLike,
                               shift: IntLike, sq_shift: int, out_lo: int,
                               out_hi: int, inverse: bool, in_lo: int,
                               in_hi: int) -> Optional[str]:
    """The GDN/IGDN overflow proof, as fxic::CheckNormalizationBounds."""
    layer = 'igdn' if inverse else 'gdn'
    gamma = _i64(gamma)
    channels = gamma.shape[0]
    if channels < 1:
        return f'{layer}: {channels} channels'
    if sq_shift < 0 or sq_shift > 62:
        return f'{layer}: sq_shift {sq_shift} not in [0, 62]'
    err = (check_activation_range(in_lo, in_hi, layer)
           or check_activation_range(out_lo, out_hi, layer))
    if err:
        return err
    a = _max_abs(in_lo, in_hi)
    q = int(rounding_shift_right(a * a, sq_shift))
    if q > 32767:
        return (f'{layer}: Q = RoundingShiftRight(A^2, sq_shift) = {q} > '
                f'32767 (A = {a}, sq_shift = {sq_shift})')
    shift_lo, shift_hi = (15, 62) if inverse else (0, 47)
    for i in range(channels):
        for j in range(channels):
            if gamma[i, j] < 0 or gamma[i, j] > 32767:
                return (_channel(layer, i) + f'gamma[{i}][{j}] = '
                        f'{int(gamma[i, j])} outside [0, 32767]')
        gamma_sum = int(gamma[i].sum())
        b = int(beta[i])
        if b < 1:
            return _channel(layer, i) + f'beta {b} < 1'
        bound = b + q * gamma_sum
        if bound > MAX_ACCUMULATOR:
            return (_channel(layer, i) + f'beta + Q * sum gamma = {bound} > '
                    f'2^31 - 1 (Q = {q}, sum gamma = {gamma_sum})')
        m = int(mult[i])
        if m < 1 or m > MAX_ACCUMULATOR:
            return (_channel(layer, i) +
                    f'multiplier {m} outside [1, 2^31 - 1]')
        n = int(shift[i])
        if n < shift_lo or n > shift_hi:
            return (_channel(layer, i) +
                    f'shift {n} not in [{shift_lo}, {shift_hi}]')
    return None


def check_gain_bounds(table: IntLike, shift: int, in_lo: int, in_hi: int,
                      out_lo: int, out_hi: int) -> Optional[str]:
    """The gains' overflow proof, as fxic::CheckGainBounds."""
    table = _i64(table)
    levels, channels = table.shape
    if levels < 1 or channels < 1:
        return f'gain: {levels} levels x {channels} channels'
    if shift < 0 or shift > 62:
        return f'gain: shift {shift} not in [0, 62]'
    err = (check_activation_range(in_lo, in_hi, 'gain input')
           or check_activation_range(out_lo, out_hi, 'gain output'))
    if err:
        return err
    a = _max_abs(in_lo, in_hi)
    for level in range(levels):
        for c in range(channels):
            g = int(table[level, c])
            if g < 1 or g > MAX_ACCUMULATOR:
                return (_channel('gain', c) + f'level {level}: multiplier '
                        f'{g} outside [1, 2^31 - 1]')
            if a * g >= PRODUCT_LIMIT:
                return _channel('gain', c) + f'level {level}: A * G >= 2^62'
    return None
