"""Tests of stage-1 training helpers: the weights' moving average and which
weights a checkpoint exports.

Run from the repository root:
    /usr/bin/python3 -m unittest discover -s models/tests -t models
"""
from __future__ import annotations

import contextlib
import io
import os
import platform
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

import torch

from fxic import heap, loop, train
from fxic.data import DATA_ROOT, TRAIN_DIRS
from fxic.net import Config, HyperpriorModel


class EmaTest(unittest.TestCase):
    def test_update_is_the_weighted_average(self):
        torch.manual_seed(0)
        model = HyperpriorModel(Config(N=8, M=8))
        ema = {k: torch.zeros_like(v) for k, v in model.state_dict().items()}
        train.ema_update(ema, model, 0.75)
        for k, v in model.state_dict().items():
            torch.testing.assert_close(ema[k], 0.25 * v, rtol=0, atol=0)
        train.ema_update(ema, model, 0.75)
        for k, v in model.state_dict().items():
            torch.testing.assert_close(ema[k], (0.25 * 0.75 + 0.25) * v, rtol=1e-6, atol=0)

    def test_export_prefers_the_average(self):
        w = {"a": torch.ones(2, dtype=torch.float16)}
        e = {"a": torch.full((2,), 3.0, dtype=torch.float16)}
        self.assertEqual(train.export_weights({"weights_fp16": w})["a"].tolist(), [1.0, 1.0])
        got = train.export_weights({"weights_fp16": w, "ema_fp16": e})["a"]
        self.assertEqual(got.dtype, torch.float32)
        self.assertEqual(got.tolist(), [3.0, 3.0])
        self.assertEqual(train.export_weights({"model": w, "ema": e})["a"].tolist(), [3.0, 3.0])
        with self.assertRaises(ValueError):
            train.export_weights({})


class ScheduleTest(unittest.TestCase):
    SCHED = {"lr": 2e-4, "warmup": 10, "decay_start": 100, "decay_steps": 50, "lr_final": 1e-5}

    def test_warmup_constant_decay(self):
        lr = lambda step, restart=0, base=None: loop.learning_rate(step, self.SCHED, restart, base)
        self.assertAlmostEqual(lr(0), 2e-5)
        self.assertAlmostEqual(lr(9), 2e-4)
        self.assertEqual(lr(99), 2e-4)
        self.assertAlmostEqual(lr(125), 1e-5 + 0.5 * (2e-4 - 1e-5))
        self.assertAlmostEqual(lr(150), 1e-5)
        self.assertAlmostEqual(lr(500), 1e-5)
        self.assertAlmostEqual(lr(52, restart=50), 3 * 2e-5)   # warm-up after a restart
        self.assertAlmostEqual(lr(150, base=1e-3), 1e-5 * 1e-3 / 2e-4)  # own base rate

    def test_sets_keep_types_and_refuse_unknown_keys(self):
        import argparse
        ap = argparse.ArgumentParser()
        sched = dict(train.DEFAULT_SCHEDULE)
        loop.apply_sets(ap, sched, train.DEFAULT_SCHEDULE, ["batch=16", "lr=1e-4"])
        self.assertEqual((sched["batch"], sched["lr"]), (16, 1e-4))
        self.assertIsInstance(sched["batch"], int)
        for bad in ("nope=1", "batch", "lr=fast"):
            with self.assertRaises(SystemExit), contextlib.redirect_stderr(io.StringIO()):
                loop.apply_sets(ap, sched, train.DEFAULT_SCHEDULE, [bad])


@unittest.skipUnless((DATA_ROOT / TRAIN_DIRS[0]).is_dir(), "training images not present")
class TrainingEntryPointTest(unittest.TestCase):
    """fxic.train main on a tiny network: a run split by a resume from the full
    state ends bit-identical to the same run in one go; the committed
    checkpoint holds only the half-precision average and resumes from it."""

    def run_train(self, d: Path, *extra) -> None:
        args = ["--minutes", "5", "--threads", "1", "--checkpoint", str(d / "ck.pt"),
                "--log", str(d / "log.csv"), "--run-dir", str(d / "runs"),
                "--set", "crop=64", "--set", "batch=2", "--log-every", "1", *extra]
        with contextlib.redirect_stdout(io.StringIO()):
            self.assertEqual(train.main(args), 0)

    def test_resume(self):
        torch.set_num_threads(1)
        tiny = ["--config", "N=8", "--config", "M=8", "--set", "pixel_weighted=1",
                "--set", "min_scale=0.5"]
        with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
            a, b = Path(a), Path(b)
            self.run_train(a, *tiny, "--max-steps", "4")
            self.run_train(b, *tiny, "--max-steps", "2")
            self.run_train(b, "--max-steps", "2")
            fa, fb = torch.load(a / "runs" / "full_state.pt"), torch.load(b / "runs" / "full_state.pt")
            self.assertEqual((fa["step"], fb["step"]), (4, 4))
            for k, v in fa["model"].items():
                self.assertTrue(torch.equal(v, fb["model"][k]), k)
                self.assertTrue(torch.equal(fa["ema"][k], fb["ema"][k]), k)
            ck = torch.load(b / "ck.pt")
            self.assertEqual(set(ck) & {"weights_fp16", "model", "optimizer"}, set())
            self.assertTrue(all(v.dtype == torch.float16 for v in ck["ema_fp16"].values()
                                if v.is_floating_point()))
            self.assertEqual(ck["config"]["N"], 8)
            rows = (b / "log.csv").read_text().splitlines()
            self.assertEqual(rows[0].split(","), loop.LOG_HEADER)
            self.assertEqual([r.split(",")[0] for r in rows[1:]], ["1", "2", "3", "4"])
            # Without the full state the run continues from the committed average.
            (b / "runs" / "full_state.pt").unlink()
            self.run_train(b, "--max-steps", "1")
            resumed = torch.load(b / "runs" / "full_state.pt")
            self.assertEqual((resumed["step"], resumed["restart_step"]), (5, 4))
            with self.assertRaises(SystemExit), contextlib.redirect_stderr(io.StringIO()):
                self.run_train(b, *tiny, "--max-steps", "1")

    def test_revive_on_resume(self):
        torch.set_num_threads(1)
        with tempfile.TemporaryDirectory() as d:
            d = Path(d)
            self.run_train(d, "--config", "N=8", "--config", "M=8", "--max-steps", "1")
            args = ["--minutes", "5", "--threads", "1", "--checkpoint", str(d / "ck.pt"),
                    "--log", str(d / "log.csv"), "--run-dir", str(d / "runs"),
                    "--max-steps", "1", "--revive"]
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                self.assertEqual(train.main(args), 0)
            self.assertRegex(out.getvalue(), r"revived \d+ dead ReLU channels at step 1: h_a.1 ")
            self.assertEqual(torch.load(d / "runs" / "full_state.pt")["step"], 2)

    def test_rewarm_restarts_the_warmup(self):
        torch.set_num_threads(1)
        with tempfile.TemporaryDirectory() as d:
            d = Path(d)
            self.run_train(d, "--config", "N=8", "--config", "M=8", "--max-steps", "1")
            self.run_train(d, "--max-steps", "1")
            self.assertEqual(torch.load(d / "runs" / "full_state.pt")["restart_step"], 0)
            self.run_train(d, "--max-steps", "1", "--rewarm", "--set", "lr=3e-4")
            full = torch.load(d / "runs" / "full_state.pt")
            self.assertEqual((full["step"], full["restart_step"]), (3, 2))
            rows = [r.split(",") for r in (d / "log.csv").read_text().splitlines()[1:]]
            lr = {int(r[0]): float(r[3]) for r in rows if r[2] == "train"}
            warm = train.DEFAULT_SCHEDULE["warmup"]
            # Logged to 3 significant digits.
            self.assertAlmostEqual(lr[2] / (2e-4 * 2 / warm), 1, places=2)  # first warm-up goes on
            self.assertAlmostEqual(lr[3] / (3e-4 / warm), 1, places=2)      # a new one starts

    def test_heap_settings_change_nothing_but_speed(self):
        """Two steps with glibc's default heap and with fxic.heap's settings,
        each in its own process (the settings hold process-wide), end with
        bit-identical weights and average."""
        states = []
        for setting in ("default", ""):
            with tempfile.TemporaryDirectory() as d:
                env = dict(os.environ, FXIC_MALLOC=setting)
                subprocess.run(
                    [sys.executable, "-m", "fxic.train", "--minutes", "5", "--threads", "1",
                     "--checkpoint", f"{d}/ck.pt", "--log", f"{d}/log.csv", "--run-dir", f"{d}/runs",
                     "--set", "crop=64", "--set", "batch=2", "--config", "N=8", "--config", "M=8",
                     "--max-steps", "2"],
                    cwd=Path(train.__file__).resolve().parents[1], env=env, check=True,
                    capture_output=True)
                states.append(torch.load(Path(d) / "runs" / "full_state.pt"))
        for k, v in states[0]["model"].items():
            self.assertTrue(torch.equal(v, states[1]["model"][k]), k)
            self.assertTrue(torch.equal(states[0]["ema"][k], states[1]["ema"][k]), k)


class HeapTest(unittest.TestCase):
    def test_keep_heap(self):
        env = os.environ.get("FXIC_MALLOC")
        try:
            os.environ["FXIC_MALLOC"] = "default"
            self.assertFalse(heap.keep_heap())
            del os.environ["FXIC_MALLOC"]
            if platform.libc_ver()[0] == "glibc":
                self.assertTrue(heap.keep_heap())
        finally:
            if env is not None:
                os.environ["FXIC_MALLOC"] = env


if __name__ == "__main__":
    unittest.main()
