"""Tests of the exporter's error-compensated weight rounding (fxic.calibrate).

The rounded weights must lie on the exporter's grid (every value an integer
multiple of its channel's scale, within the bit width), reduce to nearest
rounding when the inputs are uncorrelated, cut the output error on correlated
inputs, and an export with them must pass the loader checks, run in the
integer reference, be reproducible whatever the thread count, and make the
integer analysis transform closer to the float one than nearest rounding.

Run from the repository root:
    /usr/bin/python3 -m unittest discover -s models/tests -t models
"""
from __future__ import annotations

import unittest

import numpy as np
import torch

from fxic import calibrate, export, intref
from fxic.data import load_rgb
from fxic.quantize import QuantOptions
from tests.test_bitwidth import conv_layers, digest, lively_model
from tests.test_qat import CROPS


def correlated_inputs(rng: np.random.Generator, d: int, n: int) -> np.ndarray:
    """[n, d] positive, strongly correlated rows (like image patches)."""
    base = rng.uniform(0.2, 0.8, size=(n, 1))
    return base + 0.05 * np.cumsum(rng.normal(size=(n, d)), axis=1) / np.sqrt(d)


def moments(x: np.ndarray) -> np.ndarray:
    xa = np.concatenate([x, np.ones((x.shape[0], 1))], 1)
    return xa.T @ xa / x.shape[0]


class RoundCompensatedTest(unittest.TestCase):
    def setUp(self):
        self.rng = np.random.default_rng(7)
        self.w = self.rng.normal(size=(12, 40))
        self.b = self.rng.normal(size=12)

    def test_on_grid_and_in_range(self):
        for bits in (8, 4, 2):
            with self.subTest(bits=bits):
                s = np.abs(self.w).max(1) / ((1 << (bits - 1)) - 1) * 0.9   # some clip
                h = moments(correlated_inputs(self.rng, 40, 2000))
                q, _ = calibrate.round_compensated(self.w, self.b, h, s, bits)
                k = q / s[:, None]
                self.assertTrue(np.allclose(k, np.rint(k), atol=1e-9))
                self.assertLessEqual(np.abs(np.rint(k)).max(), (1 << (bits - 1)) - 1)

    def test_uncorrelated_inputs_give_nearest_rounding(self):
        s = np.abs(self.w).max(1) / 127
        h = np.eye(41)
        q, b = calibrate.round_compensated(self.w, self.b, h, s, 8)
        nearest = np.rint(self.w / s[:, None]) * s[:, None]
        np.testing.assert_array_equal(q, nearest)
        np.testing.assert_array_equal(b, self.b)

    def test_cuts_error_on_correlated_inputs(self):
        s = np.abs(self.w).max(1) / 7                                   # 4 bits
        x_cal = correlated_inputs(self.rng, 40, 4000)
        x_test = correlated_inputs(self.rng, 40, 4000)
        q, b = calibrate.round_compensated(self.w, self.b, moments(x_cal), s, 4)
        nearest = np.rint(self.w / s[:, None]) * s[:, None]
        ref = x_test @ self.w.T + self.b
        err_c = np.mean((x_test @ q.T + b - ref) ** 2)
        err_n = np.mean((x_test @ nearest.T + self.b - ref) ** 2)
        self.assertLess(err_c, err_n / 4)


class LinearAlgebraTest(unittest.TestCase):
    def test_gram_is_the_matrix_product(self):
        a = torch.from_numpy(np.random.default_rng(3).normal(size=(37, 300))).float()
        g = calibrate.gram(a)
        self.assertTrue(torch.equal(g, g.T))
        torch.testing.assert_close(g.double(), a.double() @ a.double().T, rtol=1e-5, atol=1e-4)

    def test_inverse_cholesky_upper(self):
        rng = np.random.default_rng(4)
        x = rng.normal(size=(60, 200))
        h = x @ x.T / 200 + 0.01 * np.eye(60)
        u = calibrate.inverse_cholesky_upper(h)
        np.testing.assert_array_equal(u, np.triu(u))
        self.assertTrue(np.all(np.diag(u) > 0))
        np.testing.assert_allclose(u.T @ u, np.linalg.inv(h), rtol=1e-9, atol=1e-9)
        ref = torch.linalg.cholesky(torch.linalg.inv(torch.from_numpy(h))).T.numpy()
        np.testing.assert_allclose(u, ref, rtol=1e-9, atol=1e-12)


class CompensatedExportTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.threads = torch.get_num_threads()
        torch.set_num_threads(1)
        cls.model = lively_model()
        # Calibration on two crops, evaluation on two others.
        cls.crops = [np.ascontiguousarray(load_rgb(CROPS / f"{n}_crop.png")[:128, :128])
                     for n in ("kodim01", "kodim08")]
        cls.meta, cls.t, cls.ex = export.export_model(
            cls.model, QuantOptions(), "c", "c", rounding="compensated", crops=cls.crops)

    @classmethod
    def tearDownClass(cls):
        torch.set_num_threads(cls.threads)

    def test_loader_checks_and_intref(self):
        intref.check_model(self.meta, self.t)
        m = intref.check_model(self.meta, self.t)
        rgb = np.ascontiguousarray(load_rgb(CROPS / "kodim19_crop.png")[:64, :96])
        enc, dec = intref.roundtrip(m, rgb, 256)
        self.assertEqual(dec.shape, rgb.shape)

    def test_weights_within_bit_width_and_changed(self):
        m = intref.check_model(self.meta, self.t)
        meta_n, t_n, _ = export.export_model(self.model, QuantOptions(), "c", "c")
        n = intref.check_model(meta_n, t_n)
        changed = 0
        for lc, ln in zip(conv_layers(m), conv_layers(n)):
            self.assertLessEqual(int(np.abs(lc.wmat).max()), 127)
            changed += int(np.sum(lc.wmat != ln.wmat))
        self.assertGreater(changed, 0)

    def test_reproducible_across_thread_counts(self):
        torch.set_num_threads(2)
        try:
            meta2, t2, _ = export.export_model(
                self.model, QuantOptions(), "c", "c", rounding="compensated", crops=self.crops)
        finally:
            torch.set_num_threads(1)
        self.assertEqual(digest(meta2, t2), digest(self.meta, self.t))

    def test_integer_analysis_closer_to_float(self):
        """y of the integer g_a against the float g_a, on crops not used for
        the calibration: compensated rounding must beat nearest rounding."""
        meta_n, t_n, _ = export.export_model(self.model, QuantOptions(), "c", "c")
        y_scale = self.model.cfg.clip_y / 32767
        errs = {}
        for tag, (meta, t) in {"compensated": (self.meta, self.t),
                               "nearest": (meta_n, t_n)}.items():
            m = intref.check_model(meta, t)
            e = 0.0
            for name in ("kodim19", "kodim23"):
                rgb = np.ascontiguousarray(load_rgb(CROPS / f"{name}_crop.png")[:128, :128])
                y_int = intref.run_network(m.nets["g_a"], rgb.astype(np.int16))
                with torch.no_grad():
                    x = torch.from_numpy(rgb).permute(2, 0, 1)[None].float() / 255
                    y = self.model.g_a(x)[0].permute(1, 2, 0).double().numpy()
                e += float(np.mean((y_int * y_scale - y) ** 2))
            errs[tag] = e
        self.assertLess(errs["compensated"], errs["nearest"])

    def test_unknown_rounding_is_rejected(self):
        with self.assertRaises(ValueError):
            export.export_model(self.model, QuantOptions(), "c", "c", rounding="stochastic")


if __name__ == "__main__":
    unittest.main()
