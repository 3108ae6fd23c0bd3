"""Tests of fxic.logstats: bins of the training log.

Run from the repository root:
    /usr/bin/python3 -m unittest discover -s models/tests -t models
"""
from __future__ import annotations

import contextlib
import io
import tempfile
import unittest
from pathlib import Path

from fxic import logstats
from fxic.loop import LOG_HEADER


def row(step, kind="train", loss="", bpp="", psnr="", lr=""):
    r = dict.fromkeys(LOG_HEADER, "")
    r.update(step=str(step), kind=kind, loss=str(loss), bpp=str(bpp), psnr=str(psnr), lr=str(lr))
    return r


class BinsTest(unittest.TestCase):
    ROWS = [row(50, loss=4, bpp=1, psnr=20, lr=1e-4),
            row(100, loss=2, bpp=3, psnr=30, lr=2e-4),
            row(100, kind="val-ema", bpp=9, psnr=99),
            row(150, loss=1, bpp=1, psnr=10, lr=3e-4),
            row(250, loss=5, bpp=2, psnr=40, lr=5e-4)]

    def test_means_per_bin_and_last_lr(self):
        got = logstats.bins(self.ROWS, 100)
        self.assertEqual([b["step"] for b in got], [0, 100, 200])
        self.assertEqual([b["n"] for b in got], [1, 2, 1])
        self.assertEqual(got[1]["loss"], 1.5)
        self.assertEqual(got[1]["bpp"], 2.0)
        self.assertEqual(got[1]["psnr"], 20.0)
        self.assertEqual(got[1]["lr"], 3e-4)

    def test_start_skips_earlier_rows(self):
        got = logstats.bins(self.ROWS, 1000, start=100)
        self.assertEqual(len(got), 1)
        self.assertEqual(got[0]["n"], 3)
        self.assertAlmostEqual(got[0]["loss"], 8 / 3)

    def test_rejects_empty_bins(self):
        with self.assertRaises(ValueError):
            logstats.bins(self.ROWS, 0)

    def test_cli_prints_one_line_per_bin(self):
        with tempfile.TemporaryDirectory() as d:
            p = Path(d) / "log.csv"
            p.write_text(",".join(LOG_HEADER) + "\n"
                         + "\n".join(",".join(r[k] for k in LOG_HEADER) for r in self.ROWS) + "\n")
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                self.assertEqual(logstats.main(["--log", str(p), "--bin", "100"]), 0)
            lines = out.getvalue().splitlines()
            self.assertEqual(len(lines), 4)
            self.assertEqual(lines[2].split()[:3], ["100", "2", "1.5000"])
            err = io.StringIO()
            with contextlib.redirect_stderr(err):
                self.assertEqual(logstats.main(["--log", str(Path(d) / "missing.csv")]), 1)
            self.assertIn("cannot read", err.getvalue())


if __name__ == "__main__":
    unittest.main()
