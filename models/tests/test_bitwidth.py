"""Tests of the exporter's bit-width options (quantize.QuantOptions, export.py)
and of the study's helpers (fxic.bitwidth).

Every option must give a model that the loader checks accept (intref's
check_model, and the C++ loader through `fxic info` when the binary is
built), that the integer reference runs, and — when `fxic` is built — that
the C++ codec decodes to exactly intref's pixels. Weights must respect each
layer's bit width, hidden activations their bit widths, shift-only models
must have power-of-two multipliers only, and the default export must be
unchanged (pinned digests made by the exporter before the options existed).

Run from the repository root:
    /usr/bin/python3 -m unittest discover -s models/tests -t models
"""
from __future__ import annotations

import contextlib
import hashlib
import io
import os
import subprocess
import tempfile
import unittest
from pathlib import Path

import numpy as np
import torch

from fxic import bitwidth, export, intref, qat
from fxic.data import load_rgb
from fxic.modelfile import encode_model, read_model, write_model
from fxic.net import Config, HyperpriorModel
from fxic.quantize import QuantOptions, is_pow2, pow2_mult_shift, pow2_snap
from tests.test_qat import CROPS, fxic_binary, lively_init

REPO = Path(__file__).resolve().parents[2]

# sha256 of the model files the exporter wrote for `tiny_model()` before the
# bit-width options existed (weight bits 8, 4, and 6 with learned scales).
GOLDEN = {
    8: "4cf50448cbaf9e678ae1471590ee23c7b11d2a93c1496816ac85308094908c6a",
    4: "bf6ceee8dbb6b2a0a57cb32f9d636795da52d91e2213237ba41959b45873ffef",
    6: "8e856b0f5d0bc793a01b9a7e12fc41830fe717f6ebce48a154173682c7385b3a",
}


def tiny_model(seed: int = 0) -> HyperpriorModel:
    """N = M = 8, PyTorch's seeded default initialization (no float data
    flow, so the export is reproducible bit for bit)."""
    torch.manual_seed(seed)
    return HyperpriorModel(Config(N=8, M=8)).eval()


def golden_weight_scale(name: str, conv) -> np.ndarray:
    w = conv.weight.detach().double().numpy()
    return 0.8 * np.abs(w).reshape(w.shape[0], -1).max(1) / 31


def lively_model(seed: int = 0) -> HyperpriorModel:
    """N = M = 16 with every layer working over much of its range."""
    torch.manual_seed(seed)
    model = HyperpriorModel(Config(N=16, M=16))
    rgb = load_rgb(CROPS / "kodim23_crop.png")[:128, :128]
    lively_init(model, torch.from_numpy(rgb.copy()).permute(2, 0, 1)[None].float() / 255, seed)
    return model.eval()


def digest(meta: dict, tensors: dict) -> str:
    return hashlib.sha256(encode_model(meta, tensors)[0]).hexdigest()


def conv_layers(m: intref.IntModel):
    return [l for n in intref.NETS for l in m.nets[n].layers if l.op == "conv"]


# Options exercised on the lively model: (name, options).
OPTION_CASES = [
    ("w2", QuantOptions(weight_bits=2)),
    ("w4", QuantOptions(weight_bits=4)),
    ("mixed weights", QuantOptions(weight_bits=5, layer_weight_bits={
        "g_a.0": 8, "g_a.2": 3, "h_s.4": 2, "g_s.9": 7})),
    ("a8", QuantOptions(act_bits=8)),
    ("per-layer activations", QuantOptions(layer_act_bits={
        "g_a.1": 9, "h_a.0": 8, "h_s.2": 11, "g_s.5": 10}, act_shift={"g_a.1": 1, "g_s.5": 2})),
    ("per-tensor", QuantOptions(granularity="tensor")),
    ("per-tensor w4", QuantOptions(weight_bits=4, granularity="tensor")),
    ("2 std", QuantOptions(weight_bits=4, weight_range="std", std_k=2.0)),
    ("shift-only", QuantOptions(pow2=True)),
    ("shift-only a8 w4 per-tensor", QuantOptions(pow2=True, act_bits=8, weight_bits=4,
                                                 granularity="tensor")),
    ("shift-only mixed", QuantOptions(pow2=True, layer_weight_bits={"g_s.9": 3},
                                      layer_act_bits={"g_a.3": 10}, act_shift={"h_s.0": 1})),
]


class DefaultExportUnchangedTest(unittest.TestCase):
    def test_pinned_digests(self):
        """Bytes of the pre-option exporter for 8, 4 and learned 6-bit weights."""
        m = tiny_model()
        for args in (dict(weight_bits=8), dict(weight_bits=4),
                     dict(weight_bits=6, weight_scale=golden_weight_scale)):
            with self.subTest(**{k: str(v) for k, v in args.items()}):
                meta, t = export.Exporter(m, **args).build("tiny", "tiny")
                self.assertEqual(digest(meta, t), GOLDEN[args["weight_bits"]])

    def test_explicit_default_options_are_the_default(self):
        m = tiny_model()
        meta, t = export.Exporter(m, 8).build("tiny", "tiny")
        meta2, t2, _ = export.export_model(m, QuantOptions(), "tiny", "tiny")
        self.assertEqual(digest(meta, t), digest(meta2, t2))
        # Explicitly stating default per-layer values changes nothing either.
        o = QuantOptions(layer_weight_bits={"g_a.0": 8}, layer_act_bits={"g_s.2": 16},
                         act_shift={"h_a.0": 0})
        meta3, t3, _ = export.export_model(m, o, "tiny", "tiny")
        self.assertEqual(digest(meta, t), digest(meta3, t3))

    def test_options_change_the_export(self):
        """The digest test can fail: any option changes the bytes."""
        m = tiny_model()
        base = digest(*export.Exporter(m, 8).build("tiny", "tiny"))
        for name, o in [("w7", QuantOptions(weight_bits=7)), ("a12", QuantOptions(act_bits=12)),
                        ("pow2", QuantOptions(pow2=True)),
                        ("tensor", QuantOptions(granularity="tensor"))]:
            with self.subTest(name):
                self.assertNotEqual(digest(*export.export_model(m, o, "tiny", "tiny")[:2]), base)

    @unittest.skipUnless(os.environ.get("FXIC_EXPORT_TEST") == "1",
                         "set FXIC_EXPORT_TEST=1: the compensated export's calibration "
                         "takes several minutes on one thread")
    def test_committed_default_model(self):
        """The committed checkpoint exports to models/default.fxm byte for byte
        (when the checkpoint at HEAD is the one default.fxm was made from)."""
        default = REPO / "models" / "default.fxm"
        try:
            blob = subprocess.run(["git", "-C", str(REPO), "show",
                                   "HEAD:models/checkpoint/hyperprior.pt"],
                                  capture_output=True, check=True).stdout
        except (OSError, subprocess.CalledProcessError):
            self.skipTest("no git checkout")
        meta0, _, _ = read_model(default)
        with tempfile.TemporaryDirectory() as tmp:
            ck = Path(tmp) / "hyperprior.pt"
            ck.write_bytes(blob)
            step = torch.load(ck, map_location="cpu")["step"]
            if f"trained {step} steps" not in meta0["description"]:
                self.skipTest("models/default.fxm is from another step")
            out = Path(tmp) / "d.fxm"
            with contextlib.redirect_stdout(io.StringIO()):
                self.assertEqual(export.main(["--checkpoint", str(ck), "-o", str(out)]), 0)
            self.assertEqual(out.read_bytes(), default.read_bytes())


class OptionsTest(unittest.TestCase):
    """Every option: loader checks, intref, the C++ loader and decoder."""

    @classmethod
    def setUpClass(cls):
        torch.set_num_threads(1)
        cls.model = lively_model()
        cls.base_meta, cls.base_t, cls.base_ex = export.export_model(
            cls.model, QuantOptions(), "base", "base")
        cls.rgb = np.ascontiguousarray(load_rgb(CROPS / "kodim19_crop.png")[:70, :90])
        cls.fxic = fxic_binary()
        cls.tmp = tempfile.TemporaryDirectory()

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def export(self, o: QuantOptions):
        return export.export_model(self.model, o, "t", "t")

    def test_every_option_runs_everywhere(self):
        src = Path(self.tmp.name) / "img.png"
        from PIL import Image
        Image.fromarray(self.rgb).save(src)
        for name, o in OPTION_CASES:
            with self.subTest(name):
                meta, t, ex = self.export(o)
                path = Path(self.tmp.name) / "m.fxm"
                write_model(path, meta, t)
                m = intref.load_model(path)                     # the loader's checks
                self.assertEqual(m.weight_bits, o.max_weight_bits)
                enc, dec = intref.roundtrip(m, self.rgb, 256)
                self.assertEqual(dec.shape, self.rgb.shape)
                self.assertGreater(float(np.std(dec)), 1.0)      # not a flat image
                if self.fxic is None:
                    continue
                info = subprocess.run([str(self.fxic), "info", str(path)],
                                      capture_output=True, text=True)
                self.assertEqual(info.returncode, 0, info.stderr)
                bits = Path(self.tmp.name) / "b.fxic"
                out = Path(self.tmp.name) / "o.png"
                for cmd in (["encode", str(src), "-o", str(bits), "-q", "2"],
                            ["decode", str(bits), "-o", str(out)]):
                    r = subprocess.run([str(self.fxic), *cmd, "-m", str(path), "-f", "-t", "1",
                                        "--quiet"], capture_output=True, text=True)
                    self.assertEqual(r.returncode, 0, r.stderr)
                np.testing.assert_array_equal(load_rgb(out), dec)

    def test_weights_respect_layer_bits(self):
        for name, o in OPTION_CASES:
            with self.subTest(name):
                meta, t, _ = self.export(o)
                m = intref.check_model(meta, t)
                for l in conv_layers(m):
                    b = o.wbits(l.name)
                    wmax = (1 << (b - 1)) - 1
                    self.assertLessEqual(int(np.abs(l.weight).max()), wmax, l.name)
                    if o.weight_range == "peak" and not o.pow2:
                        # The peak channel reaches the largest integer: b bits are used.
                        peak = np.abs(l.weight).reshape(l.cout, -1).max(1)
                        if o.granularity == "channel":
                            self.assertTrue(np.all(peak == wmax), l.name)
                        else:
                            self.assertEqual(int(peak.max()), wmax, l.name)

    def test_activation_ranges_respect_bits(self):
        for name, o in OPTION_CASES:
            with self.subTest(name):
                _, _, ex = self.export(o)
                hidden = [r for recs in ex.layers.values() for r in recs if r["hidden"]]
                self.assertEqual(len(hidden), 16)
                for r in hidden:
                    b = o.abits(r["name"])
                    self.assertLessEqual(max(-r["lo"], r["hi"]), (1 << (b - 1)) - 1, r["name"])
                if o.act_bits == 8 and not o.layer_act_bits:
                    # Every hidden activation uses its full 8-bit range here.
                    self.assertTrue(all(max(-r["lo"], r["hi"]) >= 126 for r in hidden))

    def test_fixed_formats_do_not_move(self):
        """Activation bits and shifts leave the interface formats alone."""
        base = self.base_meta
        for o in (QuantOptions(act_bits=8), OPTION_CASES[4][1]):
            meta, _, _ = self.export(o)
            for k in ("latent_frac_bits", "hyper_frac_bits", "z_max", "yg_hi", "gs_in_hi",
                      "pixel_frac_bits", "gain_shift", "inv_gain_shift", "g_a.6.out_hi",
                      "h_a.2.out_hi", "h_s.4.out_hi", "g_s.9.out_lo", "g_s.9.out_hi"):
                self.assertEqual(meta[k], base[k], k)

    def test_range_shift_adds_fractional_bits(self):
        _, _, ex = self.export(QuantOptions(layer_act_bits={"g_a.1": 10}))
        _, _, ex1 = self.export(QuantOptions(layer_act_bits={"g_a.1": 10},
                                             act_shift={"g_a.1": 1}))
        r0 = next(r for r in ex.layers["g_a"] if r["name"] == "g_a.1")
        r1 = next(r for r in ex1.layers["g_a"] if r["name"] == "g_a.1")
        self.assertEqual((r0["lo"], r0["hi"]), (-511, 511))
        self.assertEqual((r1["lo"], r1["hi"]), (-511, 511))
        self.assertAlmostEqual(r1["s_out"] * 2, r0["s_out"], places=15)

    def test_shift_only_multipliers_are_powers_of_two(self):
        for name, o in OPTION_CASES:
            if not o.pow2:
                continue
            with self.subTest(name):
                meta, t, ex = self.export(o)
                m = intref.check_model(meta, t)
                for net in intref.NETS:
                    for l in m.nets[net].layers:
                        if l.mult is None:
                            continue
                        self.assertTrue(np.all((l.mult & (l.mult - 1)) == 0), l.name)
                # M0·2^−n is exactly the real multiplier s_w·s_in/s_out.
                for recs in ex.layers.values():
                    for r in recs:
                        if r["op"] != "conv":
                            continue
                        s_out = np.broadcast_to(np.asarray(r["s_out"], np.float64),
                                                r["s_w"].shape)
                        real = r["s_w"] * r["s_in"] / s_out
                        got = r["tensors"]["mult"] * np.exp2(-r["tensors"]["shift"].astype(float))
                        np.testing.assert_allclose(got, real, rtol=1e-12)
                        self.assertTrue(all(is_pow2(float(x)) for x in got))
                # Every hidden activation scale is a power of two.
                for recs in ex.layers.values():
                    for r in recs:
                        if r["hidden"]:
                            self.assertTrue(is_pow2(float(r["s_out"])), r["name"])
        # The default export does not have them.
        mults = np.concatenate([l.mult for l in conv_layers(
            intref.check_model(self.base_meta, self.base_t))])
        self.assertFalse(np.all((mults & (mults - 1)) == 0))

    def test_per_tensor_and_std_scales(self):
        _, _, ex = self.export(QuantOptions(granularity="tensor"))
        _, _, exs = self.export(QuantOptions(weight_bits=4, weight_range="std", std_k=1.0))
        for net, recs in ex.layers.items():
            for r, b, s in zip(recs, self.base_ex.layers[net], exs.layers[net]):
                if r["op"] != "conv":
                    continue
                self.assertTrue(np.all(r["s_w"] == r["s_w"][0]), r["name"])
                self.assertEqual(r["s_w"][0], b["s_w"].max())
                # k·std ≤ peak: 1·std clips weights at ±7 in some channel.
                self.assertTrue(np.all(s["s_w"] <= b["s_w"] * 127 / 7 + 1e-15))
        clipped = sum(int(np.sum(np.abs(r["tensors"]["weight"]) == 7))
                      for recs in exs.layers.values() for r in recs if r["op"] == "conv")
        self.assertGreater(clipped, 0)

    def test_learned_ranges(self):
        """A QAT model's ranges: export --qat default = Exporter with them; the
        learned scales reach the integers; other widths keep the real range."""
        torch.manual_seed(1)
        qm = qat.QatModel(Config(N=16, M=16), 6)
        qm.net.load_state_dict(self.model.state_dict())
        qm.init_ranges()
        with torch.no_grad():
            for p in qm.log_range.values():
                p.add_(-0.2)
        a = digest(*qm.exporter().build("t", "t"))
        meta, t, ex = export.export_model(qm.net, QuantOptions(weight_bits=6), "t", "t",
                                          weight_scale=qm.weight_scale)
        self.assertEqual(digest(meta, t), a)
        r = ex.layers["g_a"][0]
        np.testing.assert_allclose(r["s_w"], qm.weight_scale("g_a.0", r["conv"]))
        _, _, ex4 = export.export_model(
            qm.net, QuantOptions(weight_bits=6, layer_weight_bits={"g_a.0": 4}), "t", "t",
            weight_scale=qm.weight_scale)
        np.testing.assert_allclose(ex4.layers["g_a"][0]["s_w"] * 7, r["s_w"] * 31)

    def test_bad_options_are_refused(self):
        for kw in (dict(weight_bits=1), dict(weight_bits=9), dict(act_bits=7),
                   dict(act_bits=17), dict(layer_weight_bits={"g_a.0": 0}),
                   dict(granularity="row"), dict(weight_range="mean"), dict(std_k=0.0),
                   dict(act_shift={"g_a.1": -1}),
                   dict(weight_range="learned", granularity="tensor")):
            with self.subTest(**{k: str(v) for k, v in kw.items()}):
                with self.assertRaises(ValueError):
                    QuantOptions(**kw)
        for o in (QuantOptions(layer_weight_bits={"g_a.1": 4}),      # a GDN
                  QuantOptions(layer_act_bits={"g_a.6": 8}),         # y: fixed
                  QuantOptions(act_shift={"h_s.4": 1}),              # μ, σ: fixed
                  QuantOptions(layer_weight_bits={"g_x.0": 4}),
                  QuantOptions(weight_range="learned")):
            with self.assertRaises(ValueError):
                export.Exporter(self.model, options=o)

    def test_command_line(self):
        d = Path(self.tmp.name)
        half = {k: v.detach().half() for k, v in self.model.state_dict().items()}
        torch.save({"format": "fxic-train-checkpoint-1", "step": 5,
                    "config": self.model.cfg.to_dict(), "schedule": {}, "rng": {},
                    "weights_fp16": half}, d / "s1.pt")
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            self.assertEqual(export.main(["--checkpoint", str(d / "s1.pt"), "--list-layers"]), 0)
        self.assertIn("g_s.8     igdn", out.getvalue())
        with contextlib.redirect_stdout(io.StringIO()):
            self.assertEqual(export.main([
                "--checkpoint", str(d / "s1.pt"), "-o", str(d / "c.fxm"), "--weight-bits", "5",
                "--layer-weight-bits", "g_a.0=8,g_s.9=7", "--layer-weight-bits", "h_a.1=3",
                "--act-bits", "12", "--layer-act-bits", "g_s.2=9", "--act-shift", "g_s.2=1",
                "--per-tensor", "--shift-only",
                # Nearest rounding: the compensated default calibrates on the
                # training images, which a clone without ../shared/data lacks.
                "--rounding", "nearest"]), 0)
        meta, t, _ = read_model(d / "c.fxm")
        m = intref.check_model(meta, t)
        want = {"g_a.0": 8, "g_s.9": 7, "h_a.1": 3}
        for l in conv_layers(m):
            b = want.get(l.name, 5)
            self.assertLessEqual(int(np.abs(l.weight).max()), (1 << (b - 1)) - 1)
            self.assertTrue(np.all((l.mult & (l.mult - 1)) == 0))
        self.assertEqual(meta["weight_bits"], 8)
        self.assertLessEqual(meta["g_s.2.out_hi"], 255)
        self.assertIn("shift-only", meta["description"])
        with contextlib.redirect_stderr(io.StringIO()), self.assertRaises(SystemExit):
            export.main(["--checkpoint", str(d / "s1.pt"), "-o", str(d / "x.fxm"),
                         "--layer-weight-bits", "g_a.0"])


class Pow2HelpersTest(unittest.TestCase):
    def test_pow2_mult_shift(self):
        self.assertEqual(pow2_mult_shift(2.0 ** -13, 0, 62), (1, 13))
        self.assertEqual(pow2_mult_shift(4.0, 0, 62), (4, 0))
        self.assertEqual(pow2_mult_shift(2.0 ** -3, 15, 62), (1 << 12, 15))
        with self.assertRaises(ValueError):
            pow2_mult_shift(0.3, 0, 62)

    def test_pow2_snap_rounds_up(self):
        s = np.array([0.3, 0.25, 1e-3])
        np.testing.assert_array_equal(pow2_snap(s), [0.5, 0.25, 2.0 ** -9])
        np.testing.assert_allclose(pow2_snap(np.array([1.0]), 255.0), [255.0 / 128])


class StudyHelpersTest(unittest.TestCase):
    def test_act_width(self):
        self.assertEqual(bitwidth.act_width(0, 255), (8, True))
        self.assertEqual(bitwidth.act_width(-127, 127), (8, False))
        self.assertEqual(bitwidth.act_width(-32767, 32767), (16, False))
        self.assertEqual(bitwidth.act_width(-16320, 32640), (16, False))
        self.assertEqual(bitwidth.act_width(-1, 32767), (16, False))
        self.assertEqual(bitwidth.width_label(4, 0, 127), "4×u7")

    def test_model_stats(self):
        m = tiny_model()
        o = QuantOptions(weight_bits=6, layer_weight_bits={"g_a.0": 8})
        meta, t, ex = export.export_model(m, o, "t", "t")
        size = len(encode_model(meta, t)[0])
        st = bitwidth.model_stats(meta, t, o, size, ex.layers)
        first = next(l for l in st["layers"] if l["name"] == "g_a.0")
        # conv5/2, 3 → 8 channels on 768×512: 384×256 outputs.
        self.assertEqual(first["macs"], 384 * 256 * 8 * 25 * 3)
        self.assertEqual(first["width"], "8×u8")
        n0 = 8 * 25 * 3
        self.assertEqual(st["weight_bytes_packed"],
                         n0 + sum(-(-(l["weights"] * 6) // 8) for l in st["layers"]
                                  if l["op"] == "conv" and l["name"] != "g_a.0"))
        self.assertEqual(st["packed_bytes"], size - st["weights"] + st["weight_bytes_packed"])
        self.assertEqual(sum(st["macs"].values()), st["conv_macs"])
        self.assertEqual(len(st["activations"]), 16)
        bad = QuantOptions(weight_bits=5)        # the model has 6-bit weights
        with self.assertRaises(ValueError):
            bitwidth.model_stats(meta, t, bad, size)

    def test_greedy_order(self):
        # Two layers, cost = sum of levels / 16; layer b is free to lower.
        cands = {"a": [(4, 1.0), (2, 5.0)], "b": [(4, -0.3), (2, 0.2)]}
        seq = bitwidth.greedy_order(cands, {"a": 8, "b": 8},
                                    lambda s: (s["a"] + s["b"]) / 16)
        self.assertEqual([(m["layer"], m["level"]) for m in seq],
                         [("b", 4), ("b", 2), ("a", 4), ("a", 2)])
        self.assertEqual([round(m["predicted"], 6) for m in seq], [0.0, 0.2, 1.2, 5.2])

    def test_cost_model_matches_exports(self):
        """The search's cost model agrees with real exports' statistics."""
        m = lively_model()
        table = export.layer_table(m)

        def stats(o):
            meta, t, ex = export.export_model(m, o, "t", "t")
            return bitwidth.model_stats(meta, t, o, 0, ex.layers)

        cm = bitwidth.CostModel(m, table, stats(QuantOptions()))
        self.assertAlmostEqual(cm.cost(cm.default_state()), 1.0)
        s = cm.default_state()
        s.update({"w:g_a.2": 4, "a:g_a.1": (10, 1), "a:h_s.0": (8, 0), "w:h_s.2": 6})
        o = cm.options(s)
        self.assertEqual(o.layer_weight_bits, {"g_a.2": 4, "h_s.2": 6})
        st = stats(o)
        bops, wbits, abits = cm.raw(s)
        self.assertEqual(bops, st["bops"])
        self.assertEqual(wbits, st["weight_bits_total"])
        self.assertEqual(abits, st["act_bits"])


if __name__ == "__main__":
    unittest.main()
