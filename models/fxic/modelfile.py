"""Reader and writer of fxic model files, format version 1 (docs/model-format.md).

The writer is the only producer of model files. Content is laid out
deterministically (metadata keys and tensor names sorted), so the same
metadata and tensors always give the same bytes and the same model id.
The reader validates every field it reads and raises ModelFormatError (a
ValueError) with a one-line message naming the field.
"""
from __future__ import annotations

import hashlib
import os
import re
import struct
import tempfile
import zlib
from typing import Union

import numpy as np

MAGIC = b"FXICMODL"
VERSION = 1
HEADER_SIZE = 32
MAX_ENTRIES = 4096          # n_kv and n_tensors limits
MAX_STRING_BYTES = 65536
MAX_RANK = 4
ALIGN = 16
MODEL_ID_BYTES = 8

TYPE_I64 = 1
TYPE_STR = 2

# dtype code <-> numpy dtype (stored little-endian).
DTYPES = {
    1: np.dtype("<i1"),
    2: np.dtype("<u1"),
    3: np.dtype("<i2"),
    4: np.dtype("<i4"),
    5: np.dtype("<u4"),
}
DTYPE_NAMES = {1: "i8", 2: "u8", 3: "i16", 4: "i32", 5: "u32"}
_CODE_OF_KIND = {(dt.kind, dt.itemsize): code for code, dt in DTYPES.items()}

_NAME_RE = re.compile(r"^[A-Za-z0-9_.]{1,255}$")
_I64_MIN, _I64_MAX = -(1 << 63), (1 << 63) - 1

MetaValue = Union[int, str]


class ModelFormatError(ValueError):
    """A model file (or the content given to the writer) breaks the format."""


def _check_name(what: str, name: str) -> bytes:
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise ModelFormatError(
            f"{what} {name!r}: must be 1..255 characters of [A-Za-z0-9_.]")
    return name.encode("ascii")


def _align(n: int) -> int:
    return (n + ALIGN - 1) // ALIGN * ALIGN


def _dtype_code(name: str, arr: np.ndarray) -> int:
    code = _CODE_OF_KIND.get((arr.dtype.kind, arr.dtype.itemsize))
    if code is None:
        raise ModelFormatError(
            f"tensor {name}: dtype {arr.dtype} is not one of i8/u8/i16/i32/u32")
    return code


def encode_model(meta: dict[str, MetaValue],
                 tensors: dict[str, np.ndarray]) -> tuple[bytes, bytes]:
    """Serializes a model; returns (file bytes, 8-byte model id)."""
    if len(meta) > MAX_ENTRIES:
        raise ModelFormatError(f"metadata: {len(meta)} entries > {MAX_ENTRIES}")
    if len(tensors) > MAX_ENTRIES:
        raise ModelFormatError(f"tensors: {len(tensors)} > {MAX_ENTRIES}")

    kv = bytearray()
    for key in sorted(meta):
        kb = _check_name("metadata key", key)
        value = meta[key]
        kv += struct.pack("<H", len(kb)) + kb
        if isinstance(value, (bool, np.bool_)):
            raise ModelFormatError(f"metadata {key}: bool is not a v1 type")
        if isinstance(value, (int, np.integer)):
            v = int(value)
            if not _I64_MIN <= v <= _I64_MAX:
                raise ModelFormatError(f"metadata {key}: {v} does not fit i64")
            kv += struct.pack("<Bq", TYPE_I64, v)
        elif isinstance(value, str):
            vb = value.encode("utf-8")
            if len(vb) > MAX_STRING_BYTES:
                raise ModelFormatError(
                    f"metadata {key}: string of {len(vb)} bytes > {MAX_STRING_BYTES}")
            kv += struct.pack("<BI", TYPE_STR, len(vb)) + vb
        else:
            raise ModelFormatError(
                f"metadata {key}: type {type(value).__name__} is not int or str")

    names = sorted(tensors)
    arrays = []
    for name in names:
        _check_name("tensor name", name)
        arr = np.asarray(tensors[name])
        code = _dtype_code(name, arr)
        if not 1 <= arr.ndim <= MAX_RANK:
            raise ModelFormatError(f"tensor {name}: rank {arr.ndim} not in 1..4")
        if any(d < 1 or d > 0xFFFFFFFF for d in arr.shape):
            raise ModelFormatError(f"tensor {name}: dims {arr.shape} must be 1..2^32-1")
        arrays.append((name, code, np.ascontiguousarray(arr, dtype=DTYPES[code])))

    directory = bytearray()
    offset = 0
    for name, code, arr in arrays:
        nb = name.encode("ascii")
        directory += struct.pack("<H", len(nb)) + nb
        directory += struct.pack("<BB", code, arr.ndim)
        directory += struct.pack(f"<{arr.ndim}I", *arr.shape)
        directory += struct.pack("<Q", offset)
        offset = _align(offset + arr.nbytes)

    body = bytearray(kv + directory)
    data_start = _align(HEADER_SIZE + len(body))
    body += bytes(data_start - HEADER_SIZE - len(body))
    for i, (name, code, arr) in enumerate(arrays):
        if i > 0:
            body += bytes(_align(len(body) + HEADER_SIZE) - HEADER_SIZE - len(body))
        body += arr.tobytes()

    model_id = hashlib.sha256(bytes(body)).digest()[:MODEL_ID_BYTES]
    header = MAGIC + struct.pack("<II", VERSION, HEADER_SIZE) + model_id
    header += struct.pack("<II", len(meta), len(arrays))
    assert len(header) == HEADER_SIZE
    content = header + bytes(body)
    return content + struct.pack("<I", zlib.crc32(content) & 0xFFFFFFFF), model_id


def write_model(path: Union[str, os.PathLike], meta: dict[str, MetaValue],
                tensors: dict[str, np.ndarray]) -> bytes:
    """Writes a model file atomically (temp file + os.replace); returns its id."""
    data, model_id = encode_model(meta, tensors)
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".fxm-", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return model_id


class _Cursor:
    """Bounds-checked little-endian reads from the region [pos, end)."""

    def __init__(self, buf: bytes, pos: int, end: int):
        self.buf, self.pos, self.end = buf, pos, end

    def take(self, n: int, what: str) -> bytes:
        if n < 0 or self.pos + n > self.end:
            raise ModelFormatError(f"{what}: runs past the end of the directory")
        out = self.buf[self.pos:self.pos + n]
        self.pos += n
        return out

    def unpack(self, fmt: str, what: str):
        return struct.unpack("<" + fmt, self.take(struct.calcsize("<" + fmt), what))


def _read_name(cur: _Cursor, what: str) -> str:
    (n,) = cur.unpack("H", what + " length")
    if not 1 <= n <= 255:
        raise ModelFormatError(f"{what}: length {n} not in 1..255")
    raw = cur.take(n, what)
    try:
        name = raw.decode("ascii")
    except UnicodeDecodeError:
        raise ModelFormatError(f"{what}: bytes outside [A-Za-z0-9_.]") from None
    if not _NAME_RE.match(name):
        raise ModelFormatError(f"{what} {name!r}: characters outside [A-Za-z0-9_.]")
    return name


def decode_model(buf: bytes) -> tuple[dict[str, MetaValue], dict[str, np.ndarray], bytes]:
    """Parses and validates model file bytes; returns (meta, tensors, model id)."""
    buf = bytes(buf)
    size = len(buf)
    if size < HEADER_SIZE + 4:
        raise ModelFormatError(f"file: {size} bytes is shorter than header + crc")
    if buf[:8] != MAGIC:
        raise ModelFormatError("magic: not an fxic model file (expected FXICMODL)")
    version, header_size = struct.unpack_from("<II", buf, 8)
    if version > VERSION:
        raise ModelFormatError(
            f"version: file has format version {version}, this reader knows {VERSION}")
    if version != VERSION:
        raise ModelFormatError(f"version: {version} is not a valid format version")
    if header_size != HEADER_SIZE:
        raise ModelFormatError(f"header size: {header_size} != {HEADER_SIZE}")
    (crc,) = struct.unpack_from("<I", buf, size - 4)
    actual_crc = zlib.crc32(buf[:size - 4]) & 0xFFFFFFFF
    if crc != actual_crc:
        raise ModelFormatError(
            f"crc32: stored {crc:08x}, computed {actual_crc:08x} (file corrupt or truncated)")
    model_id = buf[16:24]
    actual_id = hashlib.sha256(buf[HEADER_SIZE:size - 4]).digest()[:MODEL_ID_BYTES]
    if model_id != actual_id:
        raise ModelFormatError(
            f"model id: stored {model_id.hex()}, computed {actual_id.hex()}")
    n_kv, n_tensors = struct.unpack_from("<II", buf, 24)
    if n_kv > MAX_ENTRIES:
        raise ModelFormatError(f"n_kv: {n_kv} > {MAX_ENTRIES}")
    if n_tensors > MAX_ENTRIES:
        raise ModelFormatError(f"n_tensors: {n_tensors} > {MAX_ENTRIES}")

    payload_end = size - 4
    cur = _Cursor(buf, HEADER_SIZE, payload_end)
    meta: dict[str, MetaValue] = {}
    for i in range(n_kv):
        key = _read_name(cur, f"metadata entry {i} key")
        if key in meta:
            raise ModelFormatError(f"metadata {key}: duplicate key")
        (typ,) = cur.unpack("B", f"metadata {key} type")
        if typ == TYPE_I64:
            (meta[key],) = cur.unpack("q", f"metadata {key} value")
        elif typ == TYPE_STR:
            (n,) = cur.unpack("I", f"metadata {key} length")
            if n > MAX_STRING_BYTES:
                raise ModelFormatError(f"metadata {key}: string length {n} > {MAX_STRING_BYTES}")
            raw = cur.take(n, f"metadata {key} value")
            try:
                meta[key] = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise ModelFormatError(f"metadata {key}: string is not UTF-8") from None
        else:
            raise ModelFormatError(f"metadata {key}: unknown value type {typ}")

    entries = []
    seen = set()
    for i in range(n_tensors):
        name = _read_name(cur, f"tensor entry {i} name")
        if name in seen:
            raise ModelFormatError(f"tensor {name}: duplicate name")
        seen.add(name)
        code, rank = cur.unpack("BB", f"tensor {name} dtype/rank")
        if code not in DTYPES:
            raise ModelFormatError(f"tensor {name}: unknown dtype {code}")
        if not 1 <= rank <= MAX_RANK:
            raise ModelFormatError(f"tensor {name}: rank {rank} not in 1..4")
        dims = cur.unpack(f"{rank}I", f"tensor {name} dims")
        if min(dims) < 1:
            raise ModelFormatError(f"tensor {name}: dims {dims} must be >= 1")
        (offset,) = cur.unpack("Q", f"tensor {name} offset")
        if offset % ALIGN:
            raise ModelFormatError(f"tensor {name}: offset {offset} not a multiple of 16")
        entries.append((name, code, dims, offset))

    data_start = _align(cur.pos)
    if data_start > payload_end:
        raise ModelFormatError("data start: past the end of the file")
    if any(buf[cur.pos:data_start]):
        raise ModelFormatError("directory padding: not zero")

    tensors: dict[str, np.ndarray] = {}
    spans = []
    for name, code, dims, offset in entries:
        count = 1
        for d in dims:
            count *= d
        nbytes = count * DTYPES[code].itemsize
        start = data_start + offset
        if start + nbytes > payload_end:
            raise ModelFormatError(f"tensor {name}: data runs past the end of the file")
        spans.append((start, start + nbytes, name))
        arr = np.frombuffer(buf, dtype=DTYPES[code], count=count, offset=start)
        tensors[name] = arr.reshape(dims).astype(DTYPES[code].newbyteorder("="))
    spans.sort()
    for (s0, e0, n0), (s1, e1, n1) in zip(spans, spans[1:]):
        if s1 < e0:
            raise ModelFormatError(f"tensor {n1}: data overlaps tensor {n0}")
    return meta, tensors, model_id


def read_model(path: Union[str, os.PathLike]
               ) -> tuple[dict[str, MetaValue], dict[str, np.ndarray], bytes]:
    """Reads and validates a model file; returns (meta, tensors, model id)."""
    with open(path, "rb") as f:
        return decode_model(f.read())


def describe(path: Union[str, os.PathLike]) -> str:
    """A human-readable listing of a model file (metadata and tensor shapes)."""
    meta, tensors, model_id = read_model(path)
    lines = [f"model id {model_id.hex()}"]
    lines += [f"  {k} = {meta[k]!r}" for k in sorted(meta)]
    for name in sorted(tensors):
        t = tensors[name]
        lines.append(f"  {name}: {t.dtype} {list(t.shape)}")
    return "\n".join(lines)


if __name__ == "__main__":
    import sys
    for p in sys.argv[1:]:
        print(describe(p))
