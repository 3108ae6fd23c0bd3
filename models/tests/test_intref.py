"""Tests of the synthetic model (fxic.synthetic) and the integer reference codec."""
from __future__ import annotations

import math
import os
import tempfile
import unittest
from pathlib import Path

import numpy as np

from fxic import intops, intref, synthetic
from fxic.modelfile import encode_model, read_model

MODELS = Path(__file__).resolve().parents[1]
SYNTHETIC = MODELS / "synthetic-tiny.fxm"
KODIM23 = MODELS.parent / "tests" / "data" / "kodim23_crop.png"   # 256×256 crop of kodim23


def load_kodak_crop(h: int, w: int) -> np.ndarray:
    from PIL import Image
    with Image.open(KODIM23) as im:
        img = np.asarray(im.convert("RGB"), dtype=np.uint8)
    return np.ascontiguousarray(img[32:32 + h, 32:32 + w])


def rsr(x: int, n: int) -> int:
    """RoundingShiftRight on Python ints, straight from docs/fixed-point.md."""
    return x if n == 0 else (x + (1 << (n - 1))) >> n


class SyntheticModelTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.model = intref.load_model(SYNTHETIC)

    def test_regenerates_byte_for_byte(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "s.fxm")
            synthetic.write(path, seed=1)
            with open(path, "rb") as f, open(SYNTHETIC, "rb") as g:
                self.assertEqual(f.read(), g.read(),
                                 "models/synthetic-tiny.fxm is stale: regenerate it with "
                                 "`/usr/bin/python3 -m fxic.synthetic --seed 1 -o "
                                 "../models/synthetic-tiny.fxm` from models/")

    def test_other_seed_differs(self):
        a = encode_model(*synthetic.build(1))[1]
        b = encode_model(*synthetic.build(2))[1]
        self.assertNotEqual(a, b)

    def test_metadata(self):
        m = self.model
        meta = m.meta
        self.assertEqual(meta["name"], "fxic-synthetic-tiny")
        self.assertIn("SYNTHETIC", meta["description"])
        self.assertIn("UNTRAINED", meta["description"])
        self.assertEqual((m.N, m.M, m.levels, m.weight_bits), (8, 8, 4, 8))
        self.assertEqual((m.pad_multiple, m.z_max), (64, 64))
        self.assertEqual([len(m.nets[n].layers) for n in intref.NETS], [7, 3, 5, 11])
        self.assertEqual(m.nets["h_s"].layers[2].cout, 4 * 12)
        self.assertLess(SYNTHETIC.stat().st_size, 64 * 1024)

    def test_passes_bounds_checks(self):
        meta, tensors, model_id = read_model(SYNTHETIC)
        m = intref.check_model(meta, tensors, model_id)
        for net in m.nets.values():
            for l in net.layers:
                if l.op == "conv":
                    self.assertIsNone(intops.check_conv_bounds(
                        l.weight, l.bias, l.mult, l.shift, l.stride, l.out_lo, l.out_hi,
                        l.in_lo, l.in_hi), l.name)
                elif l.op != "d2s":
                    self.assertIsNone(intops.check_normalization_bounds(
                        l.gamma, l.beta, l.mult, l.shift, l.sq_shift, l.out_lo, l.out_hi,
                        l.op == "igdn", l.in_lo, l.in_hi), l.name)
                    lo, hi = (15, 62) if l.op == "igdn" else (0, 47)
                    self.assertTrue(np.all((l.shift >= lo) & (l.shift <= hi)))

    def test_gains_increase(self):
        m = self.model
        self.assertTrue(np.all(np.diff(m.gain, axis=0) > 0))
        self.assertTrue(np.all(np.diff(m.inv_gain, axis=0) < 0))
        # Top level ≈ 4 × bottom level (0.5× .. 2×).
        np.testing.assert_allclose(m.gain[-1] / m.gain[0], 4.0, rtol=1e-3)

    def test_check_model_rejects(self):
        meta, tensors = synthetic.build(1)
        cases = []
        t = dict(tensors)
        w = t["g_a.2.weight"].copy()
        w[0, 0, 0, 0] = -128
        t["g_a.2.weight"] = w
        cases.append(({}, t, "weight"))
        t = dict(tensors)
        th = t["y_scale.thresholds"].copy()
        th[3] = th[2]
        t["y_scale.thresholds"] = th
        cases.append(({}, t, "thresholds"))
        t = dict(tensors)
        g = t["g_a.1.gamma"].copy()
        g[5, :] = 32767
        t["g_a.1.gamma"] = g
        cases.append(({}, t, "g_a.1"))
        t = dict(tensors)
        s = t["g_s.2.shift"].copy()
        s[4] = 14
        t["g_s.2.shift"] = s
        cases.append(({}, t, "g_s.2"))
        cases.append(({"pad_multiple": 32}, tensors, "pad_multiple"))
        cases.append(({"g_s.9.cin": 7}, tensors, "g_s.9"))
        cases.append(({"arch": "other"}, tensors, "architecture"))
        t = dict(tensors)
        del t["z_cdf.data"]
        cases.append(({}, t, "z_cdf.data"))
        for meta_patch, t, what in cases:
            with self.assertRaisesRegex(intref.ModelCheckError, what):
                intref.check_model({**meta, **meta_patch}, t)


class LayerParityTest(unittest.TestCase):
    """intref's BLAS-accumulator layers against intops' int64 ones."""

    @classmethod
    def setUpClass(cls):
        cls.model = intref.load_model(SYNTHETIC)

    def test_layers_match_intops(self):
        rng = np.random.default_rng(5)
        for net in self.model.nets.values():
            for l in net.layers:
                cin = l.cin if l.op == "conv" else (l.channels or 16)
                x = rng.integers(l.in_lo, l.in_hi + 1, (9, 13, cin)).astype(np.int16)
                got = intref.run_layer(x, l)
                if l.op == "conv":
                    want = intops.conv2d(x, l.weight, l.bias, l.mult, l.shift, l.stride,
                                         l.out_lo, l.out_hi)
                elif l.op == "gdn":
                    want = intops.gdn(x, l.gamma, l.beta, l.mult, l.shift, l.sq_shift,
                                      l.out_lo, l.out_hi)
                elif l.op == "igdn":
                    want = intops.igdn(x, l.gamma, l.beta, l.mult, l.shift, l.sq_shift,
                                       l.out_lo, l.out_hi)
                else:
                    want = intops.depth_to_space(x)
                np.testing.assert_array_equal(got, want, err_msg=l.name)

    def test_conv_by_hand(self):
        """One output of g_a.0 and of g_a.1 (GDN), computed from the doc's formulas."""
        m = self.model
        conv, gdn = m.nets["g_a"].layers[:2]
        rng = np.random.default_rng(11)
        x = rng.integers(0, 256, (7, 6, 3)).astype(np.int16)
        out = intref.run_layer(x, conv)
        for (oy, ox, o) in [(0, 0, 0), (1, 2, 3), (3, 2, 7)]:
            acc = int(conv.bias[o])
            for ky in range(5):
                for kx in range(5):
                    iy, ix = 2 * oy + ky - 2, 2 * ox + kx - 2
                    if 0 <= iy < 7 and 0 <= ix < 6:
                        for i in range(3):
                            acc += int(conv.weight[o, ky, kx, i]) * int(x[iy, ix, i])
            v = rsr(acc * int(conv.mult[o]), int(conv.shift[o]))
            self.assertEqual(int(out[oy, ox, o]), min(max(v, conv.out_lo), conv.out_hi))
        # kRsqrtTable from its definition (floats are fine for a test).
        table = [int(math.floor(2 ** 15 / math.sqrt((t + 64.5) / 64) + 0.5))
                 for t in range(192)]
        self.assertEqual(table, intops.RSQRT_TABLE.tolist())
        y = intref.run_layer(out, gdn)
        xs = [int(v) for v in out[1, 2]]
        for i in range(gdn.channels):
            sq = [rsr(v * v, gdn.sq_shift) for v in xs]
            norm = int(gdn.beta[i]) + sum(int(gdn.gamma[i, j]) * sq[j] for j in range(len(xs)))
            k = (norm.bit_length() - 1) >> 1
            mq = norm << (28 - 2 * k) if 2 * k <= 28 else norm >> (2 * k - 28)
            r0 = table[(mq >> 22) - 64]
            h = rsr(mq * r0 * r0, 28)
            r = rsr(r0 * (3 * (1 << 30) - h), 16)
            v = rsr(rsr(xs[i] * r, 15) * int(gdn.mult[i]), int(gdn.shift[i]) + k)
            self.assertEqual(int(y[1, 2, i]), min(max(v, gdn.out_lo), gdn.out_hi))

    def test_rgb_path_is_exact_identity_through_gdn(self):
        """GDN rows 0..2 have γ = 0, β = 1: channel c doubles (S_PRE → S_GDN)."""
        g_a = self.model.nets["g_a"]
        x = np.random.default_rng(2).integers(0, 256, (16, 16, 3)).astype(np.int16)
        a = intref.run_layer(x, g_a.layers[0])
        b = intref.run_layer(a, g_a.layers[1])
        np.testing.assert_array_equal(b[..., :3], 2 * a[..., :3].astype(np.int64))


class CodecTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.model = intref.load_model(SYNTHETIC)

    def check_round_trip(self, rgb: np.ndarray, qf: int) -> tuple[dict, np.ndarray]:
        m = self.model
        h, w = rgb.shape[:2]
        enc_layers: dict = {}
        enc = intref.encode_symbols(m, rgb, qf, layers=enc_layers)
        hp, wp = -(-h // 64) * 64, -(-w // 64) * 64
        self.assertEqual(enc["z_sym"].shape, (hp // 64, wp // 64, m.N))
        self.assertEqual(enc["y_sym"].shape, (hp // 16, wp // 16, m.M))
        self.assertEqual(enc["y_idx"].shape, enc["y_sym"].shape)
        self.assertEqual(enc["z_sym"].dtype, np.int32)
        self.assertEqual(enc["y_sym"].dtype, np.int32)
        self.assertTrue(np.all(enc["y_idx"] < m.num_y_tables))
        dec_layers: dict = {}
        dec = intref.decode_symbols(m, enc["z_sym"], enc["y_sym"], qf, w, h,
                                    layers=dec_layers)
        self.assertEqual(dec.shape, rgb.shape)
        self.assertEqual(dec.dtype, np.uint8)
        # Both sides run the same h_s on the same symbols.
        for i in range(len(m.nets["h_s"].layers)):
            np.testing.assert_array_equal(enc_layers[f"h_s.{i}"], dec_layers[f"h_s.{i}"])
        np.testing.assert_array_equal(enc["y_idx"], dec_layers["y_idx"])
        # ŷ_g is y_g rounded to the quantization grid around μ (half up).
        step = 1 << m.f_y
        d = dec_layers["y_hat_g"].astype(np.int64) - enc["y_g"]
        inside = (dec_layers["y_hat_g"] > m.yg_lo) & (dec_layers["y_hat_g"] < m.yg_hi)
        self.assertTrue(np.all((d[inside] > -step // 2 - 1) & (d[inside] <= step // 2)))
        # Deterministic: a second run gives identical results.
        enc2 = intref.encode_symbols(m, rgb, qf)
        for k in ("z_sym", "y_sym", "y_idx", "mu", "sigma"):
            np.testing.assert_array_equal(enc[k], enc2[k], err_msg=k)
        np.testing.assert_array_equal(
            dec, intref.decode_symbols(m, enc["z_sym"], enc["y_sym"], qf, w, h))
        return enc, dec

    def test_random_image(self):
        rgb = np.random.default_rng(1).integers(0, 256, (70, 90, 3), dtype=np.uint8)
        for qf in (0, 128, 256 * 3):
            self.check_round_trip(rgb, qf)

    def test_kodak_crop(self):
        rgb = load_kodak_crop(128, 192)
        results = {}
        for qf in (0, 256 * 3):
            enc, dec = self.check_round_trip(rgb, qf)
            results[qf] = (np.abs(enc["y_sym"]).sum(), intref.psnr(rgb, dec))
            self.assertGreater(results[qf][1], 15.0, f"qf {qf}")
        # Higher quality: bigger symbols, no worse reconstruction.
        self.assertGreater(results[768][0], results[0][0])
        self.assertGreaterEqual(results[768][1], results[0][1] - 0.1)

    def test_odd_sizes(self):
        rng = np.random.default_rng(4)
        for h, w in ((1, 1), (67, 131), (64, 65)):
            rgb = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
            self.check_round_trip(rgb, 300)

    def test_padding_replicates_edges(self):
        rgb = np.random.default_rng(6).integers(0, 256, (3, 5, 3), dtype=np.uint8)
        p = intref.pad_image(rgb, 64, 64)
        np.testing.assert_array_equal(p[:3, :5], rgb)
        np.testing.assert_array_equal(p[10, 40], rgb[2, 4])
        np.testing.assert_array_equal(p[1, 63], rgb[1, 4])

    def test_constant_image_latent(self):
        """A flat image gives a flat latent away from the borders."""
        rgb = np.full((256, 256, 3), 200, np.uint8)
        enc = intref.encode_symbols(self.model, rgb, 256)
        for k in ("y", "y_g"):
            inner = enc[k][2:-2, 2:-2]
            self.assertTrue(np.all(inner == inner[0, 0]), k)
        # Channels 0..2 hold the grey-centred image, (200/255 − ½)·2^10, up to
        # the 8-bit tent kernels' gain error (≈ +0.35 % per stage).
        np.testing.assert_allclose(enc["y"][8, 8, :3], (200 / 255 - 0.5) * 1024, rtol=0.03)

    def test_invalid_arguments(self):
        rgb = np.zeros((8, 8, 3), np.uint8)
        with self.assertRaises(ValueError):
            intref.encode_symbols(self.model, rgb, 256 * 3 + 1)
        with self.assertRaises(ValueError):
            intref.encode_symbols(self.model, rgb, -1)
        with self.assertRaises(ValueError):
            intref.encode_symbols(self.model, rgb.astype(np.int16), 0)
        enc = intref.encode_symbols(self.model, rgb, 0)
        with self.assertRaises(ValueError):
            intref.decode_symbols(self.model, enc["z_sym"], enc["y_sym"], 0, 65, 8)

    def test_escape_sized_symbols_decode(self):
        """Symbols far outside every table (coded with escapes) still decode."""
        rgb = np.zeros((64, 64, 3), np.uint8)
        enc = intref.encode_symbols(self.model, rgb, 0)
        y = enc["y_sym"].copy()
        y[0, 0, 0] = 1 << 30
        y[1, 1, 1] = -(1 << 30)
        z = enc["z_sym"].copy()
        z[0, 0, 0] = 1000
        dec = intref.decode_symbols(self.model, z, y, 0, 64, 64)
        self.assertEqual(dec.shape, (64, 64, 3))


if __name__ == "__main__":
    unittest.main()
