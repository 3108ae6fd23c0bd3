"""Training data: JPEGs decoded once into a uint8 cache, random crops with flips."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np

DATA_ROOT = Path(__file__).resolve().parents[3] / "shared" / "data"
TRAIN_DIRS = ("train/bsds500/train", "train/bsds500/val", "train/bsds500/test",
              "train/wallpapers")
CACHE_DIR = Path(__file__).resolve().parents[2] / ".cache"


def list_train_files(root: Path = DATA_ROOT) -> list[Path]:
    files: list[Path] = []
    for d in TRAIN_DIRS:
        files += sorted(p for p in (root / d).iterdir()
                        if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    return files


def load_rgb(path: Path) -> np.ndarray:
    from PIL import Image
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"), dtype=np.uint8)


class CropCache:
    """All training images as one flat uint8 buffer plus (offset, h, w) rows.

    Building the cache decodes every JPEG once (about a minute); later runs
    memory-map the .npy file, so the loader costs nothing next to training.
    """

    def __init__(self, root: Path = DATA_ROOT, cache_dir: Path = CACHE_DIR):
        files = list_train_files(root)
        if not files:
            raise FileNotFoundError(f"no training images under {root}")
        key = hashlib.sha1("\n".join(str(f) for f in files).encode()).hexdigest()[:12]
        blob = cache_dir / f"train_u8_{key}.npy"
        index = cache_dir / f"train_idx_{key}.npy"
        if not (blob.exists() and index.exists()):
            cache_dir.mkdir(parents=True, exist_ok=True)
            arrays = [load_rgb(f) for f in files]
            rows, off = [], 0
            for a in arrays:
                rows.append((off, a.shape[0], a.shape[1]))
                off += a.size
            flat = np.concatenate([a.reshape(-1) for a in arrays])
            tmp_blob = blob.with_suffix(".tmp.npy")
            tmp_index = index.with_suffix(".tmp.npy")
            np.save(tmp_blob, flat)
            np.save(tmp_index, np.asarray(rows, dtype=np.int64))
            os.replace(tmp_blob, blob)
            os.replace(tmp_index, index)
        self.flat = np.load(blob, mmap_mode="r")
        self.rows = np.load(index)
        self.n_images = len(self.rows)

    def image(self, i: int) -> np.ndarray:
        off, h, w = (int(v) for v in self.rows[i])
        return np.asarray(self.flat[off:off + h * w * 3]).reshape(h, w, 3)

    def _area_cdf(self, crop: int) -> np.ndarray:
        """Cumulative share of the pixels of the images a crop×crop crop fits
        in (built once per crop size, not per batch)."""
        if getattr(self, "_cdf_crop", None) != crop:
            area = (self.rows[:, 1] * self.rows[:, 2]).astype(np.float64)
            area[np.minimum(self.rows[:, 1], self.rows[:, 2]) < crop] = 0.0
            self._cdf, self._cdf_crop = np.cumsum(area) / area.sum(), crop
        return self._cdf

    def batch(self, rng: np.random.Generator, n: int, crop: int,
              pixel_weighted: bool = False, min_scale: float = 1.0) -> np.ndarray:
        """n random crop×crop RGB crops (N, 3, crop, crop) uint8, random flips.

        pixel_weighted: draw an image with probability proportional to its
        pixel count (every training pixel equally likely) instead of
        uniformly per image; per image, the 500 small BSDS JPEGs (4:2:0
        chroma) give about 65 % of the crops, per pixel about a third.
        min_scale < 1: downscale each crop's source region by a factor drawn
        uniformly from [max(min_scale, crop / short side), 1] (antialiased),
        which removes compression artefacts and adds scale diversity.
        The defaults draw exactly the stream of earlier runs.
        """
        out = np.empty((n, 3, crop, crop), dtype=np.uint8)
        cum = self._area_cdf(crop) if pixel_weighted else None
        for k in range(n):
            while True:
                if pixel_weighted:
                    i = min(int(np.searchsorted(cum, rng.random(), side="right")),
                            self.n_images - 1)
                else:
                    i = int(rng.integers(self.n_images))
                off, h, w = (int(v) for v in self.rows[i])
                if h >= crop and w >= crop:
                    break
            src = crop
            if min_scale < 1.0:
                lo = max(min_scale, crop / min(h, w))
                scale = lo + (1.0 - lo) * float(rng.random())
                src = min(h, w, int(round(crop / scale)))
            y = int(rng.integers(h - src + 1))
            x = int(rng.integers(w - src + 1))
            img = self.image(i)[y:y + src, x:x + src]
            if src != crop:
                from PIL import Image
                img = np.asarray(Image.fromarray(np.ascontiguousarray(img)).resize(
                    (crop, crop), Image.LANCZOS))
            if rng.integers(2):
                img = img[:, ::-1]
            if rng.integers(2):
                img = img[::-1, :]
            out[k] = img.transpose(2, 0, 1)
        return out

    def validation(self) -> np.ndarray:
        """The 8 fixed 256² validation crops training logs (`kind=val`) and
        fxic.revive counts dead channels on: training images drawn from their
        own generator, so the training stream never sees the draw."""
        return self.batch(np.random.default_rng(7), 8, 256)
