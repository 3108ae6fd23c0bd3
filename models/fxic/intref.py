"""Integer reference codec in numpy: a model file run as the C++ codec runs it.

Mirrors codec/ (docs/fixed-point.md, docs/bitstream-format.md) up to the
range coder: `encode_symbols` gives the z and y symbols and the y scale
indices the encoder codes, `decode_symbols` rebuilds the image from symbols.
Both can record every layer's output under the names the C++ LayerTrace uses
(`g_a.0` … `gain` … `h_a.i`, `h_s.i`, `inv_gain`, `g_s.i`) for parity tests.

Speed: convolutions and the normalizers' γ·sq sums run as float64 BLAS
matrix products. That is exact, not an approximation: every operand is an
integer below 2^16 in magnitude, and the loader's overflow proof bounds every
partial sum by 2^31 − 1 < 2^53, so each sum is exactly representable in any
order. `check_model` (run on load) proves those bounds first; the results are
converted back to int64 and everything after the accumulator uses the int64
primitives of intops.py (the numpy mirror of fixedpoint/).

    from fxic import intref
    model = intref.load_model("models/synthetic-tiny.fxm")
    enc = intref.encode_symbols(model, rgb, qf=256)
    rgb2 = intref.decode_symbols(model, enc["z_sym"], enc["y_sym"], 256, w, h)
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Optional, Union

import numpy as np

from . import intops
from .cdf import validate_tables
from .modelfile import read_model

ARCH = "mean_scale_hyperprior"
MAX_ACT = intops.MAX_ACTIVATION
NETS = ("g_a", "h_a", "h_s", "g_s")
# Output elements per BLAS chunk (bounds the float64 im2col buffer).
_CHUNK_ELEMS = 1 << 22


class ModelCheckError(ValueError):
    """The model breaks a rule the C++ loader checks (one line, names the field)."""


@dataclass
class Layer:
    name: str                       # "<net>.<i>"
    op: str                         # conv | gdn | igdn | d2s
    kernel: int = 0
    stride: int = 1
    cin: int = 0
    cout: int = 0
    channels: int = 0
    sq_shift: int = 0
    out_lo: int = 0
    out_hi: int = 0
    in_lo: int = 0
    in_hi: int = 0
    weight: Optional[np.ndarray] = None     # [cout, K, K, cin] int64
    bias: Optional[np.ndarray] = None
    gamma: Optional[np.ndarray] = None      # [C, C] int64
    beta: Optional[np.ndarray] = None
    mult: Optional[np.ndarray] = None
    shift: Optional[np.ndarray] = None
    # float64 copies for the exact BLAS products
    wmat: Optional[np.ndarray] = None       # [K·K·cin, cout]
    gmat: Optional[np.ndarray] = None       # gamma.T


@dataclass
class Network:
    name: str
    layers: list[Layer]
    in_channels: int
    out_channels: int
    in_lo: int
    in_hi: int
    out_lo: int
    out_hi: int
    down: int = 1
    up: int = 1


@dataclass
class IntModel:
    meta: dict
    tensors: dict
    model_id: bytes
    N: int = 0
    M: int = 0
    levels: int = 0
    weight_bits: int = 0
    f_y: int = 0
    f_z: int = 0
    z_max: int = 0
    gain_shift: int = 0
    inv_gain_shift: int = 0
    yg_lo: int = 0
    yg_hi: int = 0
    gs_in_lo: int = 0
    gs_in_hi: int = 0
    pixel_frac_bits: int = 0
    pad_multiple: int = 0
    nets: dict = field(default_factory=dict)
    gain: Optional[np.ndarray] = None       # [L, M] int64
    inv_gain: Optional[np.ndarray] = None
    thresholds: Optional[np.ndarray] = None  # [S - 1] int64
    num_y_tables: int = 0


# --------------------------------------------------------------------------
# Model parsing and the loader's checks (codec/model.cpp LoadModel)
# --------------------------------------------------------------------------

def _int(meta: dict, key: str, lo: int, hi: int) -> int:
    if key not in meta:
        raise ModelCheckError(f"model: missing metadata '{key}'")
    v = meta[key]
    if isinstance(v, str):
        raise ModelCheckError(f"model: metadata '{key}' must be an integer")
    if not lo <= v <= hi:
        raise ModelCheckError(f"model: metadata '{key}' = {v} is outside [{lo}, {hi}]")
    return int(v)


def _str(meta: dict, key: str) -> str:
    if key not in meta:
        raise ModelCheckError(f"model: missing metadata '{key}'")
    if not isinstance(meta[key], str):
        raise ModelCheckError(f"model: metadata '{key}' must be a string")
    return meta[key]


def _tensor(tensors: dict, name: str, dtype: str, shape: Optional[tuple]) -> np.ndarray:
    if name not in tensors:
        raise ModelCheckError(f"model: missing tensor '{name}'")
    t = tensors[name]
    if t.dtype != np.dtype(dtype):
        raise ModelCheckError(f"model: tensor '{name}' has the wrong type")
    if shape is None:
        if t.ndim != 1:
            raise ModelCheckError(f"model: tensor '{name}' must be 1-D")
    elif tuple(t.shape) != tuple(shape):
        raise ModelCheckError(f"model: tensor '{name}' has the wrong shape")
    return t.astype(np.int64)


def _fail(prefix: str, err: Optional[str]) -> None:
    if err:
        raise ModelCheckError(f"model: {prefix}: {err}")


def _parse_layer(meta: dict, tensors: dict, prefix: str) -> Layer:
    op = _str(meta, prefix + ".op")
    l = Layer(name=prefix, op=op)
    if op == "conv":
        l.kernel = _int(meta, prefix + ".kernel", 1, 5)
        if l.kernel % 2 == 0:
            raise ModelCheckError(f"model: {prefix}.kernel must be 1, 3 or 5")
        l.stride = _int(meta, prefix + ".stride", 1, 2)
        l.cin = _int(meta, prefix + ".cin", 1, 4096)
        l.cout = _int(meta, prefix + ".cout", 1, 4096)
        k = l.kernel
        l.weight = _tensor(tensors, prefix + ".weight", "i1", (l.cout, k, k, l.cin))
        l.bias = _tensor(tensors, prefix + ".bias", "i4", (l.cout,))
        l.mult = _tensor(tensors, prefix + ".mult", "i4", (l.cout,))
        l.shift = _tensor(tensors, prefix + ".shift", "u1", (l.cout,))
        l.wmat = l.weight.reshape(l.cout, -1).T.astype(np.float64).copy()
    elif op in ("gdn", "igdn"):
        l.channels = _int(meta, prefix + ".channels", 1, 4096)
        l.sq_shift = _int(meta, prefix + ".sq_shift", 0, 30)
        c = l.channels
        l.gamma = _tensor(tensors, prefix + ".gamma", "i2", (c, c))
        l.beta = _tensor(tensors, prefix + ".beta", "i4", (c,))
        l.mult = _tensor(tensors, prefix + ".mult", "i4", (c,))
        l.shift = _tensor(tensors, prefix + ".shift", "u1", (c,))
        l.gmat = l.gamma.T.astype(np.float64).copy()
    elif op == "d2s":
        return l
    else:
        raise ModelCheckError(f"model: {prefix}.op '{op}' is unknown")
    l.out_lo = _int(meta, prefix + ".out_lo", -MAX_ACT, MAX_ACT)
    l.out_hi = _int(meta, prefix + ".out_hi", -MAX_ACT, MAX_ACT)
    if l.out_lo > l.out_hi:
        raise ModelCheckError(f"model: {prefix} has out_lo > out_hi")
    return l


def _parse_network(meta: dict, tensors: dict, name: str, in_channels: int,
                   in_lo: int, in_hi: int, weight_bits: int) -> Network:
    n_layers = _int(meta, name + ".layers", 1, 64)
    ch, lo, hi = in_channels, in_lo, in_hi
    wmax = (1 << (weight_bits - 1)) - 1
    net = Network(name, [], in_channels, 0, in_lo, in_hi, 0, 0)
    for i in range(n_layers):
        prefix = f"{name}.{i}"
        l = _parse_layer(meta, tensors, prefix)
        l.in_lo, l.in_hi = lo, hi
        if l.op == "conv":
            if l.cin != ch:
                raise ModelCheckError(f"model: {prefix}.cin does not match its input")
            if np.any(np.abs(l.weight) > wmax):
                raise ModelCheckError(f"model: {prefix}.weight exceeds weight_bits")
            _fail(prefix, intops.check_conv_bounds(
                l.weight, l.bias, l.mult, l.shift, l.stride, l.out_lo, l.out_hi, lo, hi))
            ch = l.cout
            net.down *= l.stride
            lo, hi = l.out_lo, l.out_hi
        elif l.op in ("gdn", "igdn"):
            if l.channels != ch:
                raise ModelCheckError(f"model: {prefix}.channels does not match its input")
            _fail(prefix, intops.check_normalization_bounds(
                l.gamma, l.beta, l.mult, l.shift, l.sq_shift, l.out_lo, l.out_hi,
                l.op == "igdn", lo, hi))
            lo, hi = l.out_lo, l.out_hi
        else:
            if ch % 4:
                raise ModelCheckError(f"model: {prefix} needs channels divisible by 4")
            ch //= 4
            net.up *= 2
        net.layers.append(l)
    net.out_channels, net.out_lo, net.out_hi = ch, lo, hi
    return net


def _parse_tables(tensors: dict, name: str, expect: int) -> int:
    lengths = _tensor(tensors, name + ".lengths", "u4", None)
    offsets = _tensor(tensors, name + ".offsets", "i4", None)
    data = _tensor(tensors, name + ".data", "u4", None)
    if expect and lengths.size != expect:
        raise ModelCheckError(f"model: {name} has the wrong number of tables")
    try:
        validate_tables(lengths, offsets, data)
    except ValueError as e:
        raise ModelCheckError(f"model: {name}: {e}") from None
    return int(lengths.size)


def check_model(meta: dict, tensors: dict, model_id: bytes = b"") -> IntModel:
    """Validates a model as codec/model.cpp LoadModel does; returns it parsed.

    Raises ModelCheckError (one line naming the field) on the first failure.
    """
    m = IntModel(meta=meta, tensors=tensors, model_id=model_id)
    if _str(meta, "arch") != ARCH:
        raise ModelCheckError(f"model: architecture '{meta['arch']}' is not supported")
    _str(meta, "name")
    _str(meta, "description")
    m.N = _int(meta, "N", 1, 4096)
    m.M = _int(meta, "M", 1, 4096)
    m.levels = _int(meta, "levels", 1, 64)
    m.weight_bits = _int(meta, "weight_bits", 2, 8)
    m.f_y = _int(meta, "latent_frac_bits", 0, 12)
    m.f_z = _int(meta, "hyper_frac_bits", 0, 12)
    m.z_max = _int(meta, "z_max", 1, MAX_ACT)
    m.gain_shift = _int(meta, "gain_shift", 0, 62)
    m.inv_gain_shift = _int(meta, "inv_gain_shift", 0, 62)
    m.yg_lo = _int(meta, "yg_lo", -MAX_ACT, MAX_ACT)
    m.yg_hi = _int(meta, "yg_hi", -MAX_ACT, MAX_ACT)
    m.gs_in_lo = _int(meta, "gs_in_lo", -MAX_ACT, MAX_ACT)
    m.gs_in_hi = _int(meta, "gs_in_hi", -MAX_ACT, MAX_ACT)
    m.pixel_frac_bits = _int(meta, "pixel_frac_bits", 0, 14)
    m.pad_multiple = _int(meta, "pad_multiple", 1, 1024)
    if m.yg_lo > m.yg_hi or m.gs_in_lo > m.gs_in_hi:
        raise ModelCheckError("model: an activation range has lo > hi")

    b = m.weight_bits
    g_a = _parse_network(meta, tensors, "g_a", 3, 0, 255, b)
    if g_a.out_channels != m.M:
        raise ModelCheckError("model: g_a must output M channels")
    h_a = _parse_network(meta, tensors, "h_a", m.M, m.yg_lo, m.yg_hi, b)
    if h_a.out_channels != m.N:
        raise ModelCheckError("model: h_a must output N channels")
    h_s = _parse_network(meta, tensors, "h_s", m.N, -m.z_max, m.z_max, b)
    if h_s.out_channels != 2 * m.M:
        raise ModelCheckError("model: h_s must output 2M channels")
    g_s = _parse_network(meta, tensors, "g_s", m.M, m.gs_in_lo, m.gs_in_hi, b)
    if g_s.out_channels != 3:
        raise ModelCheckError("model: g_s must output 3 channels")
    if g_a.up != 1 or h_a.up != 1 or h_s.down != 1 or g_s.down != 1:
        raise ModelCheckError("model: analysis networks must only down-sample and "
                              "synthesis networks only up-sample")
    if g_a.down != g_s.up or h_a.down != h_s.up:
        raise ModelCheckError("model: synthesis up-sampling does not match analysis "
                              "down-sampling")
    if g_a.down * h_a.down != m.pad_multiple:
        raise ModelCheckError("model: pad_multiple does not match the networks' "
                              "down-sampling")
    m.nets = {"g_a": g_a, "h_a": h_a, "h_s": h_s, "g_s": g_s}

    L, M = m.levels, m.M
    m.gain = _tensor(tensors, "gain.mult", "i4", (L, M))
    m.inv_gain = _tensor(tensors, "inv_gain.mult", "i4", (L, M))
    if np.any(m.gain < 1) or np.any(m.inv_gain < 1):
        raise ModelCheckError("model: gain multipliers must be >= 1")
    _fail("gain", intops.check_gain_bounds(m.gain, m.gain_shift, g_a.out_lo, g_a.out_hi,
                                           m.yg_lo, m.yg_hi))
    _fail("inv_gain", intops.check_gain_bounds(m.inv_gain, m.inv_gain_shift, m.yg_lo,
                                               m.yg_hi, m.gs_in_lo, m.gs_in_hi))

    m.num_y_tables = _parse_tables(tensors, "y_cdf", 0)
    _parse_tables(tensors, "z_cdf", m.N)
    if m.num_y_tables >= 2:
        m.thresholds = _tensor(tensors, "y_scale.thresholds", "i4", (m.num_y_tables - 1,))
    elif "y_scale.thresholds" in tensors:
        raise ModelCheckError("model: y_scale.thresholds given for a single table")
    else:
        m.thresholds = np.zeros(0, dtype=np.int64)
    if np.any(np.diff(m.thresholds) <= 0):
        raise ModelCheckError("model: y_scale.thresholds must strictly increase")
    return m


def load_model(path: Union[str, os.PathLike]) -> IntModel:
    """Reads a model file (modelfile.read_model) and checks it (check_model)."""
    meta, tensors, model_id = read_model(path)
    return check_model(meta, tensors, model_id)


def _as_model(model: Union[IntModel, str, os.PathLike]) -> IntModel:
    return model if isinstance(model, IntModel) else load_model(model)


# --------------------------------------------------------------------------
# Layers (fixedpoint/): exact BLAS accumulators, int64 everywhere else
# --------------------------------------------------------------------------

def _conv(x: np.ndarray, l: Layer) -> np.ndarray:
    """fxic::Conv2d: zero padding K/2, int32 accumulator, linear scaling, clamp."""
    h, w, cin = x.shape
    k, s, p = l.kernel, l.stride, l.kernel // 2
    ho = intops.conv_output_size(h, k, s)
    wo = intops.conv_output_size(w, k, s)
    padded = np.zeros((h + 2 * p, w + 2 * p, cin), np.float64)
    padded[p:p + h, p:p + w] = x
    out = np.empty((ho, wo, l.cout), np.int16)
    rows = max(1, _CHUNK_ELEMS // max(1, wo * k * k * cin))
    bias = l.bias.astype(np.float64)
    for y0 in range(0, ho, rows):
        y1 = min(ho, y0 + rows)
        band = padded[y0 * s:(y1 - 1) * s + k]
        # cols[y][x][ky][kx][i] = band[y·s + ky][x·s + kx][i]
        win = np.lib.stride_tricks.sliding_window_view(band, (k, k), axis=(0, 1))
        cols = win[::s, ::s][:y1 - y0, :wo].transpose(0, 1, 3, 4, 2)
        acc = cols.reshape(-1, k * k * cin) @ l.wmat + bias
        acc = acc.astype(np.int64)
        if np.any(np.abs(acc) > intops.MAX_ACCUMULATOR):
            raise OverflowError(f"{l.name}: accumulator outside int32")
        out[y0:y1] = intops.linear_scale(acc, l.mult, l.shift, l.out_lo,
                                         l.out_hi).reshape(y1 - y0, wo, l.cout)
    return out


def _normalize(x: np.ndarray, l: Layer) -> np.ndarray:
    """fxic::Gdn / fxic::Igdn (range-dependent normalization), per pixel."""
    h, w, c = x.shape
    flat = x.reshape(-1, c).astype(np.int64)
    out = np.empty(flat.shape, np.int16)
    step = max(1, _CHUNK_ELEMS // c)
    beta = l.beta.astype(np.float64)
    for p0 in range(0, flat.shape[0], step):
        xs = flat[p0:p0 + step]
        sq = intops.rounding_shift_right(xs * xs, l.sq_shift)
        norm = (sq.astype(np.float64) @ l.gmat + beta).astype(np.int64)
        if np.any(norm > intops.MAX_ACCUMULATOR):
            raise OverflowError(f"{l.name}: norm outside int32")
        k, mq, r = intops.rsqrt_q30(norm)
        if l.op == "igdn":
            v = intops.mul_shift(intops.rounding_shift_right(xs * intops.sqrt_q30(mq, r), 15),
                                 l.mult, l.shift - k)
        else:
            v = intops.mul_shift(intops.rounding_shift_right(xs * r, 15), l.mult,
                                 l.shift + k)
        out[p0:p0 + step] = intops.clamp(v, l.out_lo, l.out_hi)
    return out.reshape(h, w, c)


def run_layer(x: np.ndarray, l: Layer) -> np.ndarray:
    if l.op == "conv":
        return _conv(x, l)
    if l.op in ("gdn", "igdn"):
        return _normalize(x, l)
    return intops.depth_to_space(x)


def run_network(net: Network, x: np.ndarray,
                layers: Optional[dict] = None) -> np.ndarray:
    """Runs every layer of `net` on HWC int x; records outputs in `layers`."""
    if x.shape[-1] != net.in_channels:
        raise ValueError(f"{net.name}: input has {x.shape[-1]} channels, "
                         f"expected {net.in_channels}")
    for l in net.layers:
        x = run_layer(x, l)
        if layers is not None:
            layers[l.name] = x
    return x


# --------------------------------------------------------------------------
# Codec steps (codec/enc_encoder.cpp, codec/dec_decoder.cpp)
# --------------------------------------------------------------------------

def geometry(model: IntModel, width: int, height: int) -> dict:
    """Padded size and latent sizes of docs/bitstream-format.md."""
    if not (1 <= width <= 1 << 20 and 1 <= height <= 1 << 20):
        raise ValueError(f"image size {width}x{height} is out of range")
    p = model.pad_multiple
    pw, ph = -(-width // p) * p, -(-height // p) * p
    gd = model.nets["g_a"].down
    hd = model.nets["h_a"].down
    return {"padded_width": pw, "padded_height": ph,
            "y_width": pw // gd, "y_height": ph // gd,
            "z_width": pw // (gd * hd), "z_height": ph // (gd * hd)}


def pad_image(rgb: np.ndarray, padded_width: int, padded_height: int) -> np.ndarray:
    """Pads right and bottom by repeating the last column and row."""
    h, w, _ = rgb.shape
    return np.pad(rgb, ((0, padded_height - h), (0, padded_width - w), (0, 0)),
                  mode="edge")


def _gains(model: IntModel, qf: int, inverse: bool) -> np.ndarray:
    return intops.interpolate_gains(model.inv_gain if inverse else model.gain, int(qf))


def hyper_synthesis(model: IntModel, z_sym: np.ndarray,
                    layers: Optional[dict] = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """h_s on z symbols (clamped to ±z_max here) → (μ, σ, scale index)."""
    zc = intops.clamp(np.asarray(z_sym, np.int64), -model.z_max, model.z_max)
    params = run_network(model.nets["h_s"], zc.astype(np.int16), layers)
    M = model.M
    mu = params[..., :M]
    sigma = params[..., M:]
    # idx = #{j : σ >= T[j]}
    idx = np.searchsorted(model.thresholds, sigma.astype(np.int64), side="right")
    return mu, sigma, idx.astype(np.uint16)


def encode_symbols(model: Union[IntModel, str, os.PathLike], rgb: np.ndarray, qf: int,
                   layers: Optional[dict] = None) -> dict:
    """The encoder up to the range coder.

    rgb: H×W×3 uint8. qf: quality in Q8, 0..256·(levels − 1).
    Returns z_sym (z_h×z_w×N int32, unclamped, as coded), y_sym (y_h×y_w×M
    int32), y_idx (uint16, the table of each y symbol), mu, sigma (int16),
    y, y_g, z (int16), width, height, qf, geometry. `layers`, if given, is
    filled with every layer's output (int16 HWC) under the C++ trace names.
    """
    model = _as_model(model)
    rgb = np.asarray(rgb)
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError("rgb must be an H×W×3 uint8 array")
    height, width = rgb.shape[:2]
    g = geometry(model, width, height)
    gains = _gains(model, qf, inverse=False)
    x = pad_image(rgb, g["padded_width"], g["padded_height"]).astype(np.int16)
    y = run_network(model.nets["g_a"], x, layers)
    y_g = intops.apply_gain(y, gains, model.gain_shift, model.yg_lo, model.yg_hi)
    if layers is not None:
        layers["gain"] = y_g
    z = run_network(model.nets["h_a"], y_g, layers)
    z_sym = intops.rounding_shift_right(z.astype(np.int64), model.f_z)
    mu, sigma, idx = hyper_synthesis(model, z_sym, layers)
    if mu.shape[:2] != y_g.shape[:2]:
        raise ValueError("model: h_s output size does not match the latent")
    y_sym = intops.rounding_shift_right(y_g.astype(np.int64) - mu, model.f_y)
    return {"z_sym": z_sym.astype(np.int32), "y_sym": y_sym.astype(np.int32),
            "y_idx": idx, "mu": mu, "sigma": sigma, "y": y, "y_g": y_g, "z": z,
            "width": width, "height": height, "qf": int(qf), "geometry": g}


def decode_symbols(model: Union[IntModel, str, os.PathLike], z_sym: np.ndarray,
                   y_sym: np.ndarray, qf: int, width: int, height: int,
                   layers: Optional[dict] = None) -> np.ndarray:
    """The decoder after the range decoder: symbols → H×W×3 uint8 image.

    ŷ_g = Clamp(sym·2^f_y + μ, yg_lo, yg_hi); inverse gain; g_s; pixel =
    Clamp(RoundingShiftRight(v, pixel_frac_bits), 0, 255); crop to W×H.
    `layers` also receives y_hat_g (ŷ_g) and y_idx.
    """
    model = _as_model(model)
    g = geometry(model, width, height)
    z_sym = np.asarray(z_sym, np.int64)
    y_sym = np.asarray(y_sym, np.int64)
    if z_sym.shape != (g["z_height"], g["z_width"], model.N):
        raise ValueError(f"z symbols have shape {z_sym.shape}, expected "
                         f"{(g['z_height'], g['z_width'], model.N)}")
    if y_sym.shape != (g["y_height"], g["y_width"], model.M):
        raise ValueError(f"y symbols have shape {y_sym.shape}, expected "
                         f"{(g['y_height'], g['y_width'], model.M)}")
    inv_gains = _gains(model, qf, inverse=True)
    mu, _, idx = hyper_synthesis(model, z_sym, layers)
    if mu.shape != y_sym.shape:
        raise ValueError("model: h_s output size does not match the latent")
    y_hat_g = intops.clamp(y_sym * (1 << model.f_y) + mu, model.yg_lo,
                           model.yg_hi).astype(np.int16)
    y_hat = intops.apply_gain(y_hat_g, inv_gains, model.inv_gain_shift, model.gs_in_lo,
                              model.gs_in_hi)
    if layers is not None:
        layers["y_idx"] = idx
        layers["y_hat_g"] = y_hat_g
        layers["inv_gain"] = y_hat
    x = run_network(model.nets["g_s"], y_hat, layers)
    if x.shape != (g["padded_height"], g["padded_width"], 3):
        raise ValueError("model: g_s output size does not match the image")
    pixels = intops.clamp(intops.rounding_shift_right(x[:height, :width].astype(np.int64),
                                                      model.pixel_frac_bits), 0, 255)
    return pixels.astype(np.uint8)


def roundtrip(model: Union[IntModel, str, os.PathLike], rgb: np.ndarray,
              qf: int) -> tuple[dict, np.ndarray]:
    """encode_symbols then decode_symbols (what a lossless range coder gives)."""
    model = _as_model(model)
    enc = encode_symbols(model, rgb, qf)
    dec = decode_symbols(model, enc["z_sym"], enc["y_sym"], qf, enc["width"],
                         enc["height"])
    return enc, dec


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """PSNR in dB of two uint8 images (metrics only; not codec semantics)."""
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10.0 * np.log10(255.0 ** 2 / mse)


if __name__ == "__main__":
    import argparse
    import time

    ap = argparse.ArgumentParser(description="integer reference round trip of an image")
    ap.add_argument("model")
    ap.add_argument("image")
    ap.add_argument("--qf", type=int, default=0)
    args = ap.parse_args()
    from PIL import Image
    with Image.open(args.image) as im:
        img = np.asarray(im.convert("RGB"), dtype=np.uint8)
    t0 = time.time()
    mdl = load_model(args.model)
    enc_, dec_ = roundtrip(mdl, img, args.qf)
    print(f"{args.image}: {img.shape[1]}x{img.shape[0]} qf={args.qf} "
          f"PSNR {psnr(img, dec_):.2f} dB, |y_sym| max {np.abs(enc_['y_sym']).max()}, "
          f"{time.time() - t0:.1f} s")
