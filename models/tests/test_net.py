"""Float network details that training relies on."""
import unittest

import torch

from fxic.net import GDN, Clip


class GdnParametrizationTest(unittest.TestCase):
    def test_zero_cross_terms_still_learn(self):
        # Every off-diagonal γ starts at zero; a gradient step that wants them
        # larger must be able to move them (γ = g² alone has zero gradient there).
        torch.manual_seed(0)
        for inverse in (False, True):
            g = GDN(8, inverse=inverse)
            off = ~torch.eye(8, dtype=torch.bool)
            self.assertTrue(torch.all(g.gamma()[off] == 0))
            opt = torch.optim.Adam(g.parameters(), lr=1e-2)
            x = 3 * torch.randn(4, 8, 5, 5)
            # Pull the output towards zero (GDN) / away from it (IGDN): both
            # need more normalization / more gain, i.e. larger γ everywhere.
            for _ in range(20):
                opt.zero_grad()
                y = g(x)
                loss = y.pow(2).mean() if not inverse else -y.pow(2).mean()
                loss.backward()
                opt.step()
            self.assertGreater(int((g.gamma()[off] > 0).sum()), 8 * 7 // 2)

    def test_gamma_non_negative(self):
        g = GDN(6)
        with torch.no_grad():
            g.gamma_raw.copy_(torch.randn(6, 6))
        self.assertTrue(torch.all(g.gamma() >= 0))
        self.assertTrue(torch.all(g.beta() > 0))


class ClipTest(unittest.TestCase):
    def check(self, x: torch.Tensor, clip: Clip) -> None:
        """Same values and gradient as the plain clamp."""
        a = x.clone().requires_grad_()
        b = x.clone().requires_grad_()
        ya, yb = clip(a), b.clamp(clip.lo, clip.hi)
        self.assertTrue(torch.equal(ya, yb))
        w = torch.randn_like(x)
        (ya * w).sum().backward()
        (yb * w).sum().backward()
        self.assertTrue(torch.equal(a.grad, b.grad))

    def test_matches_clamp(self):
        torch.manual_seed(1)
        clip = Clip(-2.0, 3.0)
        inside = torch.rand(2, 3, 4, 4) * 5 - 2          # within [-2, 3]
        inside[0, 0, 0, 0], inside[0, 0, 0, 1] = -2.0, 3.0  # both bounds reached
        self.check(inside, clip)
        self.check(torch.randn(2, 3, 4, 4) * 4, clip)     # some values clipped
        self.check(torch.randn(2, 3, 4, 4).bfloat16(), Clip(0.0, 16.0))
        self.assertEqual(clip(torch.empty(0, 3)).shape, (0, 3))
        out = clip(torch.tensor([float("nan"), 5.0]))
        self.assertTrue(torch.isnan(out[0]) and out[1] == 3.0)


if __name__ == "__main__":
    unittest.main()
