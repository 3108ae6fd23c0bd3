#!/usr/bin/env bash
# Installs dependencies, builds fxic twice (Release, and Debug with
# AddressSanitizer + UBSan) and runs every test: the C++ suite in both builds
# and the Python integer-reference suite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
jobs=$(nproc)
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$jobs"
(cd build && ctest --output-on-failure -j"$jobs")
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DFXIC_SANITIZE=ON >/dev/null
cmake --build build-asan -j"$jobs"
(cd build-asan && ctest --output-on-failure -j"$jobs")
/usr/bin/python3 -m unittest discover -s models/tests -t models
echo "all tests passed"
