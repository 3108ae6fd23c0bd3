"""The fxic mean-scale hyperprior in float PyTorch, with fixed activation ranges.

    x (RGB/255) ─► g_a ─► y ─► ×gain[q] ─► y_g ─► h_a ─► z ─► Q ─► ẑ
                                             │                    │
                                             │     factorized     ▼
                                             │     prior p(ẑ)    h_s ─► (μ, σ)
                                             ▼                            │
                        Q(y_g − μ) + μ = ŷ_g ◄───── Gaussian p(ŷ_g|μ,σ) ◄─┘
                                             │
                      x̂ ◄─ g_s ◄─ ÷gain[q] ◄─┘

g_a: 4 × (conv5 stride 2), GDN between them.  g_s: 4 × (conv3 + depth-to-space),
IGDN between them.  h_a: conv3, ReLU, conv5/2, ReLU, conv5/2.  h_s: 2 ×
(conv3 + depth-to-space, ReLU), conv3 → 2M channels (μ, σ).  Every activation
passes a fixed clip (activation range pre-processing), so each tensor's integer
format is known before quantization.  One model serves all qualities through the
per-channel gain vectors.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import torch
import torch.nn as nn
import torch.nn.functional as F

# CompressAI's MSE λ for q1..q7 span 0.0018 .. 0.0932; eight levels evenly spaced
# in log λ over that span.
def default_lambdas(levels: int = 8) -> list[float]:
    lo, hi = math.log(0.0018), math.log(0.0932)
    return [math.exp(lo + (hi - lo) * i / (levels - 1)) for i in range(levels)]


@dataclass
class Config:
    N: int = 128
    M: int = 192
    lambdas: list[float] = field(default_factory=default_lambdas)
    # Activation clip ranges (activation range pre-processing).
    clip_in: float = 1.0       # input pixels are in [0, 1]
    clip_pre: float = 16.0     # conv outputs that feed (I)GDN
    clip_gdn: float = 8.0      # GDN outputs
    clip_igdn: float = 16.0    # IGDN outputs
    clip_y: float = 32.0       # latent y before the gain
    clip_relu: float = 16.0    # ReLU outputs in h_a / h_s
    clip_z: float = 32.0       # hyper-latent z
    clip_mean: float = 128.0   # μ (gained domain)
    scale_min: float = 0.11    # σ lower bound (gained domain)
    scale_max: float = 256.0
    clip_out_lo: float = -1.0  # synthesis output before the [0, 1] pixel clamp
    clip_out_hi: float = 2.0

    def to_dict(self) -> dict:
        return asdict(self)

    @staticmethod
    def from_dict(d: dict) -> "Config":
        return Config(**d)


class LowerBound(torch.autograd.Function):
    """max(x, bound) whose gradient still flows when it pushes x up."""

    @staticmethod
    def forward(ctx, x, bound: float):
        ctx.save_for_backward(x)
        ctx.bound = bound
        return x.clamp_min(bound)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        pass_through = (x >= ctx.bound) | (g < 0)
        return g * pass_through.to(g.dtype), None


def round_ste(x: torch.Tensor) -> torch.Tensor:
    return x + (torch.round(x) - x).detach()


class Clip(nn.Module):
    """Activation range pre-processing: a fixed clip whose range is the format.

    A tensor already inside the range passes unchanged: the same values and
    the same gradient as the clamp, without its two passes forward and four
    backward over the tensor. Most clips in g_a and g_s bind rarely;
    bench/train_step.py measures what skipping them saves per step.
    """

    def __init__(self, lo: float, hi: float):
        super().__init__()
        self.lo, self.hi = float(lo), float(hi)

    def forward(self, x):
        if x.numel() == 0:
            return x
        lo, hi = torch.aminmax(x)
        if lo >= self.lo and hi <= self.hi:
            return x
        return x.clamp(self.lo, self.hi)

    def extra_repr(self) -> str:
        return f"[{self.lo}, {self.hi}]"


class GDN(nn.Module):
    """y = x / sqrt(β + γ·x²) (GDN) or y = x · sqrt(β + γ·x²) (IGDN).

    β = b² + β_min and γ = max(g, √p)² − p (p a tiny pedestal) keep both
    non-negative, as the integer normalization requires. The lower bound
    passes gradients that push g up, so a γ entry at zero (every off-diagonal
    entry at initialization) still learns; with a plain γ = g² the gradient at
    g = 0 is exactly zero and the cross-channel terms could never grow.
    """

    beta_min = 1e-6
    pedestal = 2.0 ** -36

    def __init__(self, channels: int, inverse: bool = False):
        super().__init__()
        self.inverse = inverse
        self.beta_raw = nn.Parameter(torch.ones(channels))
        self.gamma_raw = nn.Parameter(math.sqrt(0.1) * torch.eye(channels))

    def beta(self):
        return self.beta_raw.float() ** 2 + self.beta_min

    def gamma(self):
        bound = math.sqrt(self.pedestal)
        return LowerBound.apply(self.gamma_raw.float(), bound) ** 2 - self.pedestal

    def forward(self, x):
        c = x.shape[1]
        xf = x.float()
        with torch.autocast("cpu", enabled=False):
            # Σ_j γ_ij x_j² as a 1×1 convolution. dilation=2 changes nothing
            # for a 1×1 kernel, but it steers PyTorch (1.13, CPU) to its oneDNN
            # kernel: undilated fp32 1×1 convolutions with a batch under 16 on
            # one thread take the im2col + BLAS path, which with Debian's
            # reference BLAS made the six normalizations ~80 % of a step.
            norm = F.conv2d(xf * xf, self.gamma().view(c, c, 1, 1), self.beta(),
                            dilation=2)
            if self.inverse:
                return xf * torch.sqrt(norm)
            return xf * torch.rsqrt(norm)


def conv(cin: int, cout: int, k: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, k, stride=stride, padding=k // 2)


class SubPixelConv(nn.Module):
    """conv k×k to 4·cout channels, then depth-to-space by 2 (PyTorch order)."""

    def __init__(self, cin: int, cout: int, k: int = 3):
        super().__init__()
        self.conv = conv(cin, cout * 4, k)

    def forward(self, x):
        return F.pixel_shuffle(self.conv(x), 2)


class EntropyBottleneck(nn.Module):
    """Per-channel learned univariate density for ẑ (Ballé et al. 2018, §6.1).

    c(x) = sigmoid(f(x)) with f a small monotone chain: per layer
    x ← softplus(H)·x + b, then x ← x + tanh(a)·tanh(x) on all but the last.
    p(ẑ) = c(ẑ + ½) − c(ẑ − ½).
    """

    def __init__(self, channels: int, filters=(3, 3, 3), init_scale: float = 10.0):
        super().__init__()
        dims = (1,) + tuple(filters) + (1,)
        scale = init_scale ** (1.0 / (len(filters) + 1))
        self.H = nn.ParameterList()
        self.b = nn.ParameterList()
        self.a = nn.ParameterList()
        for i in range(len(dims) - 1):
            init = math.log(math.expm1(1.0 / scale / dims[i + 1]))
            self.H.append(nn.Parameter(torch.full((channels, dims[i + 1], dims[i]), init)))
            self.b.append(nn.Parameter(torch.rand(channels, dims[i + 1], 1) - 0.5))
            if i < len(dims) - 2:
                self.a.append(nn.Parameter(torch.zeros(channels, dims[i + 1], 1)))

    def logits_cdf(self, x: torch.Tensor) -> torch.Tensor:
        """x: (C, 1, L) → (C, 1, L) logits of the cumulative."""
        for i in range(len(self.H)):
            x = torch.matmul(F.softplus(self.H[i]), x) + self.b[i]
            if i < len(self.a):
                x = x + torch.tanh(self.a[i]) * torch.tanh(x)
        return x

    def likelihood(self, z: torch.Tensor) -> torch.Tensor:
        """z: (B, C, H, W) float; returns p(z) for unit bins centred on z."""
        with torch.autocast("cpu", enabled=False):
            b, c, h, w = z.shape
            v = z.float().permute(1, 0, 2, 3).reshape(c, 1, -1)
            lo = self.logits_cdf(v - 0.5)
            hi = self.logits_cdf(v + 0.5)
            sign = -torch.sign(lo + hi).detach()
            p = torch.abs(torch.sigmoid(sign * hi) - torch.sigmoid(sign * lo))
            return p.reshape(c, b, h, w).permute(1, 0, 2, 3)


def gaussian_likelihood(v: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """P(v − ½ < N(0, σ²) < v + ½), computed on the lower tail for accuracy."""
    with torch.autocast("cpu", enabled=False):
        v = torch.abs(v.float())
        s = scale.float()
        c = -1.0 / math.sqrt(2.0)
        upper = 0.5 * torch.erfc(c * (0.5 - v) / s)
        lower = 0.5 * torch.erfc(c * (-0.5 - v) / s)
        return upper - lower


class HyperpriorModel(nn.Module):
    def __init__(self, cfg: Config):
        super().__init__()
        self.cfg = cfg
        N, M = cfg.N, cfg.M
        L = len(cfg.lambdas)
        pre, gd = cfg.clip_pre, cfg.clip_gdn
        self.g_a = nn.Sequential(
            conv(3, N, 5, 2), Clip(-pre, pre), GDN(N), Clip(-gd, gd),
            conv(N, N, 5, 2), Clip(-pre, pre), GDN(N), Clip(-gd, gd),
            conv(N, N, 5, 2), Clip(-pre, pre), GDN(N), Clip(-gd, gd),
            conv(N, M, 5, 2), Clip(-cfg.clip_y, cfg.clip_y))
        r = cfg.clip_relu
        self.h_a = nn.Sequential(
            conv(M, N, 3), Clip(0, r),
            conv(N, N, 5, 2), Clip(0, r),
            conv(N, N, 5, 2), Clip(-cfg.clip_z, cfg.clip_z))
        self.h_s = nn.Sequential(
            SubPixelConv(N, M), Clip(0, r),
            SubPixelConv(M, M * 3 // 2), Clip(0, r),
            conv(M * 3 // 2, 2 * M, 3))
        ig = cfg.clip_igdn
        self.g_s = nn.Sequential(
            SubPixelConv(M, N), Clip(-pre, pre), GDN(N, inverse=True), Clip(-ig, ig),
            SubPixelConv(N, N), Clip(-pre, pre), GDN(N, inverse=True), Clip(-ig, ig),
            SubPixelConv(N, N), Clip(-pre, pre), GDN(N, inverse=True), Clip(-ig, ig),
            SubPixelConv(N, 3), Clip(cfg.clip_out_lo, cfg.clip_out_hi))
        # Gains start near sqrt(λ/λ_mid): the step size that equalises slopes.
        lam = torch.tensor(cfg.lambdas)
        init = 0.5 * torch.log(lam / lam.log().mean().exp())
        self.log_gain = nn.Parameter(init.view(L, 1).repeat(1, M))
        self.entropy_bottleneck = EntropyBottleneck(N)

    def gains(self, q: torch.Tensor) -> torch.Tensor:
        """Per-sample gains (B, M) for float quality indices q (B,).

        A fractional q interpolates linearly between neighbouring levels'
        gains, as the integer codec does with its multipliers.
        """
        g = self.log_gain.exp()
        L = g.shape[0]
        q = q.clamp(0, L - 1)
        lo = q.floor().long().clamp(max=L - 2)
        t = (q - lo.to(q.dtype)).unsqueeze(1)
        return g[lo] * (1 - t) + g[lo + 1] * t

    def hyper(self, y_g: torch.Tensor):
        z = self.h_a(y_g)
        z_hat = round_ste(z)
        p_z = self.entropy_bottleneck.likelihood(
            z + torch.empty_like(z).uniform_(-0.5, 0.5) if self.training else z_hat)
        params = self.h_s(z_hat).float()
        M = self.cfg.M
        mean = params[:, :M].clamp(-self.cfg.clip_mean, self.cfg.clip_mean)
        scale = LowerBound.apply(params[:, M:], self.cfg.scale_min)
        scale = scale.clamp(max=self.cfg.scale_max)
        return z_hat, p_z, mean, scale

    def forward(self, x: torch.Tensor, q: torch.Tensor):
        """x: (B, 3, H, W) in [0, 1]; q: (B,) quality indices (float ok)."""
        y = self.g_a(x).float()
        gain = self.gains(q)[:, :, None, None]
        y_g = y * gain
        _, p_z, mean, scale = self.hyper(y_g)
        if self.training:
            y_noisy = y_g + torch.empty_like(y_g).uniform_(-0.5, 0.5)
            p_y = gaussian_likelihood(y_noisy - mean, scale)
        else:
            p_y = gaussian_likelihood(torch.round(y_g - mean), scale)
        y_hat = round_ste(y_g - mean) + mean
        x_hat = self.g_s(y_hat / gain).float()
        return x_hat, p_y, p_z


def rate_bits(p: torch.Tensor) -> torch.Tensor:
    """Per-sample bits: −Σ log2 p, p clamped at 1e-9."""
    return -torch.log2(p.clamp_min(1e-9)).flatten(1).sum(1)
