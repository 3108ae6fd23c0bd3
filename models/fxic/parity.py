"""Parity between the Python integer reference (intref) and the C++ codec.

For each model and each Kodak crop in tests/data at two qualities, records
SHA-256 hashes of the z symbols, y symbols, scale indices (little-endian
int32 / uint16, HWC order) and the reconstruction (RGB bytes) into
tests/golden/parity_<model name>.txt. The C++ test (tests/codec/parity_test.cpp)
recomputes the same hashes with Encode()/Decode() and requires equality, so
the two implementations are pinned to each other through that file.

    cd models && /usr/bin/python3 -m fxic.parity ../models/synthetic-tiny.fxm --write
    cd models && /usr/bin/python3 -m fxic.parity ../models/synthetic-tiny.fxm   # check
"""
from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

import numpy as np

from .data import load_rgb
from .intref import decode_symbols, encode_symbols, load_model

REPO = Path(__file__).resolve().parents[2]
CROPS = ["kodim01_crop.png", "kodim08_crop.png", "kodim19_crop.png", "kodim23_crop.png"]


def _h(a: np.ndarray, dtype: str) -> str:
    return hashlib.sha256(np.ascontiguousarray(a, dtype=dtype).tobytes()).hexdigest()


def golden_path(model) -> Path:
    return REPO / "tests" / "golden" / f"parity_{model.meta['name']}.txt"


def compute(model_path: Path) -> tuple[object, list[str]]:
    model = load_model(model_path)
    levels = model.levels
    lines = []
    for crop in CROPS:
        rgb = load_rgb(REPO / "tests" / "data" / crop)
        for qf in (0, 256 * (levels - 1) // 2 + 128):
            enc = encode_symbols(model, rgb, qf)
            rec = decode_symbols(model, enc["z_sym"], enc["y_sym"], qf, enc["width"],
                                 enc["height"])
            lines.append(" ".join([crop, str(qf), _h(enc["z_sym"], "<i4"), _h(enc["y_sym"], "<i4"),
                                   _h(enc["y_idx"], "<u2"), _h(rec, "u1")]))
    return model, lines


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model", type=Path)
    ap.add_argument("--write", action="store_true", help="(re)write the golden file")
    args = ap.parse_args(argv)
    from .heap import keep_heap
    keep_heap()
    model, lines = compute(args.model)
    path = golden_path(model)
    text = f"# model {args.model.name} id {model.model_id.hex()}\n" + "\n".join(lines) + "\n"
    if args.write:
        path.write_text(text)
        print(f"wrote {path} ({len(lines)} vectors)")
        return 0
    if not path.exists() or path.read_text() != text:
        print(f"parity: {path} differs from the Python reference", file=sys.stderr)
        return 1
    print(f"parity: {len(lines)} vectors match {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
