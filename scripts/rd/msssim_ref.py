#!/usr/bin/python3
"""Independent reference for fxic's PSNR and MS-SSIM (apps/metrics.cpp).

Two implementations of the metric CompressAI reports as "ms-ssim-rgb"
(pytorch_msssim's ms_ssim with data_range=255 on 0..255 RGB), written from
the algorithm's description, both in float64:

  * numpy: explicit separable valid convolution and average pooling;
  * torch: F.conv2d / F.avg_pool2d exactly as pytorch_msssim calls them
    (used when torch is importable).

Algorithm (Wang, Simoncelli, Bovik 2003, as pytorch_msssim implements it):
  - 11-tap Gaussian, sigma 1.5, normalized to sum 1, applied separably with
    no padding ("valid": the output shrinks by 10 in each dimension);
  - C1 = (0.01*255)^2, C2 = (0.03*255)^2; cs = (2 s12 + C2) / (s1 + s2 + C2),
    ssim = l * cs with l = (2 m1 m2 + C1) / (m1^2 + m2^2 + C1); the maps are
    averaged over each channel;
  - 5 scales, weights 0.0448 0.2856 0.3001 0.2363 0.1333; between scales a
    2x2 average pool, stride 2, with one zero of padding on each side of a
    dimension of odd length, the zeros counted in the divisor
    (count_include_pad); since the pool starts at -1 only the leading zero
    is ever used;
  - scales 1-4 contribute relu(cs), scale 5 relu(ssim), each raised to its
    weight; the product is taken per channel, then averaged over R, G, B.

PSNR is over all RGB samples with peak 255.

Usage:
  msssim_ref.py A.png B.png [...]      print psnr and ms-ssim for each pair
                                      (A B C D -> pairs (A,B), (C,D))
  msssim_ref.py --crop X Y W H ...     crop both images first
"""
from __future__ import annotations

import argparse
import math
import struct
import sys
import zlib

import numpy as np

WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)
K1, K2 = 0.01, 0.03
DATA_RANGE = 255.0
WIN_SIZE, WIN_SIGMA = 11, 1.5


# ----------------------------------------------------------------- PNG I/O

def read_png(path: str) -> np.ndarray:
    """Decodes an 8-bit gray/RGB/RGBA non-interlaced PNG to HxWx3 uint8."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError(f"{path}: not a PNG")
    pos, idat = 8, b""
    width = height = depth = ctype = interlace = None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind = data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            width, height, depth, ctype, _, _, interlace = struct.unpack(
                ">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        elif kind == b"IEND":
            break
    channels = {0: 1, 2: 3, 4: 2, 6: 4}.get(ctype)
    if depth != 8 or channels is None or interlace != 0:
        raise ValueError(f"{path}: only 8-bit non-interlaced gray/RGB(A)")
    raw = zlib.decompress(idat)
    stride = width * channels
    out = np.zeros((height, stride), dtype=np.int64)
    prev = np.zeros(stride, dtype=np.int64)
    for y in range(height):
        ftype = raw[y * (stride + 1)]
        line = np.frombuffer(raw, dtype=np.uint8, count=stride,
                             offset=y * (stride + 1) + 1).astype(np.int64)
        cur = np.zeros(stride, dtype=np.int64)
        if ftype == 0:
            cur = line
        elif ftype == 2:
            cur = (line + prev) & 255
        else:  # Sub, Average and Paeth depend on the left neighbour
            for x in range(stride):
                a = cur[x - channels] if x >= channels else 0
                b = prev[x]
                c = prev[x - channels] if x >= channels else 0
                if ftype == 1:
                    p = a
                elif ftype == 3:
                    p = (a + b) >> 1
                elif ftype == 4:
                    pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                    p = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                else:
                    raise ValueError(f"{path}: bad filter {ftype}")
                cur[x] = (line[x] + p) & 255
        out[y] = cur
        prev = cur
    img = out.reshape(height, width, channels).astype(np.uint8)
    if channels in (1, 2):
        img = np.repeat(img[:, :, :1], 3, axis=2)
    return img[:, :, :3]


def write_png(path: str, img: np.ndarray) -> None:
    """Writes HxWx3 uint8 as an 8-bit RGB PNG; per row the filter with the
    smallest sum of absolute residuals (libpng's heuristic), zlib level 9."""
    h, w, _ = img.shape
    rows = img.reshape(h, w * 3).astype(np.int64)
    rows_out = []
    for y in range(h):
        x = rows[y]
        up = rows[y - 1] if y else np.zeros_like(x)
        left = np.concatenate([np.zeros(3, np.int64), x[:-3]])
        upleft = np.concatenate([np.zeros(3, np.int64), up[:-3]])
        pa, pb, pc = (np.abs(up - upleft), np.abs(left - upleft),
                      np.abs(left + up - 2 * upleft))
        paeth = np.where((pa <= pb) & (pa <= pc), left,
                         np.where(pb <= pc, up, upleft))
        cands = [x, x - left, x - up, x - (left + up) // 2, x - paeth]
        cands = [c & 255 for c in cands]
        cost = [np.sum(np.where(c < 128, c, 256 - c)) for c in cands]
        best = int(np.argmin(cost))
        rows_out.append(bytes([best]) + cands[best].astype(np.uint8).tobytes())
    raw = b"".join(rows_out)

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (struct.pack(">I", len(body)) + kind + body +
                struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))

    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)))
        f.write(chunk(b"IDAT", zlib.compress(raw, 9)))
        f.write(chunk(b"IEND", b""))


# ------------------------------------------------------------------ metrics

def psnr(a: np.ndarray, b: np.ndarray) -> float:
    d = a.astype(np.float64) - b.astype(np.float64)
    mse = float(np.mean(d * d))
    return math.inf if mse == 0 else 10.0 * math.log10(255.0 ** 2 / mse)


def gaussian_window() -> np.ndarray:
    x = np.arange(WIN_SIZE, dtype=np.float64) - WIN_SIZE // 2
    g = np.exp(-(x * x) / (2.0 * WIN_SIGMA ** 2))
    return g / g.sum()


def _filter_valid(x: np.ndarray, g: np.ndarray) -> np.ndarray:
    """Separable valid correlation of a 2-D array (rows, then columns).

    A dimension shorter than the window is left unfiltered, as
    pytorch_msssim does (it warns and skips it)."""
    n = len(g)
    if x.shape[0] >= n:
        x = sum(g[k] * x[k:x.shape[0] - n + 1 + k, :] for k in range(n))
    if x.shape[1] >= n:
        x = sum(g[k] * x[:, k:x.shape[1] - n + 1 + k] for k in range(n))
    return x


def _ssim_cs(x: np.ndarray, y: np.ndarray, g: np.ndarray) -> tuple[float, float]:
    c1 = (K1 * DATA_RANGE) ** 2
    c2 = (K2 * DATA_RANGE) ** 2
    mu1, mu2 = _filter_valid(x, g), _filter_valid(y, g)
    s11 = _filter_valid(x * x, g) - mu1 * mu1
    s22 = _filter_valid(y * y, g) - mu2 * mu2
    s12 = _filter_valid(x * y, g) - mu1 * mu2
    cs_map = (2.0 * s12 + c2) / (s11 + s22 + c2)
    ssim_map = (2.0 * mu1 * mu2 + c1) / (mu1 * mu1 + mu2 * mu2 + c1) * cs_map
    return float(ssim_map.mean()), float(cs_map.mean())


def _avg_pool2(x: np.ndarray) -> np.ndarray:
    """2x2/2 average pool; an odd dimension gets a zero in front (and one
    behind that is never reached), divisor always 4."""
    ph, pw = x.shape[0] % 2, x.shape[1] % 2
    p = np.zeros((x.shape[0] + 2 * ph, x.shape[1] + 2 * pw))
    p[ph:ph + x.shape[0], pw:pw + x.shape[1]] = x
    oh = (x.shape[0] + 2 * ph - 2) // 2 + 1
    ow = (x.shape[1] + 2 * pw - 2) // 2 + 1
    p = p[:2 * oh, :2 * ow]
    return (p[0::2, 0::2] + p[1::2, 0::2] + p[0::2, 1::2] + p[1::2, 1::2]) / 4.0


def ms_ssim_numpy(a: np.ndarray, b: np.ndarray) -> float:
    g = gaussian_window()
    per_channel = []
    for c in range(3):
        x = a[:, :, c].astype(np.float64)
        y = b[:, :, c].astype(np.float64)
        value = 1.0
        for level, w in enumerate(WEIGHTS):
            ssim, cs = _ssim_cs(x, y, g)
            if level < len(WEIGHTS) - 1:
                value *= max(cs, 0.0) ** w
                x, y = _avg_pool2(x), _avg_pool2(y)
            else:
                value *= max(ssim, 0.0) ** w
        per_channel.append(value)
    return float(np.mean(per_channel))


def ms_ssim_torch(a: np.ndarray, b: np.ndarray) -> float | None:
    try:
        import torch
        import torch.nn.functional as F
    except ImportError:
        return None
    x = torch.from_numpy(a.astype(np.float64)).permute(2, 0, 1)[None]
    y = torch.from_numpy(b.astype(np.float64)).permute(2, 0, 1)[None]
    g = torch.from_numpy(gaussian_window())
    win_h = g.view(1, 1, -1, 1).repeat(3, 1, 1, 1)
    win_w = g.view(1, 1, 1, -1).repeat(3, 1, 1, 1)

    def filt(t):
        if t.shape[2] >= WIN_SIZE:
            t = F.conv2d(t, win_h, groups=3)
        if t.shape[3] >= WIN_SIZE:
            t = F.conv2d(t, win_w, groups=3)
        return t

    c1 = (K1 * DATA_RANGE) ** 2
    c2 = (K2 * DATA_RANGE) ** 2
    factors = []
    for level in range(len(WEIGHTS)):
        mu1, mu2 = filt(x), filt(y)
        s11 = filt(x * x) - mu1 ** 2
        s22 = filt(y * y) - mu2 ** 2
        s12 = filt(x * y) - mu1 * mu2
        cs_map = (2 * s12 + c2) / (s11 + s22 + c2)
        ssim_map = (2 * mu1 * mu2 + c1) / (mu1 ** 2 + mu2 ** 2 + c1) * cs_map
        if level < len(WEIGHTS) - 1:
            factors.append(torch.relu(cs_map.flatten(2).mean(-1)))
            pad = [x.shape[2] % 2, x.shape[3] % 2]
            x = F.avg_pool2d(x, kernel_size=2, padding=pad)
            y = F.avg_pool2d(y, kernel_size=2, padding=pad)
        else:
            factors.append(torch.relu(ssim_map.flatten(2).mean(-1)))
    w = torch.tensor(WEIGHTS, dtype=torch.float64).view(-1, 1, 1)
    return float(torch.prod(torch.stack(factors) ** w, dim=0).mean())


def ms_ssim_db(v: float) -> float:
    return math.inf if v >= 1.0 else -10.0 * math.log10(1.0 - v)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("images", nargs="+", help="pairs: ORIGINAL DISTORTED ...")
    ap.add_argument("--crop", nargs=4, type=int, metavar=("X", "Y", "W", "H"))
    args = ap.parse_args()
    if len(args.images) % 2:
        ap.error("images come in pairs")
    worst = 0.0
    for i in range(0, len(args.images), 2):
        a, b = read_png(args.images[i]), read_png(args.images[i + 1])
        if args.crop:
            x0, y0, w, h = args.crop
            a, b = a[y0:y0 + h, x0:x0 + w], b[y0:y0 + h, x0:x0 + w]
        if a.shape != b.shape:
            print(f"{args.images[i]}: sizes differ", file=sys.stderr)
            return 1
        m_np = ms_ssim_numpy(a, b)
        m_t = ms_ssim_torch(a, b)
        if m_t is not None:
            worst = max(worst, abs(m_np - m_t))
        print(f"{args.images[i]} {args.images[i + 1]} {a.shape[1]}x{a.shape[0]}"
              f" psnr {psnr(a, b):.12f} msssim {m_np:.15f}"
              f" msssim_db {ms_ssim_db(m_np):.12f}"
              + ("" if m_t is None else f" torch {m_t:.15f}"))
    if worst > 1e-12:
        print(f"numpy and torch disagree by {worst:.3g}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
