#!/usr/bin/env bash
# Builds the libFuzzer targets (Clang, ASan + UBSan) in build-fuzz and runs
# each for a while on a scratch corpus (build-fuzz/corpus/<target>) seeded
# from fuzz/corpus/<target>, so the repository's corpus does not grow. Prints libFuzzer's exec counts; exits non-zero on any crash.
#
#   fuzz/run.sh [--install] [SECONDS] [TARGET...]  (default 60 s; targets: decode model)
#
# --install  apt-get install clang, its sanitizer/libFuzzer runtimes and libomp
# Environment: JOBS (default 2), NICE (default 15), BUILD_DIR (build-fuzz),
#   FUZZ_ARGS (extra libFuzzer flags, e.g. -jobs=2 -workers=2), CMAKE_ARGS
#   (extra configure flags, e.g. -DFXIC_SIMD=OFF to fuzz the scalar kernels).
# Crashes are kept as $BUILD_DIR/artifacts/<target>/crash-*; reproduce with
#   $BUILD_DIR/fuzz/fxic_<target>_fuzzer <crash file>
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = --install ]; then
  shift
  pkgs=()
  for p in cmake clang libclang-rt-14-dev libomp-dev zlib1g-dev; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || pkgs+=("$p")
  done
  if [ ${#pkgs[@]} -gt 0 ]; then
    sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${pkgs[@]}" >/dev/null
  fi
fi
seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(decode model)
JOBS=${JOBS:-2}
NICE=${NICE:-15}
BUILD_DIR=${BUILD_DIR:-build-fuzz}

mkdir -p "$BUILD_DIR"
# shellcheck disable=SC2086
nice -n "$NICE" cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DFXIC_BUILD_FUZZERS=ON -DFXIC_BUILD_TESTS=OFF ${CMAKE_ARGS:-} >"$BUILD_DIR/configure.log" 2>&1 ||
  { cat "$BUILD_DIR/configure.log"; exit 1; }
for t in "${targets[@]}"; do
  nice -n "$NICE" cmake --build "$BUILD_DIR" -j"$JOBS" --target "fxic_${t}_fuzzer" >/dev/null
done

failed=0
export OMP_NUM_THREADS=1
for t in "${targets[@]}"; do
  work=$BUILD_DIR/corpus/$t
  art=$BUILD_DIR/artifacts/$t
  mkdir -p "$work" "$art"
  seeds=(fuzz/corpus/"$t")
  log=$BUILD_DIR/$t.log
  echo "== fxic_${t}_fuzzer for ${seconds}s"
  rc=0
  # shellcheck disable=SC2086
  nice -n "$NICE" "$BUILD_DIR/fuzz/fxic_${t}_fuzzer" "$work" "${seeds[@]}" \
    -max_total_time="$seconds" -timeout=20 -rss_limit_mb=4096 -max_len=65536 \
    -artifact_prefix="$art/" -print_final_stats=1 ${FUZZ_ARGS:-} >"$log" 2>&1 || rc=$?
  runs=$(grep -o 'Done [0-9]* runs in [0-9]* second' "$log" | tail -1 || true)
  cov=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$log" | tail -1 || true)
  if [ "$rc" != 0 ]; then
    failed=1
    echo "   CRASH (exit $rc); see $log and $art"
    grep -m5 -E 'ERROR|SUMMARY|runtime error|abort' "$log" || true
  else
    echo "   ok: ${runs:-?}; ${cov:-?}; corpus $(find "$work" -type f | wc -l) files"
  fi
done
exit $failed
