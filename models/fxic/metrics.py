"""PSNR and MS-SSIM over RGB for the training-side evaluation (float64 numpy).

MS-SSIM follows Wang et al. 2003 as CompressAI / pytorch_msssim compute it:
11×11 Gaussian window (σ = 1.5) applied as two valid 1-D convolutions, K1 =
0.01, K2 = 0.03, 5 scales weighted 0.0448/0.2856/0.3001/0.2363/0.1333, 2×2
average pooling between scales, contrast-structure terms clamped at 0 (ReLU)
for the first four scales and SSIM at the last, per channel then averaged.
"""
from __future__ import annotations

import math

import numpy as np

WEIGHTS = np.array([0.0448, 0.2856, 0.3001, 0.2363, 0.1333])


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else 10 * math.log10(255.0 ** 2 / mse)


def _window(size: int = 11, sigma: float = 1.5) -> np.ndarray:
    x = np.arange(size, dtype=np.float64) - size // 2
    g = np.exp(-(x ** 2) / (2 * sigma ** 2))
    return g / g.sum()


def _filter(img: np.ndarray, g: np.ndarray) -> np.ndarray:
    """Valid separable filtering of (C, H, W)."""
    k = len(g)
    h = sum(g[i] * img[:, i:img.shape[1] - k + 1 + i, :] for i in range(k))
    return sum(g[i] * h[:, :, i:h.shape[2] - k + 1 + i] for i in range(k))


def _ssim_cs(x: np.ndarray, y: np.ndarray, g: np.ndarray):
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    mx, my = _filter(x, g), _filter(y, g)
    sxx = _filter(x * x, g) - mx * mx
    syy = _filter(y * y, g) - my * my
    sxy = _filter(x * y, g) - mx * my
    cs = (2 * sxy + c2) / (sxx + syy + c2)
    ssim = (2 * mx * my + c1) / (mx * mx + my * my + c1) * cs
    return ssim.mean(axis=(1, 2)), cs.mean(axis=(1, 2))


def ms_ssim(a: np.ndarray, b: np.ndarray) -> float:
    """a, b: (H, W, 3) uint8. Needs H, W > 160 (4 poolings, 11-tap window)."""
    x = a.astype(np.float64).transpose(2, 0, 1)
    y = b.astype(np.float64).transpose(2, 0, 1)
    g = _window()
    vals = []
    for level in range(5):
        ssim, cs = _ssim_cs(x, y, g)
        vals.append(np.maximum(cs, 0) if level < 4 else np.maximum(ssim, 0))
        if level < 4:
            h, w = x.shape[1] // 2 * 2, x.shape[2] // 2 * 2
            x = x[:, :h, :w].reshape(3, h // 2, 2, w // 2, 2).mean(axis=(2, 4))
            y = y[:, :h, :w].reshape(3, h // 2, 2, w // 2, 2).mean(axis=(2, 4))
    per_channel = np.prod(np.stack(vals) ** WEIGHTS[:, None], axis=0)
    return float(per_channel.mean())
