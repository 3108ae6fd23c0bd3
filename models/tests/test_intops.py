"""Tests for models/fxic/intops.py, the integer mirror of fixedpoint/.

Hand-computed cases, a naive per-element reference, and the cross-check
hashes: the same splitmix64 recipes as tests/fixedpoint/cross_check_test.cpp
must give the same FNV-1a hashes, pinned in both suites.

Run from the repository root:
    /usr/bin/python3 -m unittest discover -s models/tests -t models
"""
from __future__ import annotations

import math
import os
import unittest
from typing import Iterable, List

import numpy as np

from fxic import intops

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
MASK64 = (1 << 64) - 1

# Pinned in tests/fixedpoint/cross_check_test.cpp too.
CONV_HASHES = {
    'conv_k5_s2': 0x8a2e35cdc336f8bc,
    'conv_k3_s1': 0x56e394d14235eff0,
    'conv_k1_s2': 0xf62ec70ecbe0a584,
    'conv_k1_s1': 0x6e7ffa7dd3fb364e,
    'conv_k3_s2': 0x88ff8aee0a58af93,
    'conv_k5_s1': 0x23cf84ff5c2f643d,
}
GDN_HASH = 0x10d924ee9137d760
IGDN_HASH = 0x841d9797e537f0a5
RSQRT_TABLE_HASH = 0xa1c619e8b07b7383
RSQRT_Q30_HASH = 0x929404e29e17686c
DEPTH_TO_SPACE_HASH = 0x594afa34a8512718
GAIN_HASH = 0x9a751f70a1c52eb9


class SplitMix64:
    """Same generator as fxic::testing::SplitMix64."""

    def __init__(self, seed: int) -> None:
        self.state = seed & MASK64

    def next(self) -> int:
        self.state = (self.state + 0x9e3779b97f4a7c15) & MASK64
        z = self.state
        z = ((z ^ (z >> 30)) * 0xbf58476d1ce4e5b9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94d049bb133111eb) & MASK64
        return z ^ (z >> 31)

    def uniform(self, lo: int, hi: int) -> int:
        """lo + next() % (hi - lo + 1)."""
        return lo + self.next() % (hi - lo + 1)

    def array(self, shape: Iterable[int], lo: int, hi: int) -> np.ndarray:
        shape = tuple(shape)
        n = int(np.prod(shape)) if shape else 1
        return np.array([self.uniform(lo, hi) for _ in range(n)],
                        dtype=np.int64).reshape(shape)


def fnv1a64(values: Iterable[int]) -> int:
    """FNV-1a 64 over each value as 8 little-endian bytes of its int64."""
    h = 0xcbf29ce484222325
    for v in values:
        u = int(v) & MASK64
        for b in range(8):
            h ^= (u >> (8 * b)) & 0xff
            h = (h * 0x100000001b3) & MASK64
    return h


# --------------------------------------------------------------------------
# Cross-check recipes (see tests/fixedpoint/cross_check_test.cpp)
# --------------------------------------------------------------------------

CONV_CASES = [
    # name, seed, k, s, h, w, cin, cout, shift_lo, shift_hi, out_lo, out_hi
    ('conv_k5_s2', 101, 5, 2, 13, 11, 7, 5, 38, 46, -20000, 20000),
    ('conv_k3_s1', 102, 3, 1, 9, 8, 4, 6, 36, 44, 0, 32767),
    ('conv_k1_s2', 103, 1, 2, 7, 10, 5, 3, 34, 42, -32767, 32767),
    ('conv_k1_s1', 104, 1, 1, 1, 7, 3, 4, 34, 42, -32767, 32767),
    ('conv_k3_s2', 105, 3, 2, 1, 1, 6, 2, 36, 44, -32767, 32767),
    ('conv_k5_s1', 106, 5, 1, 6, 5, 3, 4, 36, 44, -1000, 1000),
]


def run_conv_case(seed: int, k: int, s: int, h: int, w: int, cin: int,
                  cout: int, shift_lo: int, shift_hi: int, out_lo: int,
                  out_hi: int) -> np.ndarray:
    rng = SplitMix64(seed)
    x = rng.array((h, w, cin), -32767, 32767)
    weights = rng.array((cout, k, k, cin), -127, 127)
    bias = rng.array((cout,), -100000, 100000)
    mult = rng.array((cout,), 1 << 29, (1 << 31) - 1)
    shift = rng.array((cout,), shift_lo, shift_hi)
    assert intops.check_conv_bounds(weights, bias, mult, shift, s, out_lo,
                                    out_hi, -32767, 32767) is None
    return intops.conv2d(x, weights, bias, mult, shift, s, out_lo, out_hi)


def run_norm_case(seed: int, inverse: bool, shift_lo: int,
                  shift_hi: int) -> np.ndarray:
    rng = SplitMix64(seed)
    c = 6
    values = []
    for _ in range(9 * 7 * c):
        bits = rng.uniform(0, 15)
        mag = (1 << bits) - 1
        values.append(rng.uniform(-mag, mag))
    x = np.array(values, dtype=np.int64).reshape(9, 7, c)
    gamma = rng.array((c, c), 0, 8000)
    beta = rng.array((c,), 1, 1000)
    mult = rng.array((c,), 1 << 29, (1 << 31) - 1)
    shift = rng.array((c,), shift_lo, shift_hi)
    assert intops.check_normalization_bounds(
        gamma, beta, mult, shift, 15, -32767, 32767, inverse, -32767,
        32767) is None
    fn = intops.igdn if inverse else intops.gdn
    return fn(x, gamma, beta, mult, shift, 15)


def rsqrt_case_values() -> List[int]:
    rng = SplitMix64(11)
    out: List[int] = []
    for _ in range(1000):
        bits = rng.uniform(0, 30)
        norm = rng.uniform(1 << bits, min((2 << bits) - 1, (1 << 31) - 1))
        k, mq, r = intops.rsqrt_q30(norm)
        out += [int(k), int(mq), int(r), int(intops.sqrt_q30(mq, r))]
    return out


class CrossCheckTest(unittest.TestCase):
    """The same hashes as the C++ suite: both implementations agree."""

    def test_conv2d(self) -> None:
        for name, *args in CONV_CASES:
            with self.subTest(name):
                out = run_conv_case(*args)
                self.assertEqual(out.dtype, np.int16)
                self.assertEqual(fnv1a64(out.reshape(-1)), CONV_HASHES[name])

    def test_gdn_igdn(self) -> None:
        self.assertEqual(fnv1a64(run_norm_case(7, False, 30, 36).reshape(-1)),
                         GDN_HASH)
        self.assertEqual(fnv1a64(run_norm_case(8, True, 56, 62).reshape(-1)),
                         IGDN_HASH)

    def test_rsqrt(self) -> None:
        self.assertEqual(fnv1a64(intops.rsqrt_table()), RSQRT_TABLE_HASH)
        self.assertEqual(fnv1a64(rsqrt_case_values()), RSQRT_Q30_HASH)

    def test_depth_to_space_and_gain(self) -> None:
        rng = SplitMix64(9)
        x = rng.array((5, 3, 12), -32767, 32767)
        self.assertEqual(fnv1a64(intops.depth_to_space(x).reshape(-1)),
                         DEPTH_TO_SPACE_HASH)
        grng = SplitMix64(10)
        table = grng.array((3, 5), 1, 1 << 20)
        y = grng.array((6, 4, 5), -32767, 32767)
        self.assertIsNone(intops.check_gain_bounds(table, 16, -32767, 32767,
                                                   -30000, 30000))
        gains = intops.interpolate_gains(table, 300)
        y_g = intops.apply_gain(y, gains, 16, -30000, 30000)
        self.assertEqual(fnv1a64(list(gains) + list(y_g.reshape(-1))),
                         GAIN_HASH)

    def test_outputs_are_not_degenerate(self) -> None:
        # The recipes exercise rounding, not only clamping or zeros.
        for name, *args in CONV_CASES:
            out = run_conv_case(*args)
            lo, hi = args[-2], args[-1]
            inside = (out > lo) & (out < hi) & (out != 0)
            self.assertGreater(inside.mean(), 0.1, name)
        for out in (run_norm_case(7, False, 30, 36),
                    run_norm_case(8, True, 56, 62)):
            inside = (np.abs(out) < 32767) & (out != 0)
            self.assertGreater(inside.mean(), 0.3)


# --------------------------------------------------------------------------
# Hand-computed cases
# --------------------------------------------------------------------------

def ref_round_half_up(x: int, n: int) -> int:
    """floor((x + 2^(n-1)) / 2^n) with Python's exact floor division."""
    return x if n == 0 else (x + (1 << (n - 1))) // (1 << n)


class RoundingTest(unittest.TestCase):

    def test_rounding_shift_right_table(self) -> None:
        p62 = 1 << 62
        cases = [
            (0, 0, 0), (-7, 0, -7), (5, 1, 3), (-3, 1, -1), (-5, 1, -2),
            (1, 1, 1), (-1, 1, 0), (-2, 2, 0), (-6, 2, -1), (6, 2, 2),
            (-10, 2, -2), (7, 2, 2), (-7, 2, -2), (100, 3, 13),
            (-100, 3, -12), (32767, 15, 1), (-32768, 15, -1),
            (16384, 15, 1), (-16384, 15, 0), (-16385, 15, -1),
            (-(1 << 31), 31, -1), (-(1 << 31), 32, 0),
            (-(1 << 31) - 1, 32, -1), ((1 << 31) - 1, 31, 1),
            ((1 << 31) - 1, 32, 0), (p62 - 1, 62, 1), (-(p62 - 1), 62, -1),
            (1 << 61, 62, 1), (-(1 << 61), 62, 0),
        ]
        for x, n, expected in cases:
            with self.subTest(x=x, n=n):
                self.assertEqual(intops.rounding_shift_right(x, n), expected)
                self.assertEqual(ref_round_half_up(x, n), expected)

    def test_rounding_shift_right_vectorised(self) -> None:
        rng = SplitMix64(5)
        xs = [rng.uniform(-(1 << 61), 1 << 61) for _ in range(500)]
        ns = [rng.uniform(0, 62) for _ in range(500)]
        got = intops.rounding_shift_right(np.array(xs), np.array(ns))
        self.assertEqual(got.tolist(),
                         [ref_round_half_up(x, n) for x, n in zip(xs, ns)])

    def test_domain_errors(self) -> None:
        with self.assertRaises(OverflowError):
            intops.rounding_shift_right(1 << 62, 1)
        with self.assertRaises(ValueError):
            intops.rounding_shift_right(1, 63)
        with self.assertRaises(OverflowError):
            intops.mul_shift(1 << 31, 1 << 31, 0)
        self.assertEqual(intops.mul_shift((1 << 31) - 1, (1 << 31) - 1, 62),
                         1)
        with self.assertRaises(ValueError):
            intops.floor_log2(0)

    def test_helpers(self) -> None:
        self.assertEqual(intops.mul_shift(3, 5, 1), 8)
        self.assertEqual(intops.mul_shift(-3, 5, 1), -7)
        self.assertEqual(intops.clamp(-40000, -32767, 32767), -32767)
        self.assertEqual(intops.saturate_cast(40000, np.int16), 32767)
        self.assertEqual(intops.saturate_cast(-40000, np.int16), -32768)
        self.assertEqual(intops.saturate_cast(300, np.uint8), 255)
        for v, log in [(1, 0), (2, 1), (3, 1), (4, 2), (0xffff, 15),
                       (0x10000, 16), ((1 << 31) - 1, 30), (1 << 31, 31),
                       ((1 << 32) - 1, 31)]:
            self.assertEqual(intops.floor_log2(v), log)
        self.assertEqual(intops.floor_log2(np.array([1, 5, 1 << 20])).tolist(),
                         [0, 2, 20])

    def test_linear_scale_and_gains(self) -> None:
        self.assertEqual(intops.linear_scale(5, 1, 1, -32767, 32767), 3)
        self.assertEqual(intops.linear_scale(-5, 1, 1, -32767, 32767), -2)
        self.assertEqual(intops.linear_scale(-5, 1, 1, 0, 32767), 0)
        self.assertEqual(intops.interpolate_gain(100, 101, 128), 101)
        self.assertEqual(intops.interpolate_gain(200, 100, 64), 175)
        table = np.array([[100, 1000], [200, 3000], [400, 1000]])
        self.assertEqual(intops.interpolate_gains(table, 320).tolist(),
                         [250, 2500])
        self.assertEqual(intops.interpolate_gains(table, 512).tolist(),
                         [400, 1000])
        with self.assertRaises(ValueError):
            intops.interpolate_gains(table, 513)
        y = np.array([[[100, -100], [32767, -32767]]])
        self.assertEqual(
            intops.apply_gain(y, [3 << 14, 1 << 14], 15, -30000,
                              30000).reshape(-1).tolist(),
            [150, -50, 30000, -16383])


def naive_conv(x: np.ndarray, w: np.ndarray, bias: np.ndarray,
               mult: np.ndarray, shift: np.ndarray, s: int, lo: int,
               hi: int) -> np.ndarray:
    """Per-element Python-int reference of the doc's conv formula."""
    cout, k, _, cin = w.shape
    h, wd, _ = x.shape
    p = k // 2
    ho = (h + 2 * p - k) // s + 1
    wo = (wd + 2 * p - k) // s + 1
    out = np.zeros((ho, wo, cout), np.int64)
    for y in range(ho):
        for xx in range(wo):
            for o in range(cout):
                acc = int(bias[o])
                for ky in range(k):
                    for kx in range(k):
                        iy, ix = y * s + ky - p, xx * s + kx - p
                        if 0 <= iy < h and 0 <= ix < wd:
                            acc += sum(int(w[o, ky, kx, i]) * int(x[iy, ix, i])
                                       for i in range(cin))
                v = ref_round_half_up(acc * int(mult[o]), int(shift[o]))
                out[y, xx, o] = min(max(v, lo), hi)
    return out


class Conv2dTest(unittest.TestCase):

    def test_box_filter(self) -> None:
        x = np.arange(1, 10).reshape(3, 3, 1)
        w = np.ones((1, 3, 3, 1), np.int64)
        out = intops.conv2d(x, w, [0], [1], [0], 1)
        self.assertEqual(out.reshape(-1).tolist(),
                         [12, 21, 16, 27, 45, 33, 24, 39, 28])
        out = intops.conv2d(x, w, [0], [1], [0], 2)
        self.assertEqual(out.reshape(-1).tolist(), [12, 16, 24, 28])
        out = intops.conv2d(x, w, [1], [3], [2], 1, -20, 30)
        self.assertEqual(out.reshape(-1).tolist(),
                         [10, 17, 13, 21, 30, 26, 19, 30, 22])
        out = intops.conv2d(x, -w, [0], [3], [2], 1, -20, 30)
        self.assertEqual(out.reshape(-1).tolist(),
                         [-9, -16, -12, -20, -20, -20, -18, -20, -20])

    def test_against_naive(self) -> None:
        rng = SplitMix64(77)
        for k in (1, 3, 5):
            for s in (1, 2):
                for h, wd, cin, cout in ((1, 1, 1, 1), (1, 7, 3, 2),
                                         (5, 4, 2, 3)):
                    x = rng.array((h, wd, cin), -32767, 32767)
                    w = rng.array((cout, k, k, cin), -127, 127)
                    bias = rng.array((cout,), -10000, 10000)
                    mult = rng.array((cout,), 1, (1 << 31) - 1)
                    shift = rng.array((cout,), 30, 50)
                    got = intops.conv2d(x, w, bias, mult, shift, s, -30000,
                                        30000)
                    ref = naive_conv(x, w, bias, mult, shift, s, -30000,
                                     30000)
                    self.assertEqual(got.tolist(), ref.tolist(),
                                     (k, s, h, wd))

    def test_depth_to_space(self) -> None:
        x = np.array([[[10, 11, 12, 13, 20, 21, 22, 23]]])
        self.assertEqual(intops.depth_to_space(x).reshape(-1).tolist(),
                         [10, 20, 11, 21, 12, 22, 13, 23])
        row = np.arange(1, 9).reshape(1, 2, 4)
        self.assertEqual(intops.depth_to_space(row).reshape(-1).tolist(),
                         [1, 2, 5, 6, 3, 4, 7, 8])
        with self.assertRaises(ValueError):
            intops.depth_to_space(np.zeros((1, 1, 6)))


class NormalizationTest(unittest.TestCase):

    def test_rsqrt_table_matches_header(self) -> None:
        table = intops.rsqrt_table()
        self.assertEqual(len(table), 192)
        for t, q in enumerate(table):
            d = 2 * t + 129  # (2q-1)^2 d <= 2^39 < (2q+1)^2 d
            self.assertLessEqual((2 * q - 1) ** 2 * d, 1 << 39)
            self.assertGreater((2 * q + 1) ** 2 * d, 1 << 39)
        path = os.path.join(REPO_ROOT, 'fixedpoint', 'rsqrt_table.h')
        with open(path, encoding='utf-8') as f:
            self.assertEqual(f.read(), intops.rsqrt_table_header())

    def test_rsqrt_q30(self) -> None:
        k, mq, r = intops.rsqrt_q30(1)
        self.assertEqual((k, mq, r), (0, 1 << 28, 1073717662))
        k, mq, r = intops.rsqrt_q30((1 << 31) - 1)
        self.assertEqual((k, mq), (15, (1 << 29) - 1))
        norms = np.array([1, 2, 3, 5, 1 << 28, (1 << 30) + 3, (1 << 31) - 1])
        k, mq, r = intops.rsqrt_q30(norms)
        for n, kk, m, rr in zip(norms.tolist(), k.tolist(), mq.tolist(),
                                r.tolist()):
            exact = math.isqrt((1 << 88) // m)  # floor(2^30 / sqrt(m))
            self.assertLessEqual(rr, exact + 1, n)
            self.assertLessEqual((exact - rr) * 32768, exact, n)

    def single(self, x: int, norm: int, inverse: bool) -> int:
        fn = intops.igdn if inverse else intops.gdn
        return int(fn(np.array([[[x]]]), [[0]], [norm], [1], [15], 0)[0, 0,
                                                                       0])

    def test_hand_computed(self) -> None:
        self.assertEqual(self.single(1000, 1, False), 1000)
        self.assertEqual(self.single(1000, 16, False), 250)
        self.assertEqual(self.single(1000, 2, False), 707)
        self.assertEqual(self.single(-1000, 2, False), -707)
        self.assertEqual(self.single(16384, 1 << 30, False), 0)
        self.assertEqual(self.single(100, 16, True), 400)
        self.assertEqual(self.single(-3, 9, True), -9)
        self.assertEqual(self.single(100, 1 << 30, True), 32767)
        x = np.array([[[3, 4]]])
        ones = [[1, 1], [1, 1]]
        self.assertEqual(intops.gdn(x, ones, [1, 1], [1, 1], [5, 5],
                                    0).reshape(-1).tolist(), [602, 803])
        self.assertEqual(intops.igdn(x, ones, [1, 1], [1, 1], [15, 15],
                                     0).reshape(-1).tolist(), [15, 20])

    def test_against_naive(self) -> None:
        rng = SplitMix64(31)
        for inverse in (False, True):
            c = 4
            x = rng.array((3, 5, c), -32767, 32767)
            gamma = rng.array((c, c), 0, 16000)
            beta = rng.array((c,), 1, 1 << 20)
            mult = rng.array((c,), 1, (1 << 31) - 1)
            shift = rng.array((c,), 15, 62) if inverse else rng.array(
                (c,), 0, 47)
            self.assertIsNone(intops.check_normalization_bounds(
                gamma, beta, mult, shift, 15, -32767, 32767, inverse, -32767,
                32767))
            fn = intops.igdn if inverse else intops.gdn
            got = fn(x, gamma, beta, mult, shift, 15)
            table = intops.rsqrt_table()
            for y in range(3):
                for xx in range(5):
                    px = [int(v) for v in x[y, xx]]
                    sq = [ref_round_half_up(v * v, 15) for v in px]
                    for i in range(c):
                        norm = int(beta[i]) + sum(int(gamma[i, j]) * sq[j]
                                                  for j in range(c))
                        k = (norm.bit_length() - 1) // 2
                        mq = (norm << (28 - 2 * k) if 2 * k <= 28
                              else norm >> (2 * k - 28))
                        r0 = table[(mq >> 22) - 64]
                        h = ref_round_half_up(mq * r0 * r0, 28)
                        r = ref_round_half_up(r0 * (3 * (1 << 30) - h), 16)
                        if inverse:
                            s = ref_round_half_up(mq * r, 28)
                            v = ref_round_half_up(
                                ref_round_half_up(px[i] * s, 15)
                                * int(mult[i]), int(shift[i]) - k)
                        else:
                            v = ref_round_half_up(
                                ref_round_half_up(px[i] * r, 15)
                                * int(mult[i]), int(shift[i]) + k)
                        self.assertEqual(int(got[y, xx, i]),
                                         min(max(v, -32767), 32767))


class BoundsTest(unittest.TestCase):

    def test_conv_limit(self) -> None:
        w = np.full((3, 5, 5, 20), 127)
        bias = np.array([66779147, -66779147, 0])
        mult = np.full(3, (1 << 31) - 1)
        shift = np.full(3, 62)
        self.assertIsNone(intops.check_conv_bounds(
            w, bias, mult, shift, 2, -32767, 32767, -32767, 32767))
        bias[1] = -66779148
        err = intops.check_conv_bounds(w, bias, mult, shift, 2, -32767,
                                       32767, -32767, 32767)
        self.assertIn('channel 1', err)
        self.assertIn('2147483648', err)
        w[0, 0, 0, 0] = -128
        self.assertIn('channel 0', intops.check_conv_bounds(
            w, bias, mult, shift, 2, -32767, 32767, -32767, 32767))

    def test_normalization_and_gain(self) -> None:
        gamma = np.array([[32767, 32767, 4], [0, 0, 0], [1, 1, 1]])
        beta = np.array([65539, 1, 1])
        mult = np.array([1, 1, (1 << 31) - 1])
        shift = np.array([15, 47, 0])
        self.assertIsNone(intops.check_normalization_bounds(
            gamma, beta, mult, shift, 15, -32767, 32767, False, -32767,
            32767))
        beta[0] = 65540
        self.assertIn('channel 0', intops.check_normalization_bounds(
            gamma, beta, mult, shift, 15, -32767, 32767, False, -32767,
            32767))
        beta[0] = 65539
        self.assertIn('65532', intops.check_normalization_bounds(
            gamma, beta, mult, shift, 14, -32767, 32767, False, -32767,
            32767))
        self.assertIsNotNone(intops.check_normalization_bounds(
            gamma, beta, mult, shift, 15, -32767, 32767, True, -32767,
            32767))
        table = np.array([[1, (1 << 31) - 1], [5, 6], [7, 0]])
        err = intops.check_gain_bounds(table, 16, -32767, 32767, -32767,
                                       32767)
        self.assertIn('channel 1', err)
        self.assertIn('level 2', err)


if __name__ == '__main__':
    unittest.main()
