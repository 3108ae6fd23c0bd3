#!/usr/bin/env bash
# Installs dependencies, builds fxic, and round-trips the sample image:
# prints its size, bpp and PSNR.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" --target fxic >/dev/null
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
build/apps/fxic info | head -3
build/apps/fxic encode tests/data/kodim23_crop.png -o "$out/sample.fxic" -q 4
build/apps/fxic decode "$out/sample.fxic" -o "$out/sample.png"
build/apps/fxic compare tests/data/kodim23_crop.png "$out/sample.png"
