"""Tests of fxic.modelfile (format v1) and fxic.cdf (integer CDF tables)."""
from __future__ import annotations

import hashlib
import math
import os
import struct
import tempfile
import unittest
import zlib
from statistics import NormalDist

import numpy as np

from fxic import cdf
from fxic.modelfile import (ModelFormatError, decode_model, encode_model,
                            read_model, write_model)


def sample_content():
    meta = {"arch": "mean_scale_hyperprior", "N": 8, "neg": -(1 << 40),
            "text": "σ ünïcode", "g_a.0.op": "conv", "empty": ""}
    tensors = {
        "a.i8": np.arange(-5, 7, dtype=np.int8).reshape(3, 4),
        "b.u8": np.array([0, 255, 7], dtype=np.uint8),
        "c.i16": np.arange(24, dtype=np.int16).reshape(2, 3, 2, 2) - 12,
        "d.i32": np.array([-(1 << 31), (1 << 31) - 1], dtype=np.int32),
        "e.u32": np.array([[0xFFFFFFFF], [1]], dtype=np.uint32),
    }
    return meta, tensors


def refresh(buf: bytearray) -> bytearray:
    """Recomputes the model id and the crc after an edit of the body."""
    buf[16:24] = hashlib.sha256(bytes(buf[32:-4])).digest()[:8]
    buf[-4:] = struct.pack("<I", zlib.crc32(bytes(buf[:-4])) & 0xFFFFFFFF)
    return buf


class ModelFileTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.path = os.path.join(self.tmp.name, "m.fxm")

    def tearDown(self):
        self.tmp.cleanup()

    def test_round_trip(self):
        meta, tensors = sample_content()
        model_id = write_model(self.path, meta, tensors)
        meta2, tensors2, id2 = read_model(self.path)
        self.assertEqual(model_id, id2)
        self.assertEqual(meta, meta2)
        self.assertEqual(sorted(tensors), sorted(tensors2))
        for k in tensors:
            self.assertEqual(tensors[k].dtype, tensors2[k].dtype, k)
            np.testing.assert_array_equal(tensors[k], tensors2[k])
        self.assertEqual(os.listdir(self.tmp.name), ["m.fxm"])  # no temp left

    def test_layout(self):
        meta, tensors = sample_content()
        data, model_id = encode_model(meta, tensors)
        self.assertEqual(data[:8], b"FXICMODL")
        self.assertEqual(struct.unpack_from("<IIQ", data, 8)[:2], (1, 32))
        self.assertEqual(data[16:24], model_id)
        self.assertEqual(model_id, hashlib.sha256(data[32:-4]).digest()[:8])
        self.assertEqual(struct.unpack_from("<II", data, 24), (len(meta), len(tensors)))
        self.assertEqual(struct.unpack_from("<I", data, len(data) - 4)[0],
                         zlib.crc32(data[:-4]))
        # The first key in sorted order is "N" (i64 8).
        self.assertEqual(struct.unpack_from("<H", data, 32)[0], 1)
        self.assertEqual(data[34:35], b"N")
        self.assertEqual(struct.unpack_from("<Bq", data, 35), (1, 8))

    def test_deterministic_bytes(self):
        meta, tensors = sample_content()
        a, _ = encode_model(meta, tensors)
        b, _ = encode_model(dict(reversed(list(meta.items()))),
                            dict(reversed(list(tensors.items()))))
        self.assertEqual(a, b)
        write_model(self.path, meta, tensors)
        with open(self.path, "rb") as f:
            self.assertEqual(f.read(), a)

    def test_every_flipped_byte_is_rejected(self):
        meta, tensors = sample_content()
        data, _ = encode_model(meta, tensors)
        for i in range(0, len(data), 7):
            bad = bytearray(data)
            bad[i] ^= 0x10
            with self.assertRaises(ModelFormatError, msg=f"byte {i}"):
                decode_model(bytes(bad))

    def test_crc_and_id(self):
        data, _ = encode_model(*sample_content())
        bad = bytearray(data)
        bad[40] ^= 1
        with self.assertRaisesRegex(ModelFormatError, "crc32"):
            decode_model(bytes(bad))
        # A correct crc over a changed body still fails the model id.
        bad[-4:] = struct.pack("<I", zlib.crc32(bytes(bad[:-4])))
        with self.assertRaisesRegex(ModelFormatError, "model id"):
            decode_model(bytes(bad))

    def test_magic_version_truncation(self):
        data, _ = encode_model(*sample_content())
        bad = bytearray(data)
        bad[0:8] = b"FXICMODX"
        with self.assertRaisesRegex(ModelFormatError, "magic"):
            decode_model(bytes(bad))
        newer = bytearray(data)
        newer[8:12] = struct.pack("<I", 2)
        with self.assertRaisesRegex(ModelFormatError, "newer|version 2"):
            decode_model(bytes(refresh(newer)))
        for n in (0, 10, 35, len(data) // 2, len(data) - 1):
            with self.assertRaises(ModelFormatError, msg=f"{n} bytes"):
                decode_model(data[:n])
        with self.assertRaises(ModelFormatError):
            decode_model(data + b"\0")

    def test_directory_checks(self):
        meta = {"k": 1}
        tensors = {"a": np.zeros(20, np.uint8), "b": np.ones(4, np.int32)}
        data, _ = encode_model(meta, tensors)
        # Directory entry of "b": after "a"'s entry (2+1+1+1+4+8 = 17 bytes).
        kv = 2 + 1 + 1 + 8
        b_entry = 32 + kv + 17
        off_pos = b_entry + 2 + 1 + 1 + 1 + 4
        self.assertEqual(struct.unpack_from("<Q", data, off_pos)[0], 32)
        overlap = bytearray(data)
        struct.pack_into("<Q", overlap, off_pos, 16)
        with self.assertRaisesRegex(ModelFormatError, "overlaps"):
            decode_model(bytes(refresh(overlap)))
        unaligned = bytearray(data)
        struct.pack_into("<Q", unaligned, off_pos, 33)
        with self.assertRaisesRegex(ModelFormatError, "multiple of 16"):
            decode_model(bytes(refresh(unaligned)))
        past = bytearray(data)
        struct.pack_into("<Q", past, off_pos, 1 << 20)
        with self.assertRaisesRegex(ModelFormatError, "past the end"):
            decode_model(bytes(refresh(past)))
        dtype = bytearray(data)
        dtype[b_entry + 3] = 9
        with self.assertRaisesRegex(ModelFormatError, "dtype"):
            decode_model(bytes(refresh(dtype)))
        count = bytearray(data)
        struct.pack_into("<I", count, 24, 5000)
        with self.assertRaisesRegex(ModelFormatError, "n_kv"):
            decode_model(bytes(refresh(count)))

    def test_writer_validates(self):
        ok = {"a": np.zeros(1, np.int8)}
        for meta in ({"bad-key": 1}, {"": 1}, {"x" * 256: 1}, {"b": True},
                     {"f": 1.5}, {"s": "x" * 65537}, {"big": 1 << 63}):
            with self.assertRaises(ModelFormatError, msg=repr(meta)[:40]):
                encode_model(meta, ok)
        for tensors in ({"a": np.zeros(1, np.float32)}, {"a": np.zeros(1, np.int64)},
                        {"a": np.zeros((1,) * 5, np.int8)}, {"a": np.zeros(0, np.int8)},
                        {"a b": np.zeros(1, np.int8)}, {"a": np.array(3, np.int8)}):
            with self.assertRaises(ModelFormatError):
                encode_model({}, tensors)
        with self.assertRaises(ModelFormatError):
            write_model(self.path, {"bad key": 1}, ok)
        self.assertFalse(os.path.exists(self.path))
        self.assertEqual(os.listdir(self.tmp.name), [])

    def test_empty_model(self):
        data, _ = encode_model({}, {})
        self.assertEqual(decode_model(data)[:2], ({}, {}))


class CdfTest(unittest.TestCase):
    def assert_valid(self, c, n=None):
        cdf.validate_cdf(c)
        self.assertEqual(c.dtype, np.uint32)
        if n is not None:
            self.assertEqual(c.size, n + 1)

    def test_random_pmfs(self):
        rng = np.random.default_rng(7)
        for size in (1, 2, 3, 10, 100, 1000, 65535):
            for _ in range(3):
                p = rng.exponential(size=size) ** rng.uniform(0.5, 8)
                p /= p.sum() * rng.uniform(1.0, 1.5)
                c = cdf.pmf_to_cdf(p)
                self.assert_valid(c, size + 1)
                # Quantization error per symbol stays below ~n counts.
                freq = np.diff(c.astype(np.int64))
                ideal = np.append(p, max(0.0, 1 - p.sum())) / max(1.0, p.sum()) * 65536
                self.assertLess(np.abs(freq - ideal).max(), size + 2)

    def test_deterministic(self):
        p = np.random.default_rng(3).random(300)
        np.testing.assert_array_equal(cdf.pmf_to_cdf(p / p.sum()), cdf.pmf_to_cdf(p / p.sum()))

    def test_one_symbol_plus_escape(self):
        c = cdf.pmf_to_cdf([1.0])
        self.assert_valid(c, 2)
        self.assertEqual(c.tolist(), [0, 65535, 65536])
        self.assertEqual(cdf.pmf_to_cdf([0.0]).tolist(), [0, 1, 65536])
        self.assertEqual(cdf.pmf_to_cdf([0.5], tail_mass=0.5).tolist(), [0, 32768, 65536])

    def test_degenerate_inputs(self):
        self.assert_valid(cdf.pmf_to_cdf(np.zeros(5)), 6)        # all mass nowhere
        self.assert_valid(cdf.pmf_to_cdf(np.full(65535, 1e-300)), 65536)
        with self.assertRaises(ValueError):
            cdf.pmf_to_cdf(np.full(65536, 1.0))                 # 65537 symbols
        with self.assertRaises(ValueError):
            cdf.pmf_to_cdf([0.5, -0.1])
        with self.assertRaises(ValueError):
            cdf.pmf_to_cdf([math.nan])

    def test_gaussian_tables(self):
        scales = np.concatenate([[1e-4, 1e-2], cdf.scale_table(), [5000.0]])
        lengths, offsets, data = cdf.gaussian_tables(scales)
        cdf.validate_tables(lengths, offsets, data)
        self.assertEqual((lengths.dtype, offsets.dtype, data.dtype),
                         (np.dtype(np.uint32), np.dtype(np.int32), np.dtype(np.uint32)))
        np.testing.assert_array_equal(lengths, 2 * -offsets.astype(np.int64) + 2)
        self.assertEqual(lengths[0], 4)                  # R = 1 at tiny scales
        q = -NormalDist().inv_cdf(0.5e-9)                 # about 6.1094
        self.assertEqual(-offsets[-1], math.ceil(5000 * q))
        start = 0
        for n, o in zip(lengths.tolist(), offsets.tolist()):
            c = data[start:start + n + 1].astype(np.int64)
            freq = np.diff(c)
            # Symmetric around value 0 (symbol −o) up to the fix-up's ±1,
            # the centre the most likely.
            self.assertLessEqual(np.abs(freq[:n - 1] - freq[:n - 1][::-1]).max(), 1)
            self.assertGreaterEqual(freq[-o], freq.max() - 1)
            start += n + 1
        # Tiny σ: nearly all mass on 0, the rest at the minimum frequency 1.
        self.assertEqual(np.diff(data[:5].astype(np.int64)).tolist(), [1, 65533, 1, 1])

    def test_gaussian_pmf_sums_to_one(self):
        for sigma in (0.11, 1.0, 37.5, 256.0):
            pmf, tail = cdf.gaussian_pmf(sigma, max(1, math.ceil(sigma * 6.1)))
            self.assertAlmostEqual(pmf.sum() + tail, 1.0, places=12)
            self.assertLess(tail, 2e-9)

    def test_scale_table_and_thresholds(self):
        s = cdf.scale_table(64, 0.11, 256)
        self.assertEqual(s.size, 64)
        self.assertAlmostEqual(s[0], 0.11)
        self.assertAlmostEqual(s[-1], 256.0)
        t = cdf.scale_thresholds(s, 7)
        self.assertEqual(t.dtype, np.int32)
        self.assertEqual(t.size, 63)
        self.assertTrue(np.all(np.diff(t) > 0))
        # idx = #{j : σ >= T[j]} picks the log-nearest scale.
        for j in (0, 10, 62):
            mid = math.sqrt(s[j] * s[j + 1]) * 128
            self.assertEqual(t[j], math.ceil(mid))
            idx_at = int(np.searchsorted(t, t[j], side="right"))
            self.assertEqual(idx_at, j + 1)
            self.assertEqual(int(np.searchsorted(t, t[j] - 1, side="right")), j)
        with self.assertRaises(ValueError):
            cdf.scale_thresholds(s, 3)               # collisions at low precision
        with self.assertRaises(ValueError):
            cdf.scale_thresholds([2.0, 1.0], 8)

    def test_factorized_tables(self):
        pmfs = [np.array([0.2, 0.5, 0.3]), np.array([1.0]), np.array([0.1] * 5)]
        lengths, offsets, data = cdf.factorized_tables(pmfs, [-1, 0, -2])
        cdf.validate_tables(lengths, offsets, data)
        self.assertEqual(lengths.tolist(), [4, 2, 6])
        self.assertEqual(offsets.tolist(), [-1, 0, -2])
        self.assertEqual(data.size, 5 + 3 + 7)
        with self.assertRaises(ValueError):
            cdf.factorized_tables(pmfs, [0, 0])


if __name__ == "__main__":
    unittest.main()
