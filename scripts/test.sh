#!/usr/bin/env bash
# Installs dependencies, builds fxic twice (Release, and Debug with
# AddressSanitizer + UBSan) and runs every test: the C++ suite in both builds,
# `fxic verify` with Clang and on s390x, a fuzzing smoke run, and the Python
# integer-reference suite.
set -euo pipefail
cd "$(dirname "$0")/.."
# python3-torch: the Python suite checks the training-side simulation too.
scripts/deps.sh python3-numpy python3-pil python3-torch
jobs=$(nproc)
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$jobs"
(cd build && ctest --output-on-failure -j"$jobs")
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DFXIC_SANITIZE=ON >/dev/null
cmake --build build-asan -j"$jobs"
(cd build-asan && ctest --output-on-failure -j"$jobs")
# fxic verify (conformance suite) built by Clang and on big-endian s390x under
# qemu-user; all platforms: scripts/cross/run.sh (docs/verify.md).
JOBS="$jobs" NICE=0 scripts/cross/run.sh --install clang-O3 s390x
# A short smoke run of the libFuzzer targets (decoding, model loading).
JOBS="$jobs" NICE=0 fuzz/run.sh --install 20
/usr/bin/python3 -m unittest discover -s models/tests -t models
echo "all tests passed"
