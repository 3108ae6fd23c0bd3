"""Tests of stage-1 training helpers: the weights' moving average and which
weights a checkpoint exports.

Run from the repository root:
    /usr/bin/python3 -m unittest discover -s models/tests -t models
"""
from __future__ import annotations

import unittest

import torch

from fxic import train
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


if __name__ == "__main__":
    unittest.main()
