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
# Under the sanitizers, four whole-suite checks of the verify tests are left
# out: the Release run above checks them, and they take most of the sanitized
# run's time (over 15 minutes of it on a 2-core AMD EPYC). The sanitized run
# keeps `fxic verify --corrupt` on the whole suite (every flip and truncation
# decoded) and all the smaller verify tests.
(cd build-asan && ctest --output-on-failure -j"$jobs" -E \
  'the conformance suite is bit-exact on this build|a damaged reference bitstream is reported|a reconstruction that differs from the record names the first layer|record on one machine, check on another')
# fxic verify (conformance suite) built by Clang and on big-endian s390x under
# qemu-user; all platforms: scripts/cross/run.sh (docs/verify.md).
JOBS="$jobs" NICE=0 scripts/cross/run.sh --install clang-O3 s390x
# A short smoke run of the libFuzzer targets (decoding, model loading).
JOBS="$jobs" NICE=0 fuzz/run.sh --install 20
/usr/bin/python3 -m unittest discover -s models/tests -t models
echo "all tests passed"
