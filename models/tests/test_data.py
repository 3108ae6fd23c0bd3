"""Tests of the training crop sampler (fxic/data.py) on a tiny synthetic image set.

Run from the repository root:
    /usr/bin/python3 -m unittest discover -s models/tests -t models
"""
from __future__ import annotations

import tempfile
import unittest
from pathlib import Path

import numpy as np
from PIL import Image

from fxic.data import TRAIN_DIRS, CropCache


def _make_set(root: Path, sizes: list[tuple[int, int]]) -> None:
    """One PNG per (h, w) in the first training folder; image k is filled with
    value 10·k + 5 in every channel, so a crop tells which image it came from."""
    for sub in TRAIN_DIRS:
        (root / sub).mkdir(parents=True)
    d = root / TRAIN_DIRS[0]
    for k, (h, w) in enumerate(sizes):
        Image.fromarray(np.full((h, w, 3), 10 * k + 5, np.uint8)).save(d / f"{k:02d}.png")


class CropSamplerTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        root = Path(self.tmp.name)
        # Image 0 is too small for 32² crops; image 2 has 8× the pixels of image 1.
        _make_set(root / "data", [(20, 20), (32, 32), (64, 128)])
        self.cache = CropCache(root / "data", root / "cache")

    def tearDown(self):
        self.tmp.cleanup()

    def sources(self, crops: np.ndarray) -> np.ndarray:
        return (crops[:, 0, 0, 0].astype(int) - 5) // 10

    def test_per_image_draws_images_uniformly(self):
        src = self.sources(self.cache.batch(np.random.default_rng(1), 4000, 32))
        self.assertNotIn(0, src)
        share = np.mean(src == 2)
        self.assertGreater(share, 0.45)
        self.assertLess(share, 0.55)

    def test_pixel_weighted_draws_images_by_area(self):
        src = self.sources(self.cache.batch(np.random.default_rng(1), 4000, 32,
                                            pixel_weighted=True))
        self.assertNotIn(0, src)
        share = np.mean(src == 2)          # 8192 / (8192 + 1024) = 0.889
        self.assertGreater(share, 0.86)
        self.assertLess(share, 0.92)

    def test_defaults_keep_the_earlier_stream(self):
        a = self.cache.batch(np.random.default_rng(3), 16, 32)
        b = self.cache.batch(np.random.default_rng(3), 16, 32, False, 1.0)
        self.assertTrue(np.array_equal(a, b))

    def test_downscaled_crops_keep_content_and_size(self):
        # A horizontal ramp: a crop downscaled by s spans about 1/s as many
        # columns of the source, so its left-right difference grows.
        root = Path(self.tmp.name) / "ramp"
        for sub in TRAIN_DIRS:
            (root / sub).mkdir(parents=True)
        d = root / TRAIN_DIRS[0]
        ramp = np.tile(np.arange(256, dtype=np.uint8)[None, :, None], (256, 1, 3))
        Image.fromarray(ramp).save(d / "ramp.png")
        cache = CropCache(root, Path(self.tmp.name) / "ramp-cache")
        plain = cache.batch(np.random.default_rng(5), 64, 64).astype(int)
        scaled = cache.batch(np.random.default_rng(5), 64, 64, min_scale=0.5).astype(int)
        self.assertEqual(scaled.shape, (64, 3, 64, 64))
        span = lambda c: np.abs(c[:, 0, 32, -2] - c[:, 0, 32, 1])  # flips may reverse it
        self.assertTrue(np.all(span(plain) == 61))
        self.assertGreater(span(scaled).mean(), 75)
        self.assertLessEqual(span(scaled).max(), 2 * 61 + 4)


if __name__ == "__main__":
    unittest.main()
