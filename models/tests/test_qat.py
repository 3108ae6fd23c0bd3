"""Tests of stage 2 (fxic.qat, fxic.qat_ops): the QAT forward pass is the integer codec.

The acceptance test (`SimulationMatchesIntrefTest`): a small QAT model
(N = M = 16, data-dependent random init so every layer is busy, learned
weight ranges perturbed so some weights clip) is exported with the QAT
path, the file is read back and run by intref (the numpy reference pinned to
the C++ codec by the parity test), and the QAT simulation must give the same
z symbols, y symbols, scale indices, μ, σ, every layer's output and the
reconstruction, bit for bit, on Kodak crops (sizes that need padding
included) at integer and fractional qualities, for 8- and 4-bit weights. When
the `fxic` binary is built, its decoded images must match too.

Run from the repository root:
    /usr/bin/python3 -m unittest discover -s models/tests -t models
"""
from __future__ import annotations

import contextlib
import io
import math
import os
import subprocess
import tempfile
import unittest
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn

from fxic import export, intops, intref, qat, qat_ops
from fxic.data import DATA_ROOT, TRAIN_DIRS, load_rgb
from fxic.modelfile import write_model
from fxic.net import GDN, Config, SubPixelConv

REPO = Path(__file__).resolve().parents[2]
CROPS = REPO / "tests" / "data"


def fxic_binary() -> Path | None:
    env = os.environ.get("FXIC_BIN")
    cands = [Path(env)] if env else []
    cands += [REPO / "build-main" / "apps" / "fxic", REPO / "build" / "apps" / "fxic"]
    return next((p for p in cands if p.is_file() and os.access(p, os.X_OK)), None)


@torch.no_grad()
def lively_init(model, x: torch.Tensor, seed: int = 0) -> None:
    """Data-dependent random init of a float HyperpriorModel: each conv's
    output gets a set spread on image x, GDN γ/β are random, σ positive — so
    every integer layer works over much of its range and some clamp."""
    g = torch.Generator().manual_seed(seed)

    def run(seq, h, targets):
        ti = 0
        for m in seq:
            if isinstance(m, GDN):
                c = m.beta_raw.numel()
                m.beta_raw.copy_(0.5 + torch.rand(c, generator=g))
                m.gamma_raw.copy_(math.sqrt(0.1) * torch.eye(c)
                                  + 0.15 * torch.rand(c, c, generator=g))
            conv = m.conv if isinstance(m, SubPixelConv) else (
                m if isinstance(m, nn.Conv2d) else None)
            if conv is not None:
                spread, mean = targets[ti]
                ti += 1
                conv.weight.normal_(0, 1, generator=g)
                conv.bias.zero_()
                conv.weight.mul_(spread / m(h).std().item())
                conv.bias.copy_(mean + 0.3 * spread * torch.randn(conv.bias.shape, generator=g))
            h = m(h)
        return h

    y = run(model.g_a, x, [(6, 0), (6, 0), (6, 0), (10, 0)])
    y_g = y * model.gains(torch.zeros(x.shape[0]))[:, :, None, None]
    z = run(model.h_a, y_g, [(6, 3), (6, 3), (4, 0)])
    run(model.h_s, torch.round(z), [(6, 3), (6, 3), (2, 0)])
    model.h_s[-1].bias[model.cfg.M:] += 2.0
    run(model.g_s, y, [(6, 0), (6, 0), (6, 0), (0.3, 0.5)])


def small_qat_model(weight_bits: int, seed: int = 0) -> qat.QatModel:
    torch.manual_seed(seed)
    model = qat.QatModel(Config(N=16, M=16), weight_bits)
    rgb = load_rgb(CROPS / "kodim23_crop.png")[:128, :128]
    lively_init(model.net, torch.from_numpy(rgb.copy()).permute(2, 0, 1)[None].float() / 255,
                seed)
    model.init_ranges()
    with torch.no_grad():   # learned ranges below the peak clip some weights
        for p in model.log_range.values():
            p.add_(torch.empty_like(p).uniform_(-0.3, 0.02))
    return model.eval()


def nchw(a: np.ndarray) -> np.ndarray:
    return np.asarray(a, np.int64).transpose(2, 0, 1)


def test_images() -> list[np.ndarray]:
    a = load_rgb(CROPS / "kodim01_crop.png")
    b = load_rgb(CROPS / "kodim19_crop.png")
    c = load_rgb(CROPS / "kodim08_crop.png")
    return [np.ascontiguousarray(a[:64, :64]), np.ascontiguousarray(b[30:130, 10:140]),
            np.ascontiguousarray(c[:128, 40:232])]


def accumulator(x: np.ndarray, w: np.ndarray, bias: np.ndarray, stride: int) -> np.ndarray:
    """bias + Σ w·x in int64 numpy, tap by tap as intops.conv2d (HWC, no int32 limit)."""
    cout, k, _, cin = w.shape
    h, wd, _ = x.shape
    p = k // 2
    ho, wo = intops.conv_output_size(h, k, stride), intops.conv_output_size(wd, k, stride)
    padded = np.zeros((h + 2 * p, wd + 2 * p, cin), np.int64)
    padded[p:p + h, p:p + wd] = x
    acc = np.broadcast_to(bias.astype(np.int64), (ho * wo, cout)).copy()
    for ky in range(k):
        for kx in range(k):
            tap = padded[ky:ky + stride * (ho - 1) + 1:stride, kx:kx + stride * (wo - 1) + 1:stride]
            acc += tap.reshape(ho * wo, cin) @ w[:, ky, kx, :].T.astype(np.int64)
    return acc.reshape(ho, wo, cout)


class OpsMatchIntopsTest(unittest.TestCase):
    """qat_ops (torch int64) gives intops' (numpy, = C++) integers."""

    def setUp(self):
        self.rng = np.random.default_rng(5)

    def test_rounding_shift_right(self):
        x = np.concatenate([self.rng.integers(-(1 << 61), 1 << 61, 5000),
                            np.arange(-40, 41), [3, -3, 5, -5, 6, -6]])
        for n in (0, 1, 2, 7, 15, 28, 40, 61):
            got = qat_ops.rounding_shift_right(torch.from_numpy(x), n).numpy()
            np.testing.assert_array_equal(got, intops.rounding_shift_right(x, n))
        n = self.rng.integers(0, 40, x.size)
        np.testing.assert_array_equal(
            qat_ops.rounding_shift_right(torch.from_numpy(x), torch.from_numpy(n)).numpy(),
            intops.rounding_shift_right(x, n))

    def test_rsqrt_q30(self):
        norm = np.concatenate([self.rng.integers(1, 1 << 31, 20000), np.arange(1, 5000),
                               [(1 << k) + d for k in range(31) for d in (-1, 0, 1)
                                if 1 <= (1 << k) + d < 1 << 31], [(1 << 31) - 1]])
        got = qat_ops.rsqrt_q30(torch.from_numpy(norm))
        want = intops.rsqrt_q30(norm)
        for g, w in zip(got, want):
            np.testing.assert_array_equal(g.numpy(), w)

    def test_normalization(self):
        c, lo, hi = 6, -20000, 30000
        for inverse in (False, True):
            for sq_shift in (0, 9, 15):
                a = min(32767, math.isqrt(32767 << sq_shift))   # sq ≤ 32767
                x = self.rng.integers(-a, a + 1, (2, c, 5, 7))
                gamma = self.rng.integers(0, 3000, (c, c))
                beta = self.rng.integers(1, 1 << 20, c)
                mult = self.rng.integers(1, 1 << 31, c)
                shift = self.rng.integers(20 if inverse else 5, 40, c)
                got, _ = qat_ops.normalize(torch.from_numpy(x), *(torch.from_numpy(t) for t in
                                           (gamma, beta, mult, shift)), sq_shift, lo, hi, inverse)
                fn = intops.igdn if inverse else intops.gdn
                for i in range(2):
                    want = fn(x[i].transpose(1, 2, 0), gamma, beta, mult, shift, sq_shift, lo, hi)
                    np.testing.assert_array_equal(got[i].numpy(), nchw(want))

    def test_exact_conv2d(self):
        """Worst-case inputs (|x| = 32767, full-range weights) force the digit
        and channel-group split; the result is conv2d of intops, exactly."""
        for cin, cout, k, stride, a, wm in [(64, 6, 5, 2, 32767, 127), (30, 5, 3, 1, 32767, 127),
                                             (9, 4, 3, 1, 300, 20), (3, 5, 5, 2, 255, 127)]:
            x = self.rng.integers(-a, a + 1, (2, 11, 9, cin))
            x[0, 0, 0] = -a
            w = self.rng.integers(-wm, wm + 1, (cout, k, k, cin))
            bias = self.rng.integers(-(1 << 20), 1 << 20, cout)
            got = qat_ops.exact_conv2d(
                torch.from_numpy(x.transpose(0, 3, 1, 2).astype(np.float32)),
                torch.from_numpy(w.transpose(0, 3, 1, 2).astype(np.float32)),
                torch.from_numpy(bias), stride, k // 2)
            for i in range(2):
                np.testing.assert_array_equal(got[i].numpy(),
                                              accumulator(x[i], w, bias, stride).transpose(2, 0, 1))

    def test_gain_interpolation(self):
        table = self.rng.integers(1, 1 << 30, (5, 7))
        qf = np.arange(0, 256 * 4 + 1)
        got = qat_ops.interpolate_gains(torch.from_numpy(table), torch.from_numpy(qf)).numpy()
        for i, q in enumerate(qf):
            np.testing.assert_array_equal(got[i], intops.interpolate_gains(table, int(q)))

    def test_exact_is_exact_and_straight_through(self):
        s = torch.tensor([0.3, 1.7, -2.5], dtype=torch.float64, requires_grad=True)
        v = torch.tensor([1, 2, -40000000000001], dtype=torch.int64)
        out = qat_ops.exact(s * 2, v, torch.tensor([True, False, True]))
        self.assertEqual(out.tolist(), [1.0, 2.0, -40000000000001.0])
        out.sum().backward()
        self.assertEqual(s.grad.tolist(), [2.0, 0.0, 2.0])


class SimulationMatchesIntrefTest(unittest.TestCase):
    """The acceptance test: QAT's forward pass = the exported model in intref."""

    @classmethod
    def setUpClass(cls):
        torch.set_num_threads(1)
        cls.tmp = tempfile.TemporaryDirectory()
        cls.images = test_images()

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def export(self, model, tag):
        meta, tensors = qat.export_qat(model, f"qat-test-{tag}", "QAT unit test model")
        path = Path(self.tmp.name) / f"{tag}.fxm"
        write_model(path, meta, tensors)
        return path, intref.load_model(path)   # read back: the file is what is checked

    def check_model(self, model, int_model, qfs, check_layers=True):
        ex = model.plan()
        for k, rgb in enumerate(self.images):
            for qf in qfs:
                with self.subTest(image=k, size=rgb.shape[:2], qf=qf):
                    layers, trace = {}, {}
                    enc = intref.encode_symbols(int_model, rgb, qf, layers)
                    dec = intref.decode_symbols(int_model, enc["z_sym"], enc["y_sym"], qf,
                                                enc["width"], enc["height"], layers)
                    with torch.no_grad():
                        out = model.simulate(torch.from_numpy(rgb).permute(2, 0, 1)[None],
                                             torch.tensor([qf]), ex, trace)
                    for key, want in (("z_sym", enc["z_sym"]), ("y_sym", enc["y_sym"]),
                                      ("y_idx", enc["y_idx"]), ("mu", enc["mu"]),
                                      ("sigma", enc["sigma"]), ("pixels", dec)):
                        np.testing.assert_array_equal(out[key][0].numpy(), nchw(want), key)
                    if check_layers:
                        self.check_trace(int_model, layers, trace)
                    self.assertGreater(len(np.unique(enc["y_sym"])), 5)   # not a dead model
                    self.assertGreater(len(np.unique(enc["y_idx"])), 5)
                    self.assertGreater(len(np.unique(enc["z_sym"])), 3)

    def check_trace(self, int_model, layers, trace):
        """Every integer layer's output (d2s folded into its conv) matches."""
        for net in intref.NETS:
            names = [l.name for l in int_model.nets[net].layers]
            ours = iter(trace[net])
            for i, l in enumerate(int_model.nets[net].layers):
                if l.op == "d2s":
                    continue
                name = names[i + 1] if i + 1 < len(names) and \
                    int_model.nets[net].layers[i + 1].op == "d2s" else l.name
                np.testing.assert_array_equal(next(ours)[0].numpy(), nchw(layers[name]), name)
        for key in ("y_g", "y_hat_g", "inv_gain"):
            np.testing.assert_array_equal(trace[key][0].numpy(),
                                          nchw(layers["gain" if key == "y_g" else key]), key)

    def test_8bit_bit_exact(self):
        model = small_qat_model(8)
        _, int_model = self.export(model, "w8")
        self.assertEqual(int_model.weight_bits, 8)
        self.check_model(model, int_model, [0, 256 * 3 + 77, 256 * 4 + 128, 256 * 7])

    def test_4bit_bit_exact(self):
        model = small_qat_model(4, seed=1)
        _, int_model = self.export(model, "w4")
        self.assertEqual(int_model.weight_bits, 4)
        self.assertLessEqual(max(np.abs(l.weight).max() for n in intref.NETS
                                 for l in int_model.nets[n].layers if l.op == "conv"), 7)
        self.check_model(model, int_model, [128, 256 * 6 + 200])

    def test_learned_ranges_are_exported(self):
        """Weights beyond a learned range clip; a wider range gives another model."""
        model = small_qat_model(8)
        conv = model.net.g_a[4]
        wmax = model.wmax
        s_w = model.weight_scale("g_a.4", conv)
        w = conv.weight.detach().double().numpy()
        clipped = np.abs(w) / s_w[:, None, None, None] > wmax + 0.5
        self.assertTrue(clipped.any())
        _, int_model = self.export(model, "ranges")
        wq = int_model.nets["g_a"].layers[2].weight.transpose(0, 3, 1, 2)
        self.assertTrue(np.all(np.abs(wq[clipped]) == wmax))
        with torch.no_grad():
            model.log_range["g_a_4"].add_(0.5)
        self.assertFalse(np.array_equal(model.plan().layers["g_a"][2]["tensors"]["weight"],
                                        int_model.tensors["g_a.2.weight"]))

    def test_batch_equals_single_images(self):
        model = small_qat_model(8)
        rgb = self.images[2]
        x = torch.from_numpy(np.stack([rgb, rgb[::-1].copy()])).permute(0, 3, 1, 2)
        qf = torch.tensor([300, 1500])
        ex = model.plan()
        with torch.no_grad():
            both = model.simulate(x, qf, ex)
            for i in range(2):
                one = model.simulate(x[i:i + 1], qf[i:i + 1], ex)
                for key in ("z_sym", "y_sym", "y_idx", "pixels"):
                    self.assertTrue(torch.equal(both[key][i], one[key][0]), key)

    def test_gradients_reach_every_parameter(self):
        model = small_qat_model(8).train()
        rgb = self.images[0]
        x = torch.from_numpy(np.stack([rgb, rgb[:, ::-1].copy()])).permute(0, 3, 1, 2)
        q = torch.tensor([1, 6])
        lam = torch.tensor(model.cfg.lambdas, dtype=torch.float64)[q]
        loss, _, _ = qat.loss_terms(model.simulate(x, 256 * q), x, lam)
        loss.backward()
        for name, p in model.named_parameters():
            self.assertIsNotNone(p.grad, name)
            self.assertTrue(torch.isfinite(p.grad).all(), name)
        for name, p in model.log_range.items():
            self.assertGreater(p.grad.abs().sum().item(), 0, name)

    def test_cxx_codec_decodes_the_simulated_pixels(self):
        binary = fxic_binary()
        if binary is None:
            self.skipTest("fxic binary not built (set FXIC_BIN)")
        from PIL import Image
        model = small_qat_model(8)
        path, _ = self.export(model, "cxx")
        d = Path(self.tmp.name)
        for k, rgb in enumerate(self.images):
            for q in ("1", "4.5", "8"):
                with self.subTest(image=k, q=q):
                    png, bit, rec = d / f"i{k}.png", d / f"i{k}.fxic", d / f"r{k}.png"
                    Image.fromarray(rgb).save(png)
                    subprocess.run([str(binary), "encode", str(png), "-o", str(bit), "-m",
                                    str(path), "-q", q, "-t", "1", "-f", "--quiet"], check=True)
                    subprocess.run([str(binary), "decode", str(bit), "-o", str(rec), "-m",
                                    str(path), "-t", "1", "-f", "--quiet"], check=True)
                    qf = int(round((float(q) - 1) * 256))
                    with torch.no_grad():
                        out = model.simulate(torch.from_numpy(rgb).permute(2, 0, 1)[None],
                                             torch.tensor([qf]))
                    np.testing.assert_array_equal(out["pixels"][0].numpy(),
                                                  nchw(load_rgb(rec)))


class PtqExportUnchangedTest(unittest.TestCase):
    def test_default_scale_is_the_peak(self):
        """Exporter without learned ranges = the post-training peak scales."""
        torch.manual_seed(3)
        model = qat.QatModel(Config(N=8, M=8), 8).net
        ex = export.Exporter(model, 8)
        ex.plan()
        rec = ex.layers["g_a"][0]
        w = rec["conv"].weight.detach().double().numpy().transpose(0, 2, 3, 1)
        peak = np.abs(w).reshape(w.shape[0], -1).max(1)
        np.testing.assert_array_equal(rec["s_w"], peak / 127)
        self.assertTrue(np.all(np.abs(rec["tensors"]["weight"]).reshape(8, -1).max(1) == 127))


@unittest.skipUnless((DATA_ROOT / TRAIN_DIRS[0]).is_dir(), "training images not present")
class TrainingEntryPointTest(unittest.TestCase):
    """fxic.qat main on a tiny stage-1 checkpoint: trains, checkpoints, resumes,
    and `fxic.export --qat` writes what the resumed model simulates."""

    def test_train_resume_export(self):
        torch.set_num_threads(1)
        with tempfile.TemporaryDirectory() as tmp:
            d = Path(tmp)
            model = small_qat_model(8).net
            half = {k: v.detach().half() for k, v in model.state_dict().items()}
            torch.save({"format": "fxic-train-checkpoint-1", "step": 7,
                        "config": model.cfg.to_dict(), "schedule": {}, "rng": {},
                        "weights_fp16": half}, d / "s1.pt")
            common = ["--minutes", "5", "--threads", "1", "--init", str(d / "s1.pt"),
                      "--checkpoint", str(d / "qat.pt"), "--log", str(d / "log.csv"),
                      "--run-dir", str(d / "runs"), "--val-crops", "1",
                      "--set", "crop=64", "--set", "batch=2", "--log-every", "1"]
            with contextlib.redirect_stdout(io.StringIO()):
                self.assertEqual(qat.main(common + ["--max-steps", "2", "--weight-bits", "6"]), 0)
            ck = torch.load(d / "qat.pt")
            self.assertEqual((ck["step"], ck["weight_bits"], ck["stage1_step"]), (2, 6, 7))
            self.assertEqual(ck["format"], qat.CKPT_FORMAT)
            self.assertTrue(all(v.dtype == torch.float16 for v in ck["weights_fp16"].values()))
            with contextlib.redirect_stdout(io.StringIO()):
                self.assertEqual(qat.main(common + ["--max-steps", "1"]), 0)
            self.assertEqual(torch.load(d / "qat.pt")["step"], 3)
            rows = (d / "log.csv").read_text().splitlines()
            self.assertEqual(sum(",train," in r for r in rows), 3)
            with contextlib.redirect_stdout(io.StringIO()):
                self.assertEqual(export.main(["--qat", str(d / "qat.pt"), "-o", str(d / "q.fxm")]),
                                 0)
            int_model = intref.load_model(d / "q.fxm")
            self.assertEqual(int_model.weight_bits, 6)
            loaded, _ = qat.load_qat(d / "qat.pt")
            rgb = test_images()[1]
            enc, dec = intref.roundtrip(int_model, rgb, 640)
            with torch.no_grad():
                out = loaded.simulate(torch.from_numpy(rgb).permute(2, 0, 1)[None],
                                      torch.tensor([640]))
            np.testing.assert_array_equal(out["y_sym"][0].numpy(), nchw(enc["y_sym"]))
            np.testing.assert_array_equal(out["pixels"][0].numpy(), nchw(dec))


if __name__ == "__main__":
    unittest.main()
