"""Float network details that training relies on."""
import unittest

import torch

from fxic.net import GDN


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


if __name__ == "__main__":
    unittest.main()
