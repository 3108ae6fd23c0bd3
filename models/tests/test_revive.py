"""Tests of fxic.revive: dead ReLU channels of h_a/h_s are found, revived
without changing the network's function, and take their source's Adam moments.

Run from the repository root:
    /usr/bin/python3 -m unittest discover -s models/tests -t models
"""
from __future__ import annotations

import unittest

import torch

from fxic import revive
from fxic.net import Config, HyperpriorModel, rate_bits


def _kill(model: HyperpriorModel, prod: str, chans: list[int]) -> None:
    """Makes `chans` of a producer's output never positive."""
    mod = dict(model.named_modules())[prod]
    conv = revive._conv(mod)
    with torch.no_grad():
        for c in chans:
            conv.bias[revive._rows(mod, c)] = -1e4


class ReviveTest(unittest.TestCase):
    def setUp(self):
        torch.manual_seed(3)
        torch.set_num_threads(1)
        self.model = HyperpriorModel(Config(N=8, M=8))
        _kill(self.model, "h_a.2", [1, 5])   # conv producer
        _kill(self.model, "h_s.2", [0, 7, 11])  # sub-pixel producer
        self.x = torch.rand(2, 3, 128, 128)
        self.levels = [0, 7]

    def step(self, opt):
        x_hat, p_y, p_z = self.model(self.x, torch.tensor([0.0, 7.0]))
        loss = (rate_bits(p_y) + rate_bits(p_z)).mean() / 1000 + (x_hat - self.x).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()

    def test_finds_revives_and_keeps_the_function(self):
        m = self.model
        opt = torch.optim.Adam(m.parameters(), lr=1e-4)
        self.step(opt)
        _kill(m, "h_a.2", [1, 5])
        _kill(m, "h_s.2", [0, 7, 11])
        dead = revive.dead_channels(m, None, self.x, self.levels)
        # The killed channels, and any the random weights left dead.
        self.assertLessEqual({1, 5}, set(dead["h_a.3"]))
        self.assertLessEqual({0, 7, 11}, set(dead["h_s.3"]))
        hs3 = dead["h_s.3"]
        m.eval()
        with torch.no_grad():
            before = [m(self.x, torch.full((2,), float(q)))[0] for q in self.levels]
        ema = {k: v.clone() for k, v in m.state_dict().items()}
        hs2 = m.h_s[2].conv
        src_sq = opt.state[hs2.weight]["exp_avg_sq"].clone()
        self.assertEqual(revive.revive(m, dead, ema, opt), sum(map(len, dead.values())))
        with torch.no_grad():
            after = [m(self.x, torch.full((2,), float(q)))[0] for q in self.levels]
        for b, a in zip(before, after):
            self.assertTrue(torch.equal(b, a))
        # The moving average got the same change.
        for k, v in m.state_dict().items():
            self.assertTrue(torch.equal(ema[k], v), k)
        # The revived channels are alive, their outgoing weights zero, and
        # their Adam moments those of a live channel.
        act = revive.activity(m, self.x, self.levels)
        for site, chans in dead.items():
            self.assertTrue(bool((act[site][chans] > 0).all()), site)
        self.assertEqual(float(m.h_s[4].weight[:, hs3].abs().sum()), 0.0)
        # (Columns of h_s.1's dead channels were reset by their own revival.)
        sq = opt.state[hs2.weight]["exp_avg_sq"]
        cols = [k for k in range(8) if k not in dead["h_s.1"]]
        for c in hs3:
            rows = sq[4 * c:4 * c + 4, cols]
            self.assertTrue(any(torch.equal(rows, src_sq[4 * j:4 * j + 4, cols])
                                for j in range(12) if j not in hs3))
        # Training goes on and the outgoing weights start to move.
        m.train()
        self.step(opt)
        self.assertGreater(float(m.h_s[4].weight[:, hs3].abs().sum()), 0.0)

    def test_nothing_dead_changes_nothing(self):
        m = HyperpriorModel(Config(N=8, M=8))
        state = {k: v.clone() for k, v in m.state_dict().items()}
        self.assertEqual(revive.revive(m, {s: [] for s, _, _ in revive.SITES}), 0)
        for k, v in m.state_dict().items():
            self.assertTrue(torch.equal(state[k], v), k)


if __name__ == "__main__":
    unittest.main()
