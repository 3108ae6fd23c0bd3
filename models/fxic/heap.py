"""Heap settings for long PyTorch runs on glibc.

Every training step frees and re-allocates the same large activation and
gradient buffers. With glibc's defaults, blocks above the mmap threshold
(which never exceeds 32 MiB) are mapped for each allocation and unmapped when
freed, and the top of the heap is given back after frees, so each step
faults in and zeroes hundreds of megabytes of fresh pages. `perf` on a
stage-1 run (4×256² crops, 2 threads) put about 40 % of its CPU time in the
kernel, mostly page faults and unmapping.

keep_heap() turns both off (mallopt: no mmapped chunks, no trimming), so
freed buffers are reused from the heap. The arithmetic is untouched: results
are bit for bit the same, only faster (bench/train_malloc.py measures it).
Set FXIC_MALLOC=default to keep glibc's defaults.
"""
from __future__ import annotations

import ctypes
import os

M_TRIM_THRESHOLD = -1
M_TOP_PAD = -2
M_MMAP_MAX = -4


def keep_heap() -> bool:
    """Applies the settings; False if not glibc or FXIC_MALLOC=default."""
    if os.environ.get("FXIC_MALLOC", "") == "default":
        return False
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return bool(mallopt(M_MMAP_MAX, 0)
                and mallopt(M_TRIM_THRESHOLD, 2**31 - 1)
                and mallopt(M_TOP_PAD, 64 << 20))
